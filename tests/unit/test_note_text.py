"""The ticket-note builder: exact wording, masking, the code only when the policy includes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.tickets.note_text import CloseNoteFacts, SendNoteFacts, close_note, send_note
from bot.tickets.notes import note_status

OPENED = datetime(2026, 11, 26, 14, 2, 5, tzinfo=UTC)


SEND_FACTS = SendNoteFacts(
    method="SMS",
    masked_destination="+1 ••• ••• 7611",
    agent="alice",
    code="482913",
    seq=2,
    sent_at=OPENED + timedelta(seconds=30),
    verification_ref="ab12cd34",
)
CLOSE_FACTS = CloseNoteFacts(
    outcome="completed",
    check="code verified",
    verified=True,
    failed_checks=1,
    max_attempts=5,
    codes_sent=2,
    agent="alice",
    method="SMS",
    masked_destination="+1 ••• ••• 7611",
    destination_edited=False,
    opened_at=OPENED,
    code_sent_at=OPENED + timedelta(seconds=30),
    verified_at=OPENED + timedelta(seconds=75),
    closed_at=OPENED + timedelta(seconds=90),
    verification_ref="ab12cd34",
)


def send_facts(**overrides: Any) -> SendNoteFacts:
    return replace(SEND_FACTS, **overrides)


def close_facts(**overrides: Any) -> CloseNoteFacts:
    return replace(CLOSE_FACTS, **overrides)


def test_send_note_with_the_code() -> None:
    assert send_note(send_facts()) == (
        "PIN sent by SMS to +1 ••• ••• 7611 by alice.\n"
        "Code: 482913\n"
        "Code #2, sent 2026-11-26 14:02:35 UTC.\n"
        "PIN Verify verification ab12cd34."
    )


def test_send_note_without_the_code_says_so() -> None:
    text = send_note(
        send_facts(code=None, method="email", masked_destination="j•••@globex.example")
    )
    assert text.startswith("PIN sent by email to j•••@globex.example by alice.\n")
    assert "Code: not recorded (policy: codes are omitted from ticket notes)" in text
    assert not any(ch.isdigit() for ch in text.splitlines()[1])


def test_close_note_lists_every_fact() -> None:
    assert close_note(close_facts()) == (
        "PIN verification Completed: code verified.\n"
        "Outcome: Completed\n"
        "Check result: code verified\n"
        "Attempts: 1 wrong of 5 allowed; 2 sends\n"
        "Agent: alice\n"
        "Method: SMS to +1 ••• ••• 7611 (proves control of the phone on record)\n"
        "Destination edited: no\n"
        "Times: opened 2026-11-26 14:02:05 UTC; code sent 2026-11-26 14:02:35 UTC; "
        "verified 2026-11-26 14:03:20 UTC; closed 2026-11-26 14:03:35 UTC\n"
        "PIN Verify verification ab12cd34."
    )


def test_close_note_flags_completion_without_a_verified_code_and_edits() -> None:
    text = close_note(
        close_facts(
            check="code not checked",
            verified=False,
            verified_at=None,
            destination_edited=True,
            edit_reason="caller's new mobile",
            method="email",
            masked_destination="j•••@globex.example",
        )
    )
    assert "Warning: completed WITHOUT a verified code" in text
    assert (
        "Destination edited: YES, ⚠ sent to a destination not on record "
        "(reason: caller's new mobile)"
    ) in text
    assert "(proves control of the mailbox on record (weaker than SMS))" in text
    assert "verified 20" not in text


def test_close_note_when_no_code_was_sent() -> None:
    text = close_note(
        close_facts(
            outcome="incomplete",
            check="no code sent",
            verified=False,
            failed_checks=0,
            codes_sent=0,
            method=None,
            masked_destination=None,
            code_sent_at=None,
            verified_at=None,
        )
    )
    assert text.startswith("PIN verification Incomplete: no code sent.\n")
    assert "Warning" not in text
    assert "Method: no code sent" in text and "0 sends" in text
    assert "code sent 20" not in text


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], None),
        ([("pending", None)], "pending"),
        ([("delivered", None), ("delivered", None)], "written"),
        ([("delivered", None), ("pending", None)], "pending"),
        (
            [("pending", "ConnectWise is down"), ("pending", "rate limited")],
            "failing: rate limited",
        ),
        ([("delivered", None), ("pending", "timeout")], "failing: timeout"),
    ],
)
def test_note_status_shows_the_worst(
    rows: list[tuple[str, str | None]], expected: str | None
) -> None:
    assert note_status(rows) == expected


def test_send_note_flags_a_destination_not_on_record() -> None:
    plain = send_note(send_facts())
    assert "not on record" not in plain
    text = send_note(send_facts(destination_edited=True, edit_reason="new phone"))
    assert text.splitlines()[1] == "⚠ sent to a destination not on record (reason: new phone)"
