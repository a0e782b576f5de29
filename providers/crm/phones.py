"""Phone numbers as PSAs store them (typed by people, in any format) to and from E.164."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: object, region: str) -> str | None:
    """A vendor's stored phone ("(513) 555-7611", "513.555.7611") as E.164, or None."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The national significant number's digits, which is what PSA phone searches match."""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in e164 if ch.isdigit())
