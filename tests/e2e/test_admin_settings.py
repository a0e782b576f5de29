"""App Home and the Settings modal through the fake Slack: admins vs agents, inline errors,
saved settings enforced on the next verification, crafted requests refused and audited."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pytest
from sqlalchemy import select

from slack_emulator import SlackEmulator, find_button_labels, message_text
from slack_emulator.records import StoredView
from storage.models import AuditEvent, WorkspacePolicy
from tests.fakes.psa.connectwise import running_fake_connectwise
from tests.support import queries
from tests.support.bot import AGENT, OTHER_AGENT, SUPERVISORS, BotFactory, RunningBot, new_emulator

ADMIN = "U0ADMIN001"
HELPDESK = "S0HELPDSK1"
CODE_BOX = "Code the caller reads back"


@pytest.fixture
def emulator() -> SlackEmulator:
    """The default workspace, plus an admin and a user group."""
    emulator = new_emulator()
    emulator.add_user(ADMIN, "ada", real_name="Ada Admin", is_admin=True)
    emulator.add_usergroup(HELPDESK, "helpdesk", [OTHER_AGENT], name="Help desk")
    return emulator


async def home_of(bot: RunningBot, user: str) -> StoredView:
    before = bot.emulator.home_view(user)
    before_hash = before.hash if before else None
    await bot.driver.open_home(user)

    def redrawn() -> StoredView | None:
        view = bot.emulator.home_view(user)
        return view if view is not None and view.hash != before_hash else None

    return await bot.driver.wait_for(redrawn)


async def open_settings(bot: RunningBot, user: str = ADMIN) -> StoredView:
    home = await home_of(bot, user)
    await bot.driver.click(user, home, "Settings")
    return await bot.driver.wait_for(
        lambda: top_view(bot, user, lambda view: view.callback_id == "workspace_settings")
    )


def top_view(
    bot: RunningBot, user: str, matches: Callable[[StoredView], bool]
) -> StoredView | None:
    """The view on top of `user`'s modal stack, if it `matches`."""
    stack = bot.emulator.open_views(user)
    return stack[-1] if stack and matches(stack[-1]) else None


async def audit(bot: RunningBot, kind: str) -> list[AuditEvent]:
    async with bot.runtime.db.transaction() as session:
        return [e for e in await queries.list_audit_events(session=session) if e.kind == kind]


async def saved_policy(bot: RunningBot) -> WorkspacePolicy | None:
    async with bot.runtime.db.transaction() as session:
        return (await session.scalars(select(WorkspacePolicy))).first()


def fake_copy_to(bot: RunningBot, view: StoredView, user: str, *, home: bool) -> StoredView:
    """Put a view someone else was shown on `user`'s screen: what a crafted request carries."""
    copy = bot.emulator.store_view(user, dict(view.payload))
    if home:
        bot.emulator.set_home_view(user, copy)
    else:
        bot.emulator.set_modal_stack(user, [copy])
    return copy


async def test_home_for_an_agent_shows_their_recent_verifications_only(
    running_bot: BotFactory,
) -> None:
    async with running_bot() as bot:
        card = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent")
        await bot.driver.click(AGENT, card, "Incomplete")
        await bot.wait_text(card, "Closed as Incomplete")
        home = await home_of(bot, AGENT)
        text = message_text(home)
        assert "Your recent verifications" in text
        assert "Jane Doe" in text and "Globex" in text and "Incomplete" in text
        assert "Policy for this workspace" not in text and "Warnings" not in text
        assert find_button_labels(home) == []
        other = message_text(await home_of(bot, OTHER_AGENT))
        assert "Jane Doe" not in other and "None yet" in other


