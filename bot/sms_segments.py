"""How many SMS segments a text costs: GSM-7 (160, or 153 when split) or UCS-2 (70 / 67).

Carriers bill per segment and some drop long concatenated messages, so templates are held
to a few segments. One character outside the GSM-7 alphabet (a curly apostrophe, an emoji)
switches the whole message to UCS-2 and cuts each segment to 70 characters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape septet plus the character, so two septets each.
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    # The first characters that forced UCS-2, to tell the admin what to replace.
    non_gsm: tuple[str, ...] = ()

    def describe(self) -> str:
        per = "160/153" if self.encoding == "GSM-7" else "70/67"
        unit = "characters" if self.encoding == "GSM-7" else "UCS-2 characters"
        return (
            f"{self.units} {unit}, {self.segments} segment{'s' if self.segments != 1 else ''} "
            f"({self.encoding}, {per} per segment)"
        )


def sms_size(text: str) -> SmsSize:
    non_gsm = [ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED]
    if not non_gsm:
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return SmsSize("GSM-7", septets, _segments(septets, GSM7_SINGLE, GSM7_PART))
    units = len(text.encode("utf-16-le")) // 2
    shown = tuple(dict.fromkeys(non_gsm))[:3]
    return SmsSize("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_PART), shown)


def _segments(units: int, single: int, part: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / part)
