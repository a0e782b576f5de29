"""What the agent typed after /verify: a phone number, an email, a name or a #ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.contacts.ticket_refs import parse_ticket_reference
from bot.errors import LookupProblem, TicketRefProblem
from providers.crm import ContactQuery, LookupKind

PHONE_LIKE = re.compile(r"^[+(]?[\d\s().\-/]{6,}$")
USAGE = "Usage: `/verify <phone | email | name | #ticket>`, e.g. `/verify +1 513 555 7611`."


@dataclass(frozen=True)
class TicketLookup:
    number: str


def parse_lookup(text: str, *, region: str) -> ContactQuery | TicketLookup:
    value = " ".join(text.split())
    if not value:
        raise LookupProblem(USAGE)
    if len(value) > 200:
        raise LookupProblem("That is too long to be a phone number, email or name. " + USAGE)
    if value.startswith("#"):
        try:
            return TicketLookup(number=parse_ticket_reference(value))
        except TicketRefProblem as problem:
            raise LookupProblem(str(problem)) from None
    if "@" in value:
        try:
            address = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise LookupProblem(f"“{value}” is not a valid email address: {exc}") from None
        return ContactQuery(kind=LookupKind.EMAIL, value=address.lower())
    if PHONE_LIKE.match(value):
        return ContactQuery(kind=LookupKind.PHONE, value=_phone(value, region=region))
    if len(value.replace(" ", "")) < 2:
        raise LookupProblem("Type at least two letters of the caller's name. " + USAGE)
    return ContactQuery(kind=LookupKind.NAME, value=value)


def _phone(value: str, *, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise LookupProblem(
            f"“{value}” is not a valid phone number for region {region}. "
            "Numbers abroad need their country code, like +44 20 7946 0958."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
