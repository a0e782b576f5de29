"""`SlackDriver`: what the Slack client and Slack's servers send to the app.

It builds slash-command, block_actions, view_submission, view_closed and Events API
payloads in Slack's shapes from what the emulator shows a user, signs them with the
app's signing secret, posts them to the app's events URL and then applies the app's
answer as Slack would (an ack message shown to the user, a modal closed or updated...).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from slack_emulator.arguments import MethodArgs
from slack_emulator.block_kit import MODAL_STACK_LIMIT
from slack_emulator.chat_methods import parse_message_content
from slack_emulator.errors import SlackApiFailure
from slack_emulator.interactions import (
    Entries,
    action_object,
    element_value,
    find_element,
    is_stateful,
    state_from_entries,
)
from slack_emulator.records import Channel, Message, StoredView
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
from slack_emulator.view_methods import MODAL, checked_view, replace_view
from slack_emulator.web_api import SlackEmulator

__all__ = [
    "ClientValidationError",
    "ConfirmationCancelled",
    "SlackDriver",
    "find_button_labels",
    "message_text",
]

# Slack gives up on the app's HTTP answer after 3 s and tells the user it failed.
ACK_DEADLINE_SECONDS = 3.0
# The deprecated per-app verification token Slack still puts in every payload.
VERIFICATION_TOKEN = "emulator-verification-token"

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
        if response.status_code != 200:
            self.interaction_errors.append(f"{what}: app answered HTTP {response.status_code}")
        elif response.elapsed.total_seconds() > ACK_DEADLINE_SECONDS:
            self.interaction_errors.append(f"{what}: ack took {response.elapsed}")

    # -- who and where --------------------------------------------------------------

    def _user_json(self, user_id: str) -> dict[str, str]:
        user = self.emulator.users.get(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id}; add it with emulator.add_user(...)")
        return {
            "id": user.id,
            "username": user.name,
            "name": user.name,
            "team_id": self.emulator.team.id,
        }

    def _common(self, kind: str, user_id: str) -> dict[str, Any]:
        """The fields every interaction payload starts with, in Slack's order."""
        return {
            "type": kind,
            "user": self._user_json(user_id),
            "api_app_id": self.emulator.bot.app_id,
            "token": VERIFICATION_TOKEN,
        }

    def _team_json(self) -> dict[str, str]:
        return {"id": self.emulator.team.id, "domain": self.emulator.team.domain}

    @staticmethod
    def _channel_name(channel: Channel) -> str:
        return "directmessage" if channel.is_im else channel.name

    # -- slash commands -------------------------------------------------------------

    async def slash_command(
        self, user_id: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> httpx.Response:
        """Run `/command text` as `user_id` (in their DM with the bot unless `channel_id`).

        A message in the app's HTTP answer is shown to the user, as Slack shows it.
        """
        user = self._user_json(user_id)
        if channel_id is None:
            channel = self.emulator.dm_channel(user_id)
        else:
            found = self.emulator.channels.get(channel_id)
            if found is None:
                raise LookupError(f"unknown channel {channel_id}")
            channel = found
        response_url = self.emulator.mint_response_url(channel.id, user_id, None)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.emulator.team.id,
            "team_domain": self.emulator.team.domain,
            "channel_id": channel.id,
            "channel_name": self._channel_name(channel),
            "user_id": user_id,
            "user_name": user["name"],
            "command": command,
            "text": text,
            "api_app_id": self.emulator.bot.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.emulator.issue_trigger(user_id),
        }
        self.sent_payloads.append(dict(fields))
        response = await self.post_signed(
            urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
        self._show_command_answer(command, channel, user_id, response, response_url)
        return response

    def _show_command_answer(
        self,
        command: str,
        channel: Channel,
        user_id: str,
        response: httpx.Response,
        response_url: str,
    ) -> None:
        reason: str | None
        if response.status_code != 200:
            reason = "http_service_error"
        elif response.elapsed.total_seconds() > ACK_DEADLINE_SECONDS:
            reason = "operation_timeout"
        else:
            reason = self._post_command_ack(channel, user_id, response, response_url)
        if reason is not None:
            self.interaction_errors.append(f"{command}: {reason}")
            self.emulator.append_slackbot_notice(
                channel.id, user_id, f'{command} failed with the error "{reason}"'
            )

    def _post_command_ack(
        self, channel: Channel, user_id: str, response: httpx.Response, response_url: str
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
            self.emulator.record_invalid_payload("slash command ack", body, errors)
            return failure.error
        if content.is_empty:
            return None
        in_channel = body.get("response_type") == "in_channel"
        message = self.emulator.append_message(
            channel.id,
            text=content.text or "",
            blocks=content.blocks or [],
            ephemeral_to=None if in_channel else user_id,
        )
        # A later replace_original through this command's response_url replaces the ack.
        target = self.emulator.response_urls.get(response_url.rsplit("/", 1)[-1])
        if target is not None:
            target.last_posted = message
        return None

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

    def _action_payload(
        self,
        user_id: str,
        surface: Message | StoredView,
        action: dict[str, Any],
        inputs: dict[str, str] | None,
        *,
        state: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload = self._common("block_actions", user_id)
        if state is None:
            chosen = None
            if action.get("type") == "static_select":
                chosen = (action["block_id"], action["action_id"], action["selected_option"])
            state = build_state_values(surface, inputs, enforce_client_checks=False, chosen=chosen)
        trigger_id = self.emulator.issue_trigger(user_id)
        if isinstance(surface, StoredView):
            surface.state_values = state
            view = surface.to_api(self.emulator.team, self.emulator.bot)
            payload.update(
                container={"type": "view", "view_id": surface.id},
                trigger_id=trigger_id,
                team=self._team_json(),
                enterprise=None,
                is_enterprise_install=False,
                view=view,
                actions=[action],
            )
            return payload
        channel = self.emulator.channels[surface.channel]
        payload.update(
            container={
                "type": "message",
                "message_ts": surface.ts,
                "channel_id": channel.id,
                "is_ephemeral": surface.is_ephemeral,
            },
            trigger_id=trigger_id,
            team=self._team_json(),
            enterprise=None,
            is_enterprise_install=False,
            channel={"id": channel.id, "name": self._channel_name(channel)},
        )
        if not surface.is_ephemeral:
            # Slack does not include ephemeral messages in the payload.
            payload["message"] = surface.to_api(self.emulator.team)
        payload.update(
            state={"values": state},
            response_url=self.emulator.mint_response_url(channel.id, user_id, surface),
            actions=[action],
        )
        return payload

    def _action_ts(self) -> str:
        return f"{self.emulator.clock():.6f}"

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
        action.update(type="button", action_ts=self._action_ts())
        return await self._post_interaction(self._action_payload(user_id, surface, action, inputs))

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
        action["action_ts"] = self._action_ts()
        return await self._post_interaction(self._action_payload(user_id, surface, action, None))

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
        action = action_object(found, value, action_ts=self._action_ts())
        state = state_from_entries(
            surface,
            entries,
            enforce_client_checks=False,
            chosen=(block_id, action_id, value) if is_stateful(found) else None,
        )
        return await self._post_interaction(
            self._action_payload(user_id, surface, action, None, state=state)
        )

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
        payload = self._common("view_submission", user_id)
        payload = {"type": payload.pop("type"), "team": self._team_json(), **payload}
        payload.update(
            trigger_id=self.emulator.issue_trigger(user_id),
            view=view.to_api(self.emulator.team, self.emulator.bot),
            response_urls=[],
            is_enterprise_install=False,
            enterprise=None,
        )
        response = await self._post_interaction(payload)
        if response.status_code == 200:
            self._apply_submission_answer(user_id, view, response)
        return response

    def _apply_submission_answer(
        self, user_id: str, view: StoredView, response: httpx.Response
    ) -> None:
        stack = self.emulator.open_views(user_id)
        try:
            answer: Any = response.json() if response.content.strip() else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            # Slack needs an empty body or a JSON object; anything else fails the submit.
            self.emulator.record_invalid_payload("view_submission answer", response.text, [])
            return
        action = answer.get("response_action")
        if action is None:
            self.emulator.set_modal_stack(user_id, stack[:-1])
        elif action == "clear":
            self.emulator.set_modal_stack(user_id, [])
        elif action == "errors":
            self._show_errors(view, answer.get("errors"))
        elif action in ("update", "push"):
            try:
                payload = checked_view(answer.get("view"), allowed_types=MODAL)
            except SlackApiFailure as failure:
                messages = failure.body().get("response_metadata", {}).get("messages", [])
                self.emulator.record_invalid_payload(f"view_submission {action}", answer, messages)
                return
            if action == "update":
                replace_view(self.emulator, view, payload)
            elif len(stack) >= MODAL_STACK_LIMIT:
                self.interaction_errors.append("view_submission push: push_limit_reached")
            else:
                pushed = self.emulator.store_view(
                    user_id, payload, root_view_id=stack[0].id, previous_view_id=view.id
                )
                self.emulator.set_modal_stack(user_id, [*stack, pushed])
        else:
            self.emulator.record_invalid_payload(
                "view_submission answer", answer, [f"unknown response_action: {action}"]
            )

    def _show_errors(self, view: StoredView, errors: Any) -> None:
        input_ids = {str(b.get("block_id")) for b in view.blocks if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors:
            self.emulator.record_invalid_payload("view_submission errors", errors, ["no errors"])
            return
        unknown = sorted(set(errors) - input_ids)
        if unknown:
            # Slack can only show an error under an input block; others fail the submit.
            self.emulator.record_invalid_payload(
                "view_submission errors", errors, [f"not input block_ids: {unknown}"]
            )
        view.errors = {str(key): str(value) for key, value in errors.items()}

    async def close_view(self, user_id: str, view_id: str) -> httpx.Response | None:
        """Press the modal's close button; the app hears of it only with notify_on_close."""
        view = self._modal_on_screen(user_id, view_id)
        stack = self.emulator.open_views(user_id)
        self.emulator.set_modal_stack(user_id, [])
        if not view.payload.get("notify_on_close"):
            return None
        payload = self._common("view_closed", user_id)
        payload.update(
            team=self._team_json(),
            view=view.to_api(self.emulator.team, self.emulator.bot),
            is_cleared=len(stack) > 1,
            is_enterprise_install=False,
            enterprise=None,
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
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.emulator.team.id,
            "context_team_id": self.emulator.team.id,
            "context_enterprise_id": None,
            "api_app_id": self.emulator.bot.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(self.emulator.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.emulator.team.id,
                    "user_id": self.emulator.bot.user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }
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
        self._user_json(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.emulator.dm_channel(user_id).id,
            "tab": "home",
            "event_ts": self._action_ts(),
        }
        home = self.emulator.home_view(user_id)
        if home is not None:
            event["view"] = home.to_api(self.emulator.team, self.emulator.bot)
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
