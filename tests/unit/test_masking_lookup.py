from __future__ import annotations

import pytest

from bot.contacts.lookup import TicketLookup, parse_lookup
from bot.errors import LookupProblem
from bot.masking import mask_email, mask_phone
from providers.crm import ContactQuery, LookupKind


def test_phone_mask_keeps_country_and_last_four() -> None:
    assert mask_phone("+15135557611") == "+1 ••• ••• 7611"
    assert mask_phone("+442079460958") == "+44 ••• ••• 0958"


def test_email_mask_keeps_first_letter_and_domain() -> None:
    assert mask_email("jane.doe@acme.com") == "j•••@acme.com"
    assert "jane" not in mask_email("jane@acme.com")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+1 513 555 7611", ContactQuery(LookupKind.PHONE, "+15135557611")),
        ("(513) 555-7611", ContactQuery(LookupKind.PHONE, "+15135557611")),
        ("+44 20 7946 0958", ContactQuery(LookupKind.PHONE, "+442079460958")),
        ("Jane.Doe@ACME.com", ContactQuery(LookupKind.EMAIL, "jane.doe@acme.com")),
        ("  jane   smith ", ContactQuery(LookupKind.NAME, "jane smith")),
        ("#12345", TicketLookup("12345")),
    ],
)
def test_lookup_understands_what_agents_type(text: str, expected: object) -> None:
    assert parse_lookup(text, region="US") == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Usage"),
        ("555-0100", "not a valid phone number for region US"),
        ("jane@", "not a valid email address"),
        ("#abc", "not a ticket number"),
        ("j", "at least two letters"),
        ("x" * 300, "too long"),
    ],
)
def test_lookup_problems_are_specific(text: str, fragment: str) -> None:
    with pytest.raises(LookupProblem) as problem:
        parse_lookup(text, region="US")
    assert fragment in str(problem.value)
