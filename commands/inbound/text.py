"""Text from outside, made safe to store and show: NUL bytes and broken Unicode refused, other
control characters stripped, every string bounded.

PostgreSQL refuses a NUL byte in `text` and neither database can store half a surrogate
pair; Slack's clients never send either, so a request carrying one was crafted and is refused
whole. Other control characters (bell, escape, DEL, the C1 range) are only noise a person
cannot type: they are stripped from what people typed, keeping tabs and line breaks where a
field is multi-line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

# Never stored, never shown: a request carrying one is refused.
UNREADABLE = re.compile("[\x00\ud800-\udfff]")
# Stripped from typed text; tab, line feed and carriage return are handled per field.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile("\r\n?|[\t\n\u2028\u2029]")


class UnreadableText(ValueError):
    """A string holds a NUL byte or a lone surrogate: not text any client sends."""


def unreadable_reason(text: str) -> str | None:
    """Why `text` cannot be stored ("a NUL byte"), or None when it can."""
    match = UNREADABLE.search(text)
    if match is None:
        return None
    return "a NUL byte" if match.group() == "\x00" else "a broken Unicode character"


def require_readable(text: str) -> str:
    reason = unreadable_reason(text)
    if reason is not None:
        raise UnreadableText(f"contains {reason}")
    return text


def clean_line(text: str) -> str:
    """One line of typed text: control characters gone, line breaks and tabs as spaces."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", require_readable(text)))


def clean_multiline(text: str) -> str:
    """Several lines of typed text: control characters gone, line breaks as `\\n`."""
    text = require_readable(text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def control_character(text: str) -> str | None:
    """The first control character in `text` as U+XXXX (tab and line breaks allowed), or
    None: for fields that must be refused rather than silently changed (templates)."""
    match = UNREADABLE.search(text) or _CONTROL.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def strings_in(value: Any, *, limit: int = 100_000) -> Iterator[str]:
    """Every string in a parsed JSON value (keys included), without recursion; stops after
    `limit` nodes (a bounded body cannot have more that matter)."""
    stack = [value]
    seen = 0
    while stack and seen < limit:
        item = stack.pop()
        seen += 1
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --- pydantic field types ---------------------------------------------------------------------

# Slack's ids: users U/W, teams T, enterprises E, channels C/D/G, views V, user groups S.
SLACK_ID_PATTERN = r"^[A-Za-z0-9]{1,32}$"
SlackId = Annotated[str, StringConstraints(pattern=SLACK_ID_PATTERN)]


READABLE = AfterValidator(require_readable)
