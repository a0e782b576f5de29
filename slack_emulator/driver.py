"""`SlackDriver`: the Slack client (and Slack's servers) acting towards the app.

It takes what the emulator shows a user (messages, modals, the Home tab), turns a user's
gesture on it (a slash command, a click, a menu choice, a submit or close, an event) into
Slack's payload, signs it with the app's signing secret, posts it to the app's events URL
and then applies the app's answer as Slack would. The payloads' shapes live in
`client_payloads`, and what Slack does with the app's answer in `app_answers`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from slack_emulator import client_payloads as payloads
from slack_emulator.app_answers import ack_problem, apply_submission_answer, show_command_answer
from slack_emulator.interactions import (
    Entries,
    action_object,
    element_value,
    find_element,
    is_stateful,
    state_from_entries,
)
from slack_emulator.records import Message, StoredView
from slack_emulator.surfaces import (
    ClientValidationError,
    FoundElement,
    build_state_values,
    find_button,
    find_button_labels,
    find_option,
    find_select,
    message_text,
)
from slack_emulator.web_api import SlackEmulator

__all__ = [
    "ClientValidationError",
    "ConfirmationCancelled",
    "SlackDriver",
    "find_button_labels",
    "message_text",
]

ResultT = TypeVar("ResultT")


class ConfirmationCancelled(Exception):
    """The button has a confirm dialog and the user pressed its cancel button, so the
    client sent nothing."""


class SlackDriver:
    """Acts as the Slack client (and Slack's servers) towards the app under test."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        client: httpx.AsyncClient,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.client = client
        # Every payload posted to the app, in order, for tests that inspect shapes.
        self.sent_payloads: list[dict[str, Any]] = []
        # What the user would have seen go wrong: slow acks, HTTP errors from the app.
        self.interaction_errors: list[str] = []

    # -- signing and posting --------------------------------------------------------

    def signed_headers(
        self, body: str, *, timestamp: int | str | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Slack's signature headers for `body`; pass an old `timestamp` or another
        `secret` to forge a request the app must refuse."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(secret if secret is not None else self.signing_secret)
        signature = verifier.generate_signature(timestamp=stamp, body=body)
        if signature is None:  # slack_sdk types it Optional; it is None only for no secret
            raise ValueError("a signing secret is required")
        return {"x-slack-signature": signature, "x-slack-request-timestamp": stamp}

    async def post_signed(
        self, body: str, *, content_type: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        all_headers = {"content-type": content_type, **self.signed_headers(body)}
        all_headers.update(headers or {})
        return await self.client.post(self.events_url, content=body.encode(), headers=all_headers)

    async def _post_interaction(self, payload: dict[str, Any]) -> httpx.Response:
        self.sent_payloads.append(payload)
        body = urlencode({"payload": json.dumps(payload)})
        response = await self.post_signed(body, content_type="application/x-www-form-urlencoded")
        self._note_ack_problems(str(payload.get("type")), response)
        return response

    def _note_ack_problems(self, what: str, response: httpx.Response) -> None:
        if (problem := ack_problem(what, response)) is not None:
            self.interaction_errors.append(problem)

    # -- slash commands -------------------------------------------------------------

    async def slash_command(
        self, user_id: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> httpx.Response:
        """Run `/command text` as `user_id` (in their DM with the bot unless `channel_id`).

        A message in the app's HTTP answer is shown to the user, as Slack shows it.
        """
        user = payloads.user_json(self.emulator, user_id)
        if channel_id is None:
            channel = self.emulator.dm_channel(user_id)
        else:
            found = self.emulator.channels.get(channel_id)
            if found is None:
                raise LookupError(f"unknown channel {channel_id}")
            channel = found
        response_url = self.emulator.mint_response_url(channel.id, user_id, None)
        fields = payloads.slash_command_fields(
            self.emulator,
            user_id,
            command,
            text,
            channel=channel,
            user_name=user["name"],
            response_url=response_url,
        )
        self.sent_payloads.append(dict(fields))
        response = await self.post_signed(
            urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
        problem = show_command_answer(
            self.emulator, command, channel, user_id, response, response_url
        )
        if problem is not None:
            self.interaction_errors.append(problem)
        return response

    # -- clicks and menus -----------------------------------------------------------

    def _current(self, user_id: str, surface: Message | StoredView) -> Message | StoredView:
        """The surface as the user sees it now, refusing ones they cannot see."""
        if isinstance(surface, StoredView):
            view = self.emulator.views.get(surface.id)
            if view is None or view.user_id != user_id:
                raise LookupError(f"view {surface.id} is not shown to {user_id}")
            if view.type == "home":
                on_screen = self.emulator.home_view(user_id) is view
            else:
                on_screen = view.is_open and self.emulator.open_views(user_id)[-1:] == [view]
            if not on_screen:
                raise LookupError(f"view {surface.id} is not on {user_id}'s screen")
            return view
        if not self.emulator.is_live(surface):
            raise LookupError(f"message {surface.ts} in {surface.channel} no longer exists")
        if surface.is_ephemeral:
            if surface.ephemeral_to != user_id:
                raise LookupError(f"ephemeral message {surface.ts} is not shown to {user_id}")
        elif not self.emulator.can_see(user_id, self.emulator.channels[surface.channel]):
            raise LookupError(f"{user_id} cannot see channel {surface.channel}")
        return surface

    async def click(
        self,
        user_id: str,
        message: Message | StoredView,
        label: str,
        *,
        inputs: dict[str, str] | None = None,
        confirm: bool = True,
    ) -> httpx.Response:
        """Press the button labelled `label` on a message (or modal / home tab), with
        `inputs` (input label → text) typed into the surface's input blocks first.

        `confirm=False` answers a confirm dialog with cancel: raises ConfirmationCancelled
        and sends nothing. Raises LookupError if no such button is shown.
        """
        surface = self._current(user_id, message)
        found = find_button(surface, label)
        if "confirm" in found.element and not confirm:
            raise ConfirmationCancelled(f"{label!r} asks for confirmation; cancelled")
        action: dict[str, Any] = {
            "action_id": found.element.get("action_id"),
            "block_id": found.block_id,
            "text": {"type": "plain_text", "text": label, "emoji": True},
        }
        for key in ("value", "style", "url"):
            if key in found.element:
                action[key] = found.element[key]
        action.update(type="button", action_ts=payloads.action_ts(self.emulator))
        payload = payloads.action_payload(self.emulator, user_id, surface, action, inputs)
        return await self._post_interaction(payload)

    async def select(
        self,
        user_id: str,
        message: Message | StoredView,
        placeholder_or_label: str,
        option_text: str,
    ) -> httpx.Response:
        """Choose `option_text` in a static_select (named by its placeholder) or an
        overflow menu (named by its section's text)."""
        surface = self._current(user_id, message)
        found: FoundElement = find_select(surface, placeholder_or_label)
        option = find_option(found.element, option_text)
        action: dict[str, Any] = {
            "type": found.element.get("type"),
            "action_id": found.element.get("action_id"),
            "block_id": found.block_id,
            "selected_option": option,
        }
        if "placeholder" in found.element:
            action["placeholder"] = found.element["placeholder"]
        action["action_ts"] = payloads.action_ts(self.emulator)
        payload = payloads.action_payload(self.emulator, user_id, surface, action, None)
        return await self._post_interaction(payload)

    async def act(
        self,
        user_id: str,
        surface: Message | StoredView,
        block_id: str,
        action_id: str,
        *,
        entries: Entries | None = None,
        chosen: Any = None,
    ) -> httpx.Response:
        """Use the element (`block_id`, `action_id`) as a client that knows ids does:
        `chosen` is the raw value picked in a menu (an option's value, a user id...) and
        `entries` the raw values of every input (block_id → action_id → value).

        Raises LookupError for an element or option that is not shown. A confirm dialog
        is the client's business: call this only once the user confirmed.
        """
        surface = self._current(user_id, surface)
        found = find_element(surface, block_id, action_id)
        is_button = found.element.get("type") in ("button", "workflow_button")
        value = None if is_button else element_value(found.element, chosen)
        action = action_object(found, value, action_ts=payloads.action_ts(self.emulator))
        state = state_from_entries(
            surface,
            entries,
            enforce_client_checks=False,
            chosen=(block_id, action_id, value) if is_stateful(found) else None,
        )
        payload = payloads.action_payload(
            self.emulator, user_id, surface, action, None, state=state
        )
        return await self._post_interaction(payload)

    # -- modals ---------------------------------------------------------------------

    def _modal_on_screen(self, user_id: str, view_id: str) -> StoredView:
        stack = self.emulator.open_views(user_id)
        if not stack or stack[-1].id != view_id:
            shown = [view.id for view in stack]
            raise LookupError(f"view {view_id} is not on {user_id}'s screen (stack: {shown})")
        return stack[-1]

    async def submit_view(
        self, user_id: str, view_id: str, values: dict[str, str] | None = None
    ) -> httpx.Response:
        """Fill the modal's inputs (input label → text) and press its submit button.

        The client's own checks run first (raises ClientValidationError); the app's
        answer is then applied: errors shown, view updated / pushed, or closed.
        """
        view = self._modal_on_screen(user_id, view_id)
        view.state_values = build_state_values(view, values, enforce_client_checks=True)
        return await self._submit(user_id, view)

    async def submit_entries(
        self, user_id: str, view_id: str, entries: Entries | None
    ) -> httpx.Response:
        """`submit_view` for a client that knows ids: `entries` maps block_id → action_id
        → raw value (see `act`)."""
        view = self._modal_on_screen(user_id, view_id)
        view.state_values = state_from_entries(view, entries, enforce_client_checks=True)
        return await self._submit(user_id, view)

    async def _submit(self, user_id: str, view: StoredView) -> httpx.Response:
        payload = payloads.view_submission_payload(self.emulator, user_id, view)
        response = await self._post_interaction(payload)
        if response.status_code == 200:
            problem = apply_submission_answer(self.emulator, user_id, view, response)
            if problem is not None:
                self.interaction_errors.append(problem)
        return response

    async def close_view(self, user_id: str, view_id: str) -> httpx.Response | None:
        """Press the modal's close button; the app hears of it only with notify_on_close."""
        view = self._modal_on_screen(user_id, view_id)
        stack = self.emulator.open_views(user_id)
        self.emulator.set_modal_stack(user_id, [])
        if not view.payload.get("notify_on_close"):
            return None
        payload = payloads.view_closed_payload(
            self.emulator, user_id, view, is_cleared=len(stack) > 1
        )
        return await self._post_interaction(payload)

    # -- events ---------------------------------------------------------------------

    async def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        """Deliver an Events API `event_callback`; give the same `event_id` and a
        `retry_num` to replay it as one of Slack's retries."""
        envelope = payloads.event_envelope(self.emulator, event, event_id=event_id)
        self.sent_payloads.append(envelope)
        headers = {}
        if retry_num is not None:
            headers = {"x-slack-retry-num": str(retry_num), "x-slack-retry-reason": retry_reason}
        response = await self.post_signed(
            json.dumps(envelope), content_type="application/json", headers=headers
        )
        self._note_ack_problems(str(event.get("type")), response)
        return response

    async def open_home(self, user_id: str) -> httpx.Response:
        """The user opens the app's Home tab: an `app_home_opened` event."""
        event = payloads.app_home_opened_event(self.emulator, user_id)
        return await self.send_event(event)

    # -- reading what the user sees -------------------------------------------------

    def dm_messages(self, user_id: str) -> list[Message]:
        return self.emulator.dm_messages(user_id)

    def ephemeral_messages(self, user_id: str, channel_id: str | None = None) -> list[Message]:
        return self.emulator.ephemeral_messages(user_id, channel_id)

    async def wait_for(
        self, predicate: Callable[[], ResultT | None], timeout: float = 5.0
    ) -> ResultT:
        """Poll every 10 ms until `predicate()` is truthy and return it: the app keeps
        working after its ack, so what it posts arrives a little later."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if loop.time() >= deadline:
                recent = [
                    f"{call.method}:{'ok' if call.ok else call.error}"
                    for call in self.emulator.calls[-8:]
                ]
                raise TimeoutError(f"not true after {timeout}s; last API calls: {recent}")
            await asyncio.sleep(0.01)
