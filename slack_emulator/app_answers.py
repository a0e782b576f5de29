"""What Slack does with the app's HTTP answer to something the client sent.

A slash command's ack is shown to the user as a message (or as Slackbot's error notice
when it is late, failed or malformed); a view_submission's `response_action` closes,
clears, updates or pushes modals, or shows errors under input blocks. Each function
returns the problem the user would have seen, if any, for `SlackDriver` to record.
"""

from __future__ import annotations

from typing import Any

import httpx

from slack_emulator.arguments import MethodArgs
from slack_emulator.block_kit import MODAL_STACK_LIMIT
from slack_emulator.chat_methods import parse_message_content
from slack_emulator.errors import SlackApiFailure
from slack_emulator.records import Channel, StoredView
from slack_emulator.view_methods import MODAL, checked_view, replace_view
from slack_emulator.web_api import SlackEmulator

# Slack gives up on the app's HTTP answer after 3 s and tells the user it failed.
ACK_DEADLINE_SECONDS = 3.0


def ack_problem(what: str, response: httpx.Response) -> str | None:
    """What went wrong with an ack, as the user would notice it: an HTTP error or slowness."""
    if response.status_code != 200:
        return f"{what}: app answered HTTP {response.status_code}"
    if response.elapsed.total_seconds() > ACK_DEADLINE_SECONDS:
        return f"{what}: ack took {response.elapsed}"
    return None


# -- slash commands -----------------------------------------------------------------


def show_command_answer(
    emulator: SlackEmulator,
    command: str,
    channel: Channel,
    user_id: str,
    response: httpx.Response,
    response_url: str,
) -> str | None:
    """Show the command's ack, or Slackbot's notice of why it failed; returns the failure."""
    reason: str | None
    if response.status_code != 200:
        reason = "http_service_error"
    elif response.elapsed.total_seconds() > ACK_DEADLINE_SECONDS:
        reason = "operation_timeout"
    else:
        reason = _post_command_ack(emulator, channel, user_id, response, response_url)
    if reason is None:
        return None
    emulator.append_slackbot_notice(
        channel.id, user_id, f'{command} failed with the error "{reason}"'
    )
    return f"{command}: {reason}"


def _post_command_ack(
    emulator: SlackEmulator,
    channel: Channel,
    user_id: str,
    response: httpx.Response,
    response_url: str,
) -> str | None:
    """Show the ack's message, if any; returns the error Slack would show instead."""
    if not response.content.strip():
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        body: Any = response.json()
    else:
        body = {"text": response.text}
    if not isinstance(body, dict):
        return "invalid_response"
    try:
        content = parse_message_content(MethodArgs(body))
    except SlackApiFailure as failure:
        errors = failure.extra.get("errors", [])
        emulator.record_invalid_payload("slash command ack", body, errors)
        return failure.error
    if content.is_empty:
        return None
    in_channel = body.get("response_type") == "in_channel"
    message = emulator.append_message(
        channel.id,
        text=content.text or "",
        blocks=content.blocks or [],
        ephemeral_to=None if in_channel else user_id,
    )
    # A later replace_original through this command's response_url replaces the ack.
    target = emulator.response_urls.get(response_url.rsplit("/", 1)[-1])
    if target is not None:
        target.last_posted = message
    return None


# -- view submissions ---------------------------------------------------------------


def apply_submission_answer(
    emulator: SlackEmulator, user_id: str, view: StoredView, response: httpx.Response
) -> str | None:
    """Apply the app's answer to submitting `view`; returns a problem the user would see
    (an invalid answer is recorded with `record_invalid_payload` instead)."""
    stack = emulator.open_views(user_id)
    try:
        answer: Any = response.json() if response.content.strip() else {}
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # Slack needs an empty body or a JSON object; anything else fails the submit.
        emulator.record_invalid_payload("view_submission answer", response.text, [])
        return None
    action = answer.get("response_action")
    if action is None:
        emulator.set_modal_stack(user_id, stack[:-1])
    elif action == "clear":
        emulator.set_modal_stack(user_id, [])
    elif action == "errors":
        _show_errors(emulator, view, answer.get("errors"))
    elif action in ("update", "push"):
        try:
            payload = checked_view(answer.get("view"), allowed_types=MODAL)
        except SlackApiFailure as failure:
            messages = failure.body().get("response_metadata", {}).get("messages", [])
            emulator.record_invalid_payload(f"view_submission {action}", answer, messages)
            return None
        if action == "update":
            replace_view(emulator, view, payload)
        elif len(stack) >= MODAL_STACK_LIMIT:
            return "view_submission push: push_limit_reached"
        else:
            pushed = emulator.store_view(
                user_id, payload, root_view_id=stack[0].id, previous_view_id=view.id
            )
            emulator.set_modal_stack(user_id, [*stack, pushed])
    else:
        emulator.record_invalid_payload(
            "view_submission answer", answer, [f"unknown response_action: {action}"]
        )
    return None


def _show_errors(emulator: SlackEmulator, view: StoredView, errors: Any) -> None:
    input_ids = {str(b.get("block_id")) for b in view.blocks if b.get("type") == "input"}
    if not isinstance(errors, dict) or not errors:
        emulator.record_invalid_payload("view_submission errors", errors, ["no errors"])
        return
    unknown = sorted(set(errors) - input_ids)
    if unknown:
        # Slack can only show an error under an input block; others fail the submit.
        emulator.record_invalid_payload(
            "view_submission errors", errors, [f"not input block_ids: {unknown}"]
        )
    view.errors = {str(key): str(value) for key, value in errors.items()}
