"""Who may verify and who administers, decided from Slack on the server for every request."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import NotAllowed
from bot.workspace.roles import Role
from slack_emulator import SlackEmulator, message_text
from tests.support import queries
from tests.support.bot import AGENT, OTHER_AGENT, BotFactory

AGENTS_GROUP = "S0AGENTS01"


async def test_agent_outside_the_configured_group_is_refused_verify(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    emulator.add_usergroup(AGENTS_GROUP, "helpdesk", [OTHER_AGENT])
    async with running_bot(env={"PINVERIFY_AGENT_USERGROUP": AGENTS_GROUP}) as bot:
        await bot.verify("+1 513 555 7611", user=AGENT)
        refusal = await bot.driver.wait_for(lambda: bot.driver.ephemeral_messages(AGENT))
        assert "not in the user group allowed to verify" in message_text(refusal[-1])
        # A member of the group gets the card as usual.
        card = await bot.open_card("+1 513 555 7611", user=OTHER_AGENT)
        assert "Jane Doe" in message_text(card)
        assert not [m for m in emulator.dm_messages(AGENT) if not m.is_ephemeral]
        async with bot.runtime.db.transaction() as session:
            events = list(await queries.list_audit_events(session=session))
        refused = [e for e in events if e.kind == "access_refused"]
        assert [(e.actor_user_id, e.detail["action"]) for e in refused] == [(AGENT, "/verify")]
        assert not [
            e for e in events if e.kind == "verification_opened" and e.actor_user_id == AGENT
        ]


async def test_removal_from_the_group_takes_effect_after_the_cache(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    group = emulator.add_usergroup(AGENTS_GROUP, "helpdesk", [AGENT])
    async with running_bot(env={"PINVERIFY_AGENT_USERGROUP": AGENTS_GROUP}) as bot:
        roles = bot.runtime.deps.roles
        team = emulator.team.id
        await roles.require_agent(team_id=team, user_id=AGENT, action="test")
        await roles.require_agent(team_id=team, user_id=AGENT, action="test")
        assert len(emulator.calls_to("usergroups.users.list")) == 1  # cached
        group.users.remove(AGENT)
        bot.clock.advance(seconds=61)
        with pytest.raises(NotAllowed):
            await roles.require_agent(team_id=team, user_id=AGENT, action="test")
        assert len(emulator.calls_to("usergroups.users.list")) == 2


async def test_admins_come_from_slack_and_from_pinverify_admins(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    emulator.add_user("U0OWNER001", "olga", real_name="Olga Owner", is_owner=True)
    emulator.add_user("U0WSADMIN1", "wes", real_name="Wes Admin", is_admin=True)
    emulator.add_usergroup(AGENTS_GROUP, "helpdesk", [OTHER_AGENT])
    async with running_bot(
        env={"PINVERIFY_ADMINS": AGENT, "PINVERIFY_AGENT_USERGROUP": AGENTS_GROUP}
    ) as bot:
        roles = bot.runtime.deps.roles
        team = emulator.team.id
        assert await roles.role_of(team_id=team, user_id=AGENT) is Role.ADMIN
        assert await roles.role_of(team_id=team, user_id="U0OWNER001") is Role.ADMIN
        assert await roles.role_of(team_id=team, user_id="U0WSADMIN1") is Role.ADMIN
        assert await roles.role_of(team_id=team, user_id=OTHER_AGENT) is Role.AGENT
        assert await roles.role_of(team_id=team, user_id="U0SUPER001") is Role.NONE
        with pytest.raises(NotAllowed, match="Only PIN Verify admins"):
            await roles.require_admin(team_id=team, user_id=OTHER_AGENT, action="settings")
        # Admins may always verify, in the group or not.
        card = await bot.open_card("+1 513 555 7611", user=AGENT)
        assert "Jane Doe" in message_text(card)


async def test_slack_failure_refuses_and_says_it_is_transient(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    emulator.add_usergroup(AGENTS_GROUP, "helpdesk", [OTHER_AGENT])
    async with running_bot(env={"PINVERIFY_AGENT_USERGROUP": AGENTS_GROUP}) as bot:
        emulator.fail_next("usergroups.users.list", error="fatal_error")
        with pytest.raises(NotAllowed, match="could not check"):
            await bot.runtime.deps.roles.require_agent(
                team_id=emulator.team.id, user_id=OTHER_AGENT, action="test"
            )
        # The failure was not cached: the next try asks Slack again and succeeds.
        await bot.runtime.deps.roles.require_agent(
            team_id=emulator.team.id, user_id=OTHER_AGENT, action="test"
        )


async def test_card_buttons_refuse_an_agent_removed_from_the_group(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    group = emulator.add_usergroup(AGENTS_GROUP, "helpdesk", [AGENT])
    async with running_bot(env={"PINVERIFY_AGENT_USERGROUP": AGENTS_GROUP}) as bot:
        card = await bot.open_card("+1 513 555 7611")
        group.users.remove(AGENT)
        bot.clock.advance(seconds=61)  # past the membership cache
        await bot.driver.click(AGENT, card, "Send SMS")
        await bot.driver.wait_for(
            lambda: any(
                "not in the user group allowed to verify" in message_text(note)
                for note in bot.driver.ephemeral_messages(AGENT)
            )
        )
        assert await bot.console_codes() == []
        assert "Ready to send a code" in message_text(card)
        async with bot.runtime.db.transaction() as session:
            events = list(await queries.list_audit_events(session=session))
        assert [e.detail["action"] for e in events if e.kind == "access_refused"] == ["send_sms"]


async def test_a_burst_of_role_checks_costs_one_users_info_call(
    running_bot: BotFactory, emulator: SlackEmulator
) -> None:
    async with running_bot() as bot:
        roles = bot.runtime.deps.roles
        # Five concurrent clicks: the first asks Slack, the others wait for its answer.
        answers = await asyncio.gather(
            *(roles.role_of(team_id=emulator.team.id, user_id=AGENT) for _ in range(5))
        )
        assert answers == [Role.AGENT] * 5
        assert len(emulator.calls_to("users.info")) == 1
        await roles.role_of(team_id=emulator.team.id, user_id=AGENT)
        assert len(emulator.calls_to("users.info")) == 1
        bot.clock.advance(seconds=61)
        await roles.role_of(team_id=emulator.team.id, user_id=AGENT)
        assert len(emulator.calls_to("users.info")) == 2
