"""Admins edit the PIN templates from Slack: open, validate inline, preview, test, save, reset."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.audit import AuditKind
from commands.ids import ActionId, CallbackId
from slack_emulator import SlackEmulator, StoredView, find_button_labels, message_text
from storage import repositories as repo
from storage.models import ConsoleMessage
from tests.fakes.smtp import running_smtp_server
from tests.support import queries
from tests.support.bot import AGENT, BotFactory, RunningBot, new_emulator

ADMIN = "U0ADMIN001"
SMS = "SMS body"
SUBJECT = "Email subject"
BODY = "Email body (plain text)"
HTML = "Email HTML body (optional)"
NEW_SMS = "{{ organisation }} PIN for {{ contact_first_name }}: {{ code }}. Reply to nobody."


@pytest.fixture
def emulator() -> SlackEmulator:
    """The default workspace, plus an admin."""
    emulator = new_emulator()
    emulator.add_user(ADMIN, "ada", real_name="Ada Admin", email="ada@msp.example", is_admin=True)
    return emulator


async def open_editor(bot: RunningBot, user: str = ADMIN) -> StoredView:
    await bot.driver.open_home(user)
    home = await bot.driver.wait_for(lambda: bot.emulator.home_view(user))
    await bot.driver.click(user, home, "Edit PIN templates")
    (view,) = await bot.driver.wait_for(lambda: bot.emulator.open_views(user))
    # Opened empty at once (the trigger is short-lived), then filled in.
    await bot.driver.wait_for(lambda: "Loading" not in message_text(view))
    return view


def initial_values(view: StoredView) -> dict[str, str | None]:
    return {
        block["label"]["text"]: block["element"].get("initial_value")
        for block in view.blocks
        if block.get("type") == "input"
    }


async def console(bot: RunningBot) -> list[ConsoleMessage]:
    async with bot.runtime.db.transaction() as session:
        return list(await queries.list_console_messages(session=session))


async def audit(bot: RunningBot, kind: str) -> list[Any]:
    async with bot.runtime.db.transaction() as session:
        return [e for e in await queries.list_audit_events(session=session) if e.kind == kind]


async def test_admin_opens_editor_prefilled_with_variables_and_preview(bot: RunningBot) -> None:
    view = await open_editor(bot)
    shipped = bot.runtime.deps.templates.defaults
    assert initial_values(view) == {
        SMS: shipped.sms,
        SUBJECT: shipped.email_subject,
        BODY: shipped.email_body,
        HTML: None,
    }
    text = message_text(view)
    for variable in ("code", "contact_first_name", "contact_name", "company", "agent_name"):
        assert f"{{{{ {variable} }}}}" in text
    assert "{{ organisation }}" in text and "{{ expiry_minutes }}" in text
    assert "These are the shipped templates." in text
    assert "Preview" in text and "482913" in text and "1 segment (GSM-7" in text
    assert find_button_labels(view) == [
        "Preview",
        "Send me a test SMS",
        "Send me a test email",
        "Reset to default",
    ]


async def test_invalid_templates_are_refused_inline_under_each_field(bot: RunningBot) -> None:
    view = await open_editor(bot)
    response = await bot.driver.submit_view(
        ADMIN,
        view.id,
        {
            SMS: "Hi {{ customer }} {{ code }}",
            SUBJECT: "Code {{ code }",
            BODY: "Hello {{ contact_first_name }}, call us back.",
            HTML: "<p>{{ code }}</p>" + "<p>" + "{{ company }}" * 2 + "{% for x in y %}",
        },
    )
    answer = response.json()
    assert answer["response_action"] == "errors"
    errors = {key.split(".")[0]: value for key, value in answer["errors"].items()}
    assert "unknown variable `customer`" in errors["tpl_sms"]
    assert errors["tpl_email_subject"].startswith("Line 1: template syntax error")
    assert "`{{ code }}` is missing" in errors["tpl_email_body"]
    assert errors["tpl_email_html"].startswith("Line 1: template syntax error")
    # Still open, errors shown under the inputs, nothing saved.
    assert bot.emulator.open_views(ADMIN) == [view] and view.errors == answer["errors"]
    assert await audit(bot, AuditKind.TEMPLATES_CHANGED) == []


async def test_sms_over_three_segments_is_refused(bot: RunningBot) -> None:
    view = await open_editor(bot)
    long_sms = "{{ code }} " + "Please read this code to the agent. " * 14
    response = await bot.driver.submit_view(ADMIN, view.id, {SMS: long_sms})
    errors = response.json()["errors"]
    assert list(errors) == ["tpl_sms.0"]
    assert "Too long for SMS" in errors["tpl_sms.0"] and "at most 3 segments" in errors["tpl_sms.0"]


@pytest.mark.parametrize(
    ("label", "source", "expected"),
    [
        (SMS, "{{ ''.__class__.__mro__ }} {{ code }}", "attribute and item access"),
        (SUBJECT, "{{ code|attr('__class__') }}", "the `attr` filter is not allowed"),
        (BODY, "{{ '{0.__class__}'.format(code) }} {{ code }}", "calls"),
        (BODY, "{% for i in range(10**9) %}.{% endfor %}{{ code }}", "loops"),
        (SMS, "{{ code }}{{ 'x' * 1000000000 }}", "arithmetic is not allowed"),
    ],
)
async def test_sandbox_escapes_are_refused_with_a_field_error(
    bot: RunningBot, label: str, source: str, expected: str
) -> None:
    view = await open_editor(bot)
    response = await bot.driver.submit_view(ADMIN, view.id, {label: source})
    errors = response.json()["errors"]
    assert len(errors) == 1
    (message,) = errors.values()
    assert message.startswith("Line 1: ") and expected in message
    async with bot.runtime.db.transaction() as session:
        assert (
            await repo.get_message_templates(session=session, team_id=bot.emulator.team.id) is None
        )


async def test_valid_template_is_saved_audited_and_used_by_the_next_send(bot: RunningBot) -> None:
    view = await open_editor(bot)
    response = await bot.driver.submit_view(
        ADMIN, view.id, {SMS: NEW_SMS, HTML: "<p>Your code: <b>{{ code }}</b></p>"}
    )
    assert response.status_code == 200 and not response.content.strip()
    assert bot.emulator.open_views(ADMIN) == []
    (changed_sms, changed_html) = await audit(bot, AuditKind.TEMPLATES_CHANGED)
    assert changed_sms.actor_user_id == ADMIN
    assert changed_sms.detail["template"] == "sms"
    assert changed_sms.detail["old"] == bot.runtime.deps.templates.defaults.sms
    assert changed_sms.detail["new"] == NEW_SMS
    assert changed_html.detail == {
        "template": "email_html",
        "old": None,
        "new": "<p>Your code: <b>{{ code }}</b></p>",
    }

    # Supervisors hear of it: who, which template, old → new (escaped, clipped).
    announcement = await bot.settings_reply("SMS body template")
    posted = message_text(announcement)
    assert f"<@{ADMIN}>" in posted and "SMS body template" in posted
    assert "“{{ organisation }} PIN for {{ contact_first_name }}: {{ code }}." in posted
    assert "Email HTML body (optional) template*: none → “&lt;p&gt;Your code" in posted

    card = await bot.open_card("+1 513 555 7611")
    await bot.driver.click(AGENT, card, "Send SMS")
    await bot.wait_text(card, "Code #1 sent")
    (sent,) = await console(bot)
    code = (await bot.console_codes())[0]
    assert sent.body == f"Acme IT PIN for Jane: {code}. Reply to nobody."
    # The reopened editor shows the saved template and who saved it.
    view = await open_editor(bot)
    assert initial_values(view)[SMS] == NEW_SMS
    assert f"Last changed by <@{ADMIN}>" in message_text(view)


async def test_preview_shows_the_typed_templates_without_saving(bot: RunningBot) -> None:
    view = await open_editor(bot)
    await bot.driver.click(ADMIN, view, "Preview", inputs={SMS: NEW_SMS})
    text = await bot.driver.wait_for(
        lambda: message_text(view) if "Acme IT PIN for Jane: 482913" in message_text(view) else None
    )
    assert "Not saved yet" in text
    assert initial_values(view)[SMS] == NEW_SMS  # the typed text survives the redraw
    await bot.driver.click(ADMIN, view, "Preview", inputs={SMS: "{{ nope }}"})
    text = await bot.driver.wait_for(
        lambda: message_text(view) if "Problems" in message_text(view) else None
    )
    assert "unknown variable `nope`" in text
    assert await audit(bot, AuditKind.TEMPLATES_CHANGED) == []


async def test_send_me_a_test_email_goes_to_the_admins_own_address(bot: RunningBot) -> None:
    view = await open_editor(bot)
    await bot.driver.click(
        ADMIN, view, "Send me a test email", inputs={SUBJECT: "Code for {{ contact_name }}"}
    )
    await bot.driver.wait_for(lambda: "Test email sent to a•••@msp.example" in message_text(view))
    (sent,) = await console(bot)
    assert sent.channel == "email" and sent.recipient == "ada@msp.example"
    assert sent.subject == "[Test] Code for Jane Doe" and "482913" in sent.body
    (event,) = await audit(bot, AuditKind.TEMPLATE_TEST_SENT)
    assert event.detail == {"channel": "email", "destination": "a•••@msp.example"}
    # No phone on the admin's Slack profile: said plainly, nothing sent.
    await bot.driver.click(ADMIN, view, "Send me a test SMS")
    await bot.driver.wait_for(lambda: "no valid phone number" in message_text(view))
    assert len(await console(bot)) == 1


async def test_reset_to_default_restores_the_shipped_templates(bot: RunningBot) -> None:
    view = await open_editor(bot)
    await bot.driver.submit_view(ADMIN, view.id, {SMS: NEW_SMS})
    view = await open_editor(bot)
    await bot.driver.click(ADMIN, view, "Reset to default")
    await bot.driver.wait_for(lambda: "Back to the shipped templates" in message_text(view))
    shipped = bot.runtime.deps.templates.defaults
    assert initial_values(view)[SMS] == shipped.sms
    (reset,) = await audit(bot, AuditKind.TEMPLATES_RESET)
    assert reset.actor_user_id == ADMIN
    assert reset.detail == {"template": "sms", "old": NEW_SMS, "new": shipped.sms}
    card = await bot.open_card("+1 513 555 7611")
    await bot.driver.click(AGENT, card, "Send SMS")
    await bot.wait_text(card, "Code #1 sent")
    (sent,) = await console(bot)
    assert sent.body.startswith("Acme IT: your verification code is ")


async def post_payload(bot: RunningBot, payload: dict[str, Any]) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)})
    return await bot.driver.post_signed(body, content_type="application/x-www-form-urlencoded")


async def test_non_admin_crafted_submission_is_refused_and_audited(bot: RunningBot) -> None:
    team = bot.emulator.team.id
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "emulator"},
        "user": {"id": AGENT, "username": "alice", "name": "alice", "team_id": team},
        "api_app_id": bot.emulator.bot.app_id,
        "token": "emulator-verification-token",
        "trigger_id": bot.emulator.issue_trigger(AGENT),
        "view": {
            "id": "V0CRAFTED1",
            "team_id": team,
            "type": "modal",
            "callback_id": CallbackId.EDIT_TEMPLATES.value,
            "private_metadata": "0",
            "state": {
                "values": {
                    "tpl_sms.0": {ActionId.TEMPLATE_INPUT.value: {"value": "Pwned {{ code }}"}},
                    "tpl_email_subject.0": {ActionId.TEMPLATE_INPUT.value: {"value": "x"}},
                    "tpl_email_body.0": {ActionId.TEMPLATE_INPUT.value: {"value": "{{ code }}"}},
                }
            },
            "hash": "1.abc",
        },
    }
    response = await post_payload(bot, payload)
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "Only PIN Verify admins" in answer["errors"]["tpl_sms.0"]
    refused = await audit(bot, "access_refused")
    assert [(e.actor_user_id, e.detail["action"]) for e in refused] == [
        (AGENT, CallbackId.EDIT_TEMPLATES.value)
    ]
    async with bot.runtime.db.transaction() as session:
        assert await repo.get_message_templates(session=session, team_id=team) is None
    # A crafted click on the App Home button gets a refusal instead of the editor.
    click = {
        "type": "block_actions",
        "team": {"id": team, "domain": "emulator"},
        "user": {"id": AGENT, "username": "alice", "name": "alice", "team_id": team},
        "api_app_id": bot.emulator.bot.app_id,
        "token": "emulator-verification-token",
        "trigger_id": bot.emulator.issue_trigger(AGENT),
        "container": {"type": "view", "view_id": "V0HOME0001"},
        "actions": [
            {"action_id": ActionId.EDIT_TEMPLATES.value, "block_id": "b", "type": "button"}
        ],
    }
    await post_payload(bot, click)
    (shown,) = await bot.driver.wait_for(lambda: bot.emulator.open_views(AGENT))
    await bot.driver.wait_for(lambda: "Only PIN Verify admins" in message_text(shown))
    assert find_button_labels(shown) == []


async def test_send_me_a_test_sms_goes_to_the_phone_on_the_admins_profile(
    bot: RunningBot,
) -> None:
    bot.emulator.users[ADMIN].phone = "(513) 555-0123"
    view = await open_editor(bot)
    await bot.driver.click(
        ADMIN, view, "Send me a test SMS", inputs={SMS: "Test for {{ company }}: {{ code }}"}
    )
    await bot.driver.wait_for(lambda: "Test SMS sent to +1 ••• ••• 0123" in message_text(view))
    (sent,) = await console(bot)
    assert (sent.channel, sent.recipient, sent.body) == (
        "sms",
        "+15135550123",
        "Test for Globex: 482913",
    )
    # An invalid template is not sent: the problems are shown instead.
    await bot.driver.click(ADMIN, view, "Send me a test SMS", inputs={SMS: "{{ code.__class__ }}"})
    await bot.driver.wait_for(lambda: "Fix the problems below" in message_text(view))
    assert "attribute and item access" in message_text(view)
    assert len(await console(bot)) == 1


async def test_saved_html_body_reaches_smtp_escaped(running_bot: BotFactory) -> None:
    contacts = (
        "name,email,phone,company,external_id\n"
        'Mallory <script>,mallory@globex.example,,"Globex & <b>Co</b>",c-9\n'
    )
    async with running_smtp_server() as smtp:
        env = {
            "EMAIL_PROVIDER": "smtp",
            "SMTP_URL": f"smtp://{smtp.host}:{smtp.port}?starttls=false",
            "EMAIL_FROM": "helpdesk@msp.example",
        }
        async with running_bot(env=env, contacts_csv=contacts) as bot:
            view = await open_editor(bot)
            await bot.driver.submit_view(
                ADMIN,
                view.id,
                {
                    BODY: "{{ company }}: {{ code }}",
                    HTML: "<p>{{ contact_first_name }} at {{ company }}: <b>{{ code }}</b></p>",
                },
            )
            card = await bot.open_card("mallory@globex.example")
            await bot.driver.click(AGENT, card, "Send email")
            await bot.wait_text(card, "Code #1 sent by *email*")
            (mail,) = smtp.messages
            text_part = mail.message.get_body(("plain",))
            html_part = mail.message.get_body(("html",))
            assert text_part is not None and html_part is not None
            plain = text_part.get_content().strip()
            html = html_part.get_content().strip()
            code = plain.rsplit(" ", 1)[1]
            # Plain text is not HTML-escaped; the HTML body escapes every variable.
            assert plain == f"Globex & <b>Co</b>: {code}"
            assert html == (f"<p>Mallory at Globex &amp; &lt;b&gt;Co&lt;/b&gt;: <b>{code}</b></p>")
