"""The templates modal, the destination modal and the edit flag validate as Block Kit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.delivery.channels import Channel
from bot.templates.rendering import MessageRenderer, TemplateField, default_templates
from bot.templates.validation import check_templates
from bot.verification.destinations import EditForm
from bot.verification.reports import supervisor_report
from commands.blocks import CardButton, notice_modal
from commands.card.destination import destination_modal
from commands.card.views import EDIT_MENU_TEXT, verification_card
from commands.home.template_views import (
    TemplateEditor,
    error_map,
    templates_modal,
)
from commands.posts.supervisor_views import supervisor_post
from slack_emulator.block_kit import validate_view
from tests.commands.test_views import NOW, STATES, assert_valid, mrkdwn_texts

MODAL = frozenset({"modal"})


def test_templates_modal_with_preview_problems_and_notice_validates() -> None:
    templates = default_templates()
    check = check_templates(
        templates,
        renderer=MessageRenderer(),
        organisation="Acme <IT>",
        agent_name="alice",
        expiry_minutes=10,
    )
    editor = TemplateEditor(
        templates=replace(templates, sms="```" + "x" * 2990),
        revision=3,
        is_default=False,
        updated_by="U1",
        updated_at=NOW,
        preview=check.preview,
        problems={TemplateField.SMS: "unknown variable `<!channel>`"},
        notice="Test SMS not sent: <b>",
    )
    view = templates_modal(editor).to_dict()
    assert validate_view(view, allowed_types=MODAL) == []
    texts = repr(mrkdwn_texts(view))
    assert "<!channel>" not in texts and "Acme &lt;IT&gt;" in texts
    inputs = [block["block_id"] for block in view["blocks"] if block["type"] == "input"]
    assert inputs == ["tpl_sms.3", "tpl_email_subject.3", "tpl_email_body.3", "tpl_email_html.3"]
    assert error_map({TemplateField.EMAIL_BODY: "x"}, 3) == {"tpl_email_body.3": "x"}


@pytest.mark.parametrize("required", [True, False])
def test_destination_modal_validates(required: bool) -> None:
    form = EditForm("a" * 32, Channel.SMS, "+1 ••• ••• 7611", required)
    view = destination_modal(form, CardButton("a" * 32, 2, Channel.SMS)).to_dict()
    assert validate_view(view, allowed_types=MODAL) == []
    reason = next(block for block in view["blocks"] if block.get("block_id") == "edit_reason")
    assert reason.get("optional", False) is not required
    assert view["private_metadata"] == f"{'a' * 32}|2|sms"


@pytest.mark.parametrize("state", sorted(STATES))
def test_edit_menu_only_while_a_code_can_still_be_sent(state: str) -> None:
    snapshot = replace(STATES[state], edits_allowed=True)
    text = repr(mrkdwn_texts(assert_valid(verification_card(snapshot))))
    # Any state in which another code can still be sent: an undelivered SMS is the likeliest
    # reason to correct a number.
    offered = state not in ("budget_spent", "closed", "locked", "verified")
    assert (EDIT_MENU_TEXT in text) is offered
    closed = replace(STATES[state], edits_allowed=False)
    assert EDIT_MENU_TEXT not in repr(mrkdwn_texts(assert_valid(verification_card(closed))))


def test_edited_destination_is_flagged_on_card_and_post_with_the_reason_escaped() -> None:
    snapshot = replace(
        STATES["closed"],
        destination_edited=True,
        phone_edited=True,
        edit_reason="lost <!here>",
    )
    card = repr(mrkdwn_texts(assert_valid(verification_card(snapshot))))
    assert "⚠ sent to a destination not on record" in card and "lost &lt;!here&gt;" in card
    assert "phone typed in by the agent" in card
    post = repr(
        mrkdwn_texts(assert_valid(supervisor_post(supervisor_report(snapshot, channel="C1"))))
    )
    assert "⚠ sent to a destination not on record" in post and "lost &lt;!here&gt;" in post
    unflagged = supervisor_report(replace(snapshot, destination_edited=False), channel="C1")
    assert "not on record" not in repr(mrkdwn_texts(assert_valid(supervisor_post(unflagged))))


def test_loading_and_refusal_modals_validate_and_escape() -> None:
    loading = notice_modal("PIN templates", "Loading the templates…").to_dict()
    assert validate_view(loading, allowed_types=MODAL) == []
    refusal = notice_modal("Not allowed", "Only admins <!here>").to_dict()
    assert validate_view(refusal, allowed_types=MODAL) == []
    assert "<!here>" not in repr(mrkdwn_texts(refusal))
