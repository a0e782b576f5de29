"""A local fake of Slack for end-to-end tests and the browser sandbox.

`SlackEmulator` serves the Web API (and response_url, and file upload URLs) over HTTP and
keeps the workspace state; `SlackDriver` plays the Slack client towards the app. Method
definitions live in `methods/` (from slack-ruby/slack-api-ref, MIT: see `LICENSE`), except
conversations.history, conversations.replies, files.getUploadURLExternal and
files.completeUploadExternal, written by hand from Slack's method reference in the same
format. `RateLimits` enforces Slack's pace on request (one post a second per channel, Tier 3
updates).
"""

from __future__ import annotations

from slack_emulator.driver import ConfirmationCancelled, SlackDriver
from slack_emulator.rate_limits import RateLimits
from slack_emulator.records import ApiCall, Channel, InvalidPayload, Message, StoredView, User
from slack_emulator.surfaces import ClientValidationError, find_button_labels, message_text
from slack_emulator.web_api import DEFAULT_BOT_SCOPES, SlackEmulator

__all__ = [
    "DEFAULT_BOT_SCOPES",
    "ApiCall",
    "Channel",
    "ClientValidationError",
    "ConfirmationCancelled",
    "InvalidPayload",
    "Message",
    "RateLimits",
    "SlackDriver",
    "SlackEmulator",
    "StoredView",
    "User",
    "find_button_labels",
    "message_text",
]
