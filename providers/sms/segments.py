"""How an SMS body is encoded on the air and how many segments (billed messages) it takes.

GSM 03.38 packs 160 septets into one SMS; characters from its extension table (`€`, `{`,
`[`, ...) cost two septets (ESC + char). One character outside both tables switches the whole
message to UCS-2: 70 UTF-16 code units. A message longer than one SMS is split into parts that
each lose room to the concatenation header: 153 septets or 67 code units per part, and a part
never ends between an escape and its character, nor between the halves of a surrogate pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The GSM 03.38 default alphabet, in table order (0x1B, the escape, is not a character).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
# The extension table: each one is sent as ESC + char, two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


class SmsEncoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsSegments:
    encoding: SmsEncoding
    # Septets for GSM-7, UTF-16 code units for UCS-2.
    units: int
    segments: int
    # The distinct characters that forced UCS-2, in order of appearance, so a template editor
    # can be told which character to replace ("’" instead of "'" is the usual culprit).
    non_gsm_characters: tuple[str, ...] = ()

    def describe(self) -> str:
        """E.g. "172 characters, 2 segments (GSM-7, 160/153 per segment)"."""
        gsm7 = self.encoding is SmsEncoding.GSM7
        per = "160/153" if gsm7 else "70/67"
        unit = "characters" if gsm7 else "UCS-2 characters"
        plural = "s" if self.segments != 1 else ""
        return (
            f"{self.units} {unit}, {self.segments} segment{plural} "
            f"({self.encoding}, {per} per segment)"
        )


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text)


def count_segments(body: str) -> SmsSegments:
    """The encoding and segment count of `body`; an empty body takes no segment."""
    non_gsm = tuple(
        dict.fromkeys(ch for ch in body if ch not in _GSM7_BASIC and ch not in _GSM7_EXTENSION)
    )
    if not non_gsm:
        costs = [2 if ch in _GSM7_EXTENSION else 1 for ch in body]
        return SmsSegments(SmsEncoding.GSM7, sum(costs), _pack(costs, GSM7_SINGLE, GSM7_PART))
    costs = [len(ch.encode("utf-16-le")) // 2 for ch in body]
    return SmsSegments(SmsEncoding.UCS2, sum(costs), _pack(costs, UCS2_SINGLE, UCS2_PART), non_gsm)


def _pack(costs: list[int], single: int, part: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    # Greedy fill: a character that does not fit whole starts the next part.
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts += 1
            used = 0
        used += cost
    return parts
