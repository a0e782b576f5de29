"""Masked contact details: what may appear in Slack, notes and logs."""

from __future__ import annotations

import phonenumbers

BULLETS = "•••"


def mask_phone(e164: str) -> str:
    """`+15135557611` → `+1 ••• ••• 7611`: enough for the caller to recognise, no more."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return f"{BULLETS} {e164[-2:]}" if len(e164) > 4 else BULLETS
    national = str(number.national_number)
    return f"+{number.country_code} {BULLETS} {BULLETS} {national[-4:]}"


def mask_email(address: str) -> str:
    """`jane.doe@acme.com` → `j•••@acme.com`."""
    local, _, domain = address.rpartition("@")
    if not local:
        return BULLETS
    return f"{local[0]}{BULLETS}@{domain}"


def mask_destination(channel: str, destination: str) -> str:
    return mask_phone(destination) if channel == "sms" else mask_email(destination)
