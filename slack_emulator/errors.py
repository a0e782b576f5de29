"""How an emulated Web API method refuses a call: raise `SlackApiFailure`."""

from __future__ import annotations

from typing import Any


class SlackApiFailure(Exception):
    """An `{"ok": false, "error": ...}` answer, with any extra fields Slack adds to it.

    `invalid_payload` carries what the caller sent when the failure is a Block Kit
    rejection, so the emulator can record it in `invalid_payloads`.
    """

    def __init__(
        self,
        error: str,
        *,
        extra: dict[str, Any] | None = None,
        invalid_payload: Any = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra or {}
        self.invalid_payload = invalid_payload

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> SlackApiFailure:
    """Slack's answer to arguments that fail its schema (missing field, bad view...)."""
    return SlackApiFailure(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] {m}" for m in messages]}},
    )
