"""Typed access to Web API arguments, which arrive as form strings or as JSON values."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from slack_emulator.errors import invalid_arguments

# Arguments Slack documents as JSON "presented as a URL-encoded string" in form bodies.
JSON_ARGUMENTS = frozenset({"blocks", "view", "attachments", "metadata"})


class MethodArgs:
    """The arguments of one call, whichever way they were encoded."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def require_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise invalid_arguments(f"missing required field: {name}")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def json_value(self, name: str) -> Any:
        """The decoded value; raises ValueError when a string is not valid JSON."""
        value = self.values.get(name)
        if isinstance(value, str):
            return json.loads(value)
        return value


def decoded_for_record(values: dict[str, Any]) -> dict[str, Any]:
    """A copy for `emulator.calls`: JSON-string arguments decoded, the token left out."""
    record: dict[str, Any] = {}
    for name, value in values.items():
        if name == "token":
            continue
        if name in JSON_ARGUMENTS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        record[name] = value
    return record
