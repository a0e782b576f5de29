"""What agents type for a ticket: #12345, 12345, Autotask's T20240115.0012; clear refusals."""

from __future__ import annotations

import pytest

from bot.contacts.lookup import TicketLookup, parse_lookup
from bot.contacts.ticket_refs import parse_ticket_reference
from bot.errors import LookupProblem, TicketRefProblem


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("12345", "12345"),
        ("#12345", "12345"),
        ("  # 12345 ", "12345"),
        ("t20240115.0012", "T20240115.0012"),
        ("#T20240115.0012", "T20240115.0012"),
        ("123456789012", "123456789012"),
    ],
)
def test_ticket_numbers(typed: str, number: str) -> None:
    assert parse_ticket_reference(typed) == number


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type a ticket number"),
        ("   ", "Type a ticket number"),
        ("#abc", "is not a ticket number"),
        ("12 34", "is not a ticket number"),
        ("1234567890123", "is not a ticket number"),
        ("#-5", "is not a ticket number"),
        ("T2024.1", "is not a ticket number"),
        ("9" * 41, "too long"),
    ],
)
def test_not_ticket_numbers(typed: str, message: str) -> None:
    with pytest.raises(TicketRefProblem, match=message):
        parse_ticket_reference(typed)


def test_verify_text_with_hash_is_a_ticket_lookup() -> None:
    assert parse_lookup("#T20240115.0012", region="US") == TicketLookup("T20240115.0012")
    with pytest.raises(LookupProblem, match="is not a ticket number"):
        parse_lookup("#nope", region="US")
