"""The ways a code reaches the caller."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"

    @property
    def label(self) -> str:
        return "SMS" if self is Channel.SMS else "email"
