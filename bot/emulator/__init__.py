"""A local fake of Slack for end-to-end tests and the browser sandbox.

`SlackEmulator` serves the Web API (and response_url) over HTTP and keeps the workspace
state; `SlackDriver` plays the Slack client towards the app. Method definitions live in
`methods/` (from slack-ruby/slack-api-ref, MIT: see `LICENSE`).
"""

from __future__ import annotations

from bot.emulator.driver import ConfirmationCancelled, SlackDriver
from bot.emulator.records import ApiCall, Channel, InvalidPayload, Message, StoredView, User
from bot.emulator.surfaces import ClientValidationError, find_button_labels, message_text
from bot.emulator.web_api import DEFAULT_BOT_SCOPES, SlackEmulator

__all__ = [
    "DEFAULT_BOT_SCOPES",
    "ApiCall",
    "Channel",
    "ClientValidationError",
    "ConfirmationCancelled",
    "InvalidPayload",
    "Message",
    "SlackDriver",
    "SlackEmulator",
    "StoredView",
    "User",
    "find_button_labels",
    "message_text",
]
