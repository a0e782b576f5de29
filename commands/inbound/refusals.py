"""A quiet, specific "no" to a Slack request PIN Verify cannot read, in the form the person
who sent it sees: an ephemeral reply to a slash command or a click, a notice in place of a
modal. Nothing is changed by a refused request; the reason names what was wrong, never echoes
what was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from commands.blocks import escape, notice_modal
from commands.inbound.slack_payloads import ResponseUrlRef

log = logging.getLogger(__name__)
NOTHING_DONE = "Nothing was changed."


@dataclass(frozen=True)
class SlackRefusal:
    """How to answer: HTTP `status` and `body`, then (for a click) an ephemeral `text` to the
    user through `ephemeral_url` once answered."""

    status: int
    body: dict[str, Any] | None
    text: str
    ephemeral_url: str | None = None


def refusal_for(payload: Mapping[str, Any] | None, reason: str) -> SlackRefusal:
    """The answer to a request that cannot be served because of `reason` (our words)."""
    payload = payload or {}
    reason = escape(reason)
    kind = payload.get("type")
    if "command" in payload and kind is None:
        text = f"PIN Verify could not read that command: {reason}. {NOTHING_DONE}"
        return SlackRefusal(200, {"response_type": "ephemeral", "text": text}, text)
    if kind == "view_submission":
        text = f"PIN Verify could not read this form: {reason}. {NOTHING_DONE}"
        view = notice_modal("Could not save", text).to_dict()
        return SlackRefusal(200, {"response_action": "update", "view": view}, text)
    url = response_url(payload)
    if kind == "block_actions" and url is not None:
        text = (
            f"PIN Verify could not read that click: {reason}. {NOTHING_DONE} If this is a "
            "card, run /verify again for a fresh one."
        )
        return SlackRefusal(200, None, text, ephemeral_url=url)
    return SlackRefusal(400, {"ok": False, "error": reason}, reason)


def response_url(payload: Mapping[str, Any]) -> str | None:
    """The payload's response_url if it is a well-formed one, else None."""
    try:
        checked = ResponseUrlRef.model_validate({"response_url": payload.get("response_url")})
    except ValueError:
        return None
    return checked.response_url


async def tell_ephemeral(url: str, text: str) -> None:
    """Post `text` only to the user who clicked; a failure is logged, never raised."""
    try:
        await AsyncWebhookClient(url).send(
            text=text, response_type="ephemeral", replace_original=False
        )
    except (SlackApiError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("could not tell the user about a refused request: %s", type(exc).__name__)