async def test_home_for_an_admin_shows_policy_buttons_and_warnings(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        home = await home_of(bot, ADMIN)
        text = message_text(home)
        assert "Policy for this workspace" in text
        assert "*Code length*\n6 digits" in text and "*Code lifetime*\n10 min" in text
        assert find_button_labels(home) == ["Edit PIN templates", "Settings", "Download audit log"]
        assert "Supervisors" in text and "Open now: 0" in text  # admins supervise too
        assert "Everyone in the workspace may verify callers" in text
        assert "Codes are written into ticket notes" in text
        assert "Codes are shown to agents" not in text
        assert "Your recent verifications" in text


async def test_settings_refuses_invalid_values_inline_per_field(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        modal = await open_settings(bot)
        await bot.driver.submit_view(
            ADMIN,
            modal.id,
            {
                "Code length (digits)": "12",
                "Code lifetime (minutes)": "0",
                "Wrong checks before lock": "11",
                "SMS allowed countries": "US, XX",
            },
        )
        errors = modal.errors or {}
        assert set(errors) == {
            "set_code_length",
            "set_code_ttl_minutes",
            "set_max_attempts",
            "set_sms_allowed_countries",
        }
        assert "from 6 to 10" in errors["set_code_length"]
        assert "from 1 to 30" in errors["set_code_ttl_minutes"]
        assert "from 1 to 10" in errors["set_max_attempts"]
        assert "XX" in errors["set_sms_allowed_countries"]
        assert bot.emulator.open_views(ADMIN) == [modal]  # still open, nothing saved
        assert await saved_policy(bot) is None
        assert await audit(bot, "setting_changed") == []


async def test_settings_prefilled_saved_audited_announced_and_enforced(
    running_bot: BotFactory,
) -> None:
    async with running_bot() as bot:
        modal = await open_settings(bot)
        values = {
            block["block_id"]: block["element"]
            for block in modal.blocks
            if block["type"] == "input"
        }
        assert values["set_code_length"]["initial_value"] == "6"
        assert values["set_code_ttl_minutes"]["initial_value"] == "10"
        assert values["set_supervisor_channel"]["initial_conversation"] == SUPERVISORS
        assert values["set_show_code_to_agent"]["initial_option"]["value"] == "off"
        assert [o["value"] for o in values["set_agent_usergroup"]["options"]] == [
            "everyone",
            HELPDESK,
        ]
        assert [o["value"] for o in values["set_sms_provider"]["options"]] == ["console"]

        await bot.driver.submit_view(
            ADMIN,
            modal.id,
            {
                "Code length (digits)": "8",
                "Code lifetime (minutes)": "2",
                "Show the code to the agent": "On",
                "SMS allowed countries": "us, ca",
            },
        )
        assert modal.errors is None
        assert bot.emulator.open_views(ADMIN) == []

        changed = {
            e.detail["setting"]: (e.detail["old"], e.detail["new"], e.actor_user_id)
            for e in await audit(bot, "setting_changed")
        }
        assert changed == {
            "code_length": (6, 8, ADMIN),
            "code_ttl_seconds": (600, 120, ADMIN),
            "show_code_to_agent": (False, True, ADMIN),
            "sms_allowed_countries": (["US"], ["US", "CA"], ADMIN),
        }
        saved = await saved_policy(bot)
        assert saved is not None and saved.updated_by == ADMIN
        # Untouched settings stay unset: they keep following the environment's defaults.
        assert saved.max_attempts is None and saved.require_ticket is None

        post = await bot.settings_reply("changed PIN Verify settings")
        announcement = message_text(post)
        assert f"<@{ADMIN}> changed PIN Verify settings" in announcement
        # Apart from verifications: only the thread's first message is in the channel.
        assert [message_text(p)[:30] for p in bot.supervisor_posts()] == [
            "⚙️ *PIN Verify settings change"
        ]
        assert "*Code length*: 6 digits → 8 digits" in announcement
        assert "*Code lifetime*: 10 min → 2 min" in announcement
        assert "*Show the code to the agent*: off → on" in announcement

        # The admin's Home is redrawn with the new policy and its new warning.
        home = await bot.driver.wait_for(
            lambda: (
                view
                if (view := bot.emulator.home_view(ADMIN))
                and "Codes are shown to agents" in message_text(view)
                else None
            )
        )
        assert "*Code length*\n8 digits" in message_text(home)

        # Enforced on the next verification: 8 digits, shown on the agent's DM card only,
        # expired after 2 minutes.
        card = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "Code #1 sent")
        (code,) = await bot.console_codes()
        assert re.fullmatch(r"\d{8}", code)
        await bot.wait_text(card, f"The code sent is {code}")
        assert card.channel.startswith("D")
        assert all(code not in message_text(p) for p in bot.supervisor_posts())
        bot.clock.advance(seconds=121)
        await bot.driver.click(AGENT, card, "Check code", inputs={CODE_BOX: code})
        await bot.wait_text(card, "That code has expired")


async def test_who_may_verify_is_enforced_after_saving(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        modal = await open_settings(bot)
        await bot.driver.submit_view(ADMIN, modal.id, {"Who may verify": "@helpdesk (Help desk)"})
        assert modal.errors is None
        (event,) = await audit(bot, "setting_changed")
        assert (event.detail["setting"], event.detail["old"], event.detail["new"]) == (
            "agent_usergroup",
            None,
            HELPDESK,
        )
        post = await bot.settings_reply("changed PIN Verify settings")
        assert "everyone in the workspace → @helpdesk" in message_text(post)
        assert "<!subteam" not in message_text(post)  # announcing must not ping the group
        await bot.verify("+1 513 555 7611", user=AGENT)
        (refusal,) = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
        assert "not in the user group allowed to verify" in message_text(refusal)
        card = await bot.open_card("+1 513 555 7611", user=OTHER_AGENT)
        assert "Jane Doe" in message_text(card)


async def test_non_admin_crafted_open_and_submit_are_refused_and_audited(
    running_bot: BotFactory,
) -> None:
    async with running_bot() as bot:
        admin_home = await home_of(bot, ADMIN)
        # The Settings button is never drawn for an agent; a crafted click carries it anyway.
        crafted_home = fake_copy_to(bot, admin_home, AGENT, home=True)
        await bot.driver.click(AGENT, crafted_home, "Settings")
        refusal = await bot.driver.wait_for(
            lambda: top_view(
                bot, AGENT, lambda view: "Only PIN Verify admins" in message_text(view)
            )
        )
        assert refusal.callback_id != "workspace_settings"

        modal = await open_settings(bot)
        crafted = fake_copy_to(bot, modal, AGENT, home=False)
        await bot.driver.submit_view(AGENT, crafted.id, {"Code length (digits)": "10"})
        assert crafted.errors is not None
        assert "Only PIN Verify admins" in crafted.errors["set_require_ticket"]
        assert await saved_policy(bot) is None
        assert await audit(bot, "setting_changed") == []
        refused = [
            (e.actor_user_id, e.detail["action"]) for e in await audit(bot, "access_refused")
        ]
        assert refused == [(AGENT, "open settings"), (AGENT, "save settings")]
        assert bot.supervisor_posts() == []


async def test_pinverify_admins_grants_admin(running_bot: BotFactory) -> None:
    env: Mapping[str, str] = {"PINVERIFY_ADMINS": AGENT}
    async with running_bot(env=env) as bot:
        modal = await open_settings(bot, AGENT)
        await bot.driver.submit_view(AGENT, modal.id, {"Wrong checks before lock": "3"})
        assert modal.errors is None
        saved = await saved_policy(bot)
        assert saved is not None and saved.max_attempts == 3 and saved.updated_by == AGENT


async def test_sms_allowed_countries_refuse_a_number_on_record(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        modal = await open_settings(bot)
        await bot.driver.submit_view(ADMIN, modal.id, {"SMS allowed countries": "CA"})
        assert modal.errors is None
        card = await bot.open_card("+1 513 555 7611")
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.wait_text(card, "SMS to US numbers (+1 ••• ••• 7611) is not allowed for this")
        assert await bot.console_codes() == []
        await bot.driver.click(AGENT, card, "Send email")
        await bot.wait_text(card, "Code #1 sent by *email*")


async def test_home_shows_nothing_privileged_when_slack_cannot_say_who_you_are(
    running_bot: BotFactory,
) -> None:
    async with running_bot() as bot:
        bot.emulator.fail_next("users.info", error="fatal_error")
        text = message_text(await home_of(bot, ADMIN))
        assert "could not check your role with Slack" in text
        assert "Policy for this workspace" not in text
        shown = bot.emulator.home_view(ADMIN)
        assert shown is not None and find_button_labels(shown) == []
        # Not cached: the next visit asks Slack again.
        assert "Policy for this workspace" in message_text(await home_of(bot, ADMIN))


async def test_require_ticket_and_code_in_note_saved_in_settings_rule_the_psa_flow(
    running_bot: BotFactory,
) -> None:
    async with running_fake_connectwise() as psa:
        globex = psa.add_company("Globex")
        jane = psa.add_contact(name="Jane Doe", company_ref=globex, phone="(513) 555-7611")
        ticket = psa.add_ticket(summary="Password reset", contact_ref=jane, company_ref=globex)
        async with running_bot(env=psa.env()) as bot:
            modal = await open_settings(bot)
            await bot.driver.submit_view(
                ADMIN, modal.id, {"Require a ticket": "On", "Code in the ticket note": "Omit"}
            )
            assert modal.errors is None
            card = await bot.open_card("+1 513 555 7611")
            await bot.driver.click(AGENT, card, "Send SMS")
            await bot.wait_text(card, "ticket")
            assert await bot.console_codes() == []
            await bot.driver.click(
                AGENT, card, "Tag ticket", inputs={"Ticket number": f"#{ticket}"}
            )
            await bot.wait_text(card, f"Tagged ticket #{ticket}")
            await bot.driver.click(AGENT, card, "Send SMS")
            await bot.wait_text(card, "Code #1 sent by *SMS*")
            (code,) = await bot.console_codes()
            (note,) = await bot.driver.wait_for(lambda: psa.notes(ticket))
            assert code not in note.text and "codes are omitted" in note.text


async def test_require_ticket_is_refused_inline_without_a_psa(running_bot: BotFactory) -> None:
    async with running_bot() as bot:
        modal = await open_settings(bot)
        await bot.driver.submit_view(ADMIN, modal.id, {"Require a ticket": "On"})
        assert "has no tickets" in (modal.errors or {})["set_require_ticket"]
        assert await saved_policy(bot) is None
