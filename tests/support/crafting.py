"""Crafted Slack requests: what a real client would send for a surface, bent on purpose, signed
(or not) and posted to the app. For tests of hostile input only."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from slack_emulator import Message, StoredView
from slack_emulator import client_payloads as payloads
from slack_emulator.surfaces import find_button
from tests.support.bot import AGENT, RunningBot

Payload = dict[str, Any]


def click_payload(bot: RunningBot, surface: Message | StoredView, label: str) -> Payload:
    """The block_actions payload a click on `label` sends (nothing is posted)."""
    found = find_button(surface, label)
    action: Payload = {
        "action_id": found.element.get("action_id"),
        "block_id": found.block_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "type": "button",
        "action_ts": payloads.action_ts(bot.emulator),
    }
    if "value" in found.element:
        action["value"] = found.element["value"]
    return payloads.action_payload(bot.emulator, AGENT, surface, action, None)


def submission_payload(bot: RunningBot, view: StoredView) -> Payload:
    return payloads.view_submission_payload(bot.emulator, AGENT, view)


def bent(payload: Payload, change: Callable[[Payload], None]) -> Payload:
    copied = copy.deepcopy(payload)
    change(copied)
    return copied


async def post_raw(
    bot: RunningBot,
    body: str | bytes,
    *,
    content_type: str = "application/json",
    signed: bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST `body` to /slack/events, signed with the app's secret unless `signed` is False."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    sent = {"content-type": content_type}
    if signed:
        # slack_sdk signs text; bytes that are not UTF-8 are signed as Slack would sign them.
        stamp = str(int(time.time()))
        base = b"v0:" + stamp.encode() + b":" + raw
        digest = hmac.new(bot.driver.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        sent.update({"x-slack-request-timestamp": stamp, "x-slack-signature": f"v0={digest}"})
    sent.update(headers or {})
    return await bot.driver.client.post(bot.driver.events_url, content=raw, headers=sent)


async def post_interaction(
    bot: RunningBot, payload: Payload, *, signed: bool = True
) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)})
    return await post_raw(
        bot, body, content_type="application/x-www-form-urlencoded", signed=signed
    )


async def post_command(bot: RunningBot, text: str, *, signed: bool = True) -> httpx.Response:
    fields = payloads.slash_command_fields(
        bot.emulator,
        AGENT,
        "/verify",
        text,
        channel=bot.emulator.dm_channel(AGENT),
        user_name="alice",
        response_url=bot.emulator.mint_response_url(bot.emulator.dm_channel(AGENT).id, AGENT, None),
    )
    return await post_raw(
        bot,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        signed=signed,
    )
