"""Which numbers may get an SMS: valid, mobile-capable, in an allow-listed country.

Checked at send time (not only at import) because the allow-list is a workspace setting that
can change, and because a number must never reach a paid SMS gateway just to be refused there.
"""

from __future__ import annotations

from collections.abc import Collection

import phonenumbers
from phonenumbers import PhoneNumberType

from bot.masking import mask_phone

_SMS_CAPABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "a landline",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "a VoIP number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (forwarding) number",
    PhoneNumberType.PAGER: "a pager",
    PhoneNumberType.UAN: "a company (UAN) number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
}


def sms_refusal(
    number: str,
    *,
    default_region: str,
    allowed_regions: Collection[str],
    described_as: str = "The number on record",
) -> str | None:
    """Why `number` must not get an SMS, in words for the agent; None when it may."""
    masked = mask_phone(number)
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException:
        return f"{described_as} ({masked}) cannot be read as a phone number; try email."
    if not phonenumbers.is_valid_number(parsed):
        return f"{described_as} ({masked}) is not a valid phone number; try email."
    kind = phonenumbers.number_type(parsed)
    if kind not in _SMS_CAPABLE:
        what = _TYPE_NAMES.get(kind, "not a mobile number")
        return f"{described_as} ({masked}) is {what} and cannot receive SMS; try email."
    region = phonenumbers.region_code_for_number(parsed)
    if region not in allowed_regions:
        return (
            f"SMS to {region or 'this country'} numbers ({masked}) is not allowed for this "
            f"workspace (allowed: {', '.join(allowed_regions)}); try email, or ask an admin."
        )
    return None
