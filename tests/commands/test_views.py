"""Every Block Kit payload the bot can send, in every state, validates with slack_sdk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.delivery.channels import Channel
from bot.verification.reports import supervisor_report
from bot.verification.snapshots import SendSnapshot, VerificationSnapshot
from bot.verification.states import Outcome
from bot.verification.states import SendStatus as Status
from bot.verification.states import VerificationState as State
from commands.blocks import CardButton, as_dicts, escape
from commands.card.views import verification_card
from commands.parsing import PayloadError, decode_button
from commands.posts.supervisor_views import supervisor_post
from commands.verify.views import pick_list
from providers.crm import ContactRecord
from slack_emulator.block_kit import validate_message_blocks
from slack_emulator.surfaces import find_button_labels

NOW = datetime(2026, 11, 26, 14, 2, tzinfo=UTC)
SENT = SendSnapshot(
    seq=1,
    channel=Channel.SMS,
    masked_destination="+1 ••• ••• 7611",
    status=Status.SENT,
    provider="twilio",
    created_at=NOW,
    sent_at=NOW,
    expires_at=NOW + timedelta(minutes=10),
    error_message=None,
)
BASE = VerificationSnapshot(
    id="a" * 32,
    team_id="T1",
    agent_user_id="U1",
    agent_name="alice",
    contact_name="Jane <!channel> & Doe",
    company="Globex",
    masked_phone="+1 ••• ••• 7611",
    masked_email="j•••@globex.example",
    state=State.AWAITING_SEND,
    last_check=None,
    failed_checks=0,
    max_attempts=5,
    sends_left=5,
    next_seq=1,
    outcome=None,
    created_at=NOW,
    verified_at=None,
    closed_at=None,
    card_channel="D1",
    card_ts="1.0",
    latest_send=None,
    code_expired=False,
)
STATES = {
    "ready": BASE,
    "sending": replace(
        BASE, latest_send=replace(SENT, status=Status.SENDING, sent_at=None), next_seq=2
    ),
    "sent": replace(BASE, state=State.CODE_SENT, latest_send=SENT, next_seq=2),
    "wrong": replace(BASE, state=State.CODE_SENT, latest_send=SENT, next_seq=2, failed_checks=2),
    "failed": replace(
        BASE,
        latest_send=replace(SENT, status=Status.FAILED, error_message="Twilio <b>"),
        next_seq=2,
    ),
    "expired": replace(
        BASE, state=State.CODE_SENT, latest_send=SENT, next_seq=2, code_expired=True
    ),
    "verified": replace(BASE, state=State.VERIFIED, latest_send=SENT, next_seq=2, verified_at=NOW),
    "locked": replace(BASE, state=State.LOCKED, latest_send=SENT, next_seq=2, failed_checks=5),
    "closed": replace(
        BASE,
        state=State.VERIFIED,
        latest_send=SENT,
        outcome=Outcome.COMPLETED,
        closed_at=NOW,
    ),
    "no_phone": replace(BASE, masked_phone=None),
    "budget_spent": replace(
        BASE, state=State.CODE_SENT, latest_send=SENT, sends_left=0, next_seq=6
    ),
    "delivered": replace(
        BASE,
        state=State.CODE_SENT,
        latest_send=replace(SENT, delivery_status="delivered"),
        next_seq=2,
    ),
    "unconfirmed": replace(
        BASE,
        state=State.CODE_SENT,
        latest_send=replace(SENT, delivery_status="unconfirmed", delivery_error="Twilio <b>"),
        next_seq=2,
    ),
    "undelivered": replace(
        BASE,
        state=State.CODE_SENT,
        latest_send=replace(SENT, delivery_status="undelivered", delivery_error="handset <off>"),
        next_seq=2,
    ),
    "email_bounced": replace(
        BASE,
        state=State.CODE_SENT,
        latest_send=replace(
            SENT,
            channel=Channel.EMAIL,
            provider="sendgrid",
            masked_destination="j•••@globex.example",
            delivery_status="undelivered",
        ),
        next_seq=2,
    ),
    "undelivered_no_email": replace(
        BASE,
        state=State.CODE_SENT,
        masked_email=None,
        latest_send=replace(SENT, delivery_status="failed"),
        next_seq=2,
    ),
}
EXPECTED_BUTTONS = {
    "ready": ["Send SMS", "Send email"],
    "sending": ["Completed", "Incomplete"],
    "sent": ["Check code", "Resend", "Send email", "Completed", "Incomplete"],
    "wrong": ["Check code", "Resend", "Send email", "Completed", "Incomplete"],
    "failed": ["Send SMS", "Send email", "Incomplete"],
    "expired": ["Resend", "Send email", "Completed", "Incomplete"],
    "verified": ["Completed", "Incomplete"],
    "locked": ["Incomplete", "Completed"],
    "closed": [],
    "no_phone": ["Send email"],
    "budget_spent": ["Check code", "Completed", "Incomplete"],
    "delivered": ["Check code", "Resend", "Send email", "Completed", "Incomplete"],
    "unconfirmed": ["Check code", "Resend", "Send email", "Completed", "Incomplete"],
    "undelivered": ["Send email instead", "Resend", "Incomplete"],
    "email_bounced": ["Send SMS instead", "Resend", "Incomplete"],
    "undelivered_no_email": ["Resend", "Incomplete"],
}


def assert_valid(blocks: list[Block]) -> list[dict[str, Any]]:
    payload = as_dicts(blocks)
    for block in Block.parse_all(payload):
        block.validate_json()
    assert validate_message_blocks(payload) == []
    return payload


class Surface:
    def __init__(self, blocks: list[dict[str, object]]) -> None:
        self.blocks = blocks


@pytest.mark.parametrize("state", sorted(STATES))
def test_card_validates_and_offers_the_right_buttons(state: str) -> None:
    payload = assert_valid(verification_card(STATES[state], notice="Wrong code. <@U2>"))
    assert find_button_labels(Surface(payload)) == EXPECTED_BUTTONS[state]
    mrkdwn = repr(mrkdwn_texts(payload))
    assert "<!channel>" not in mrkdwn and "<@U2>" not in mrkdwn  # names and notices escaped
    assert "&lt;@U2&gt;" in mrkdwn
    # plain_text is never parsed for mentions, so the header shows the name as it is
    assert payload[0]["text"] == {
        "type": "plain_text",
        "text": "Verify caller: Jane <!channel> & Doe",
    }


def mrkdwn_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [str(node["text"])] if node.get("type") == "mrkdwn" else []
        return found + [text for value in node.values() for text in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [text for item in node for text in mrkdwn_texts(item)]
    return []


def test_fallback_texts_cannot_mention() -> None:
    from commands.card.views import card_fallback_text
    from commands.posts.supervisor_views import supervisor_fallback_text

    assert "<!channel>" not in card_fallback_text(STATES["sent"])
    report = supervisor_report(STATES["closed"], channel="C1")
    assert "<!channel>" not in supervisor_fallback_text(report)


def test_unverified_completion_asks_for_confirmation() -> None:
    sent = as_dicts(verification_card(STATES["sent"]))
    verified = as_dicts(verification_card(STATES["verified"]))

    def completed(payload: list[dict[str, Any]]) -> dict[str, Any]:
        return next(
            element
            for block in payload
            if block["type"] == "actions"
            for element in block["elements"]
            if element["action_id"] == "mark_completed"
        )

    assert "confirm" in completed(sent)
    assert "confirm" not in completed(verified) and completed(verified)["style"] == "primary"


def test_pick_list_and_supervisor_post_validate() -> None:
    contacts = [
        ContactRecord(ref=str(i), name=f"Pat {i}", company="Co", phone_e164=None, email="p@x.io")
        for i in range(12)
    ] + [ContactRecord(ref="x", name="Gone", company="", phone_e164=None, email=None, active=False)]
    payload = assert_valid(pick_list("pat", contacts))
    assert len(find_button_labels(Surface(payload))) == 10
    report = supervisor_report(STATES["closed"], channel="C1")
    post = assert_valid(supervisor_post(report))
    assert "7611" in repr(post) and "5557611" not in repr(post)


def test_button_values_round_trip_and_reject_forgeries() -> None:
    button = CardButton("abc123", 3, Channel.EMAIL)
    assert decode_button(button.encode()) == button
    assert decode_button(CardButton("abc", 1).encode()) == CardButton("abc", 1)
    for forged in ("", "abc", "abc|x|sms", "abc|1|fax", "a b|1|sms"):
        with pytest.raises(PayloadError):
            decode_button(forged)


def test_escape() -> None:
    assert escape("<a&b>") == "&lt;a&amp;b&gt;"


def test_delivery_reports_show_on_the_card_with_the_reason_escaped() -> None:
    delivered = repr(mrkdwn_texts(assert_valid(verification_card(STATES["delivered"]))))
    assert "*Delivery:* ✅ delivered" in delivered
    unconfirmed = repr(mrkdwn_texts(assert_valid(verification_card(STATES["unconfirmed"]))))
    assert "unconfirmed — Twilio &lt;b&gt;" in unconfirmed and "ask the caller" in unconfirmed
    payload = assert_valid(verification_card(STATES["undelivered"]))
    undelivered = repr(mrkdwn_texts(payload))
    assert "Twilio could not deliver the SMS* to +1 ••• ••• 7611: handset &lt;off&gt;" in (
        undelivered
    )
    (instead,) = [
        element
        for block in payload
        for element in block.get("elements", [])
        if element.get("action_id") == "send_email_instead"
    ]
    button = decode_button(instead["value"])
    assert button.channel is Channel.EMAIL and button.seq == 2
