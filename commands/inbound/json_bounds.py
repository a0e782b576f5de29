"""JSON from outside, parsed only when it is small and shallow enough.

Python's parser recurses once per `[` or `{`: a 50,000-deep `[[[…]]]` ends in RecursionError
deep inside it. The depth is measured first, on the text, with strings blanked out, and
anything deeper than any payload Slack or a vendor sends is refused before parsing.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Slack's deepest payloads (a modal's blocks inside a view inside the payload) stay near 10.
MAX_JSON_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NESTING = re.compile(r"[\[\]{}]")


class UnreadableJson(ValueError):
    """Not JSON, or nested deeper than we read; the message says which (safe to return)."""


def json_depth(text: str, *, stop_above: int = MAX_JSON_DEPTH) -> int:
    """How deeply `text` nests arrays and objects (stops counting past `stop_above`)."""
    depth = deepest = 0
    for match in _NESTING.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def load_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse `text` as JSON, refusing what is not UTF-8, not JSON, or nested past `max_depth`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableJson("the body is not UTF-8") from exc
    if json_depth(text, stop_above=max_depth) > max_depth:
        raise UnreadableJson(f"the JSON is nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnreadableJson("the body is not JSON") from exc
