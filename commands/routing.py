"""A screen's listeners as a table: each screen folder declares one, `commands` merges them.

The tables are data, not decorators, so the manifest generator can read which slash commands
and events the app answers (and a test holds the two equal).
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from commands.ids import ActionId, Command
from commands.inbound.refusals import refusal_for, response_url, tell_ephemeral
from commands.parsing import PayloadError

log = logging.getLogger(__name__)
Listener = Callable[..., Awaitable[None]]
ActionKey = str | re.Pattern[str]


@dataclass(frozen=True)
class Routes:
    """What one screen answers: slash commands, button actions, modal submissions, events."""

    commands: Mapping[Command, Listener] = field(default_factory=dict)
    actions: Mapping[ActionKey, Listener] = field(default_factory=dict)
    # Modal submissions, by callback_id.
    views: Mapping[str, Listener] = field(default_factory=dict)
    # Events API subscriptions; the manifest's bot_events list holds the same names.
    events: Mapping[str, Listener] = field(default_factory=dict)
    # Inputs that send an action Slack wants acked but that need no work.
    ack_only: tuple[ActionId, ...] = ()


def merge(screens: Iterable[Routes]) -> Routes:
    """One table from every screen's; a key claimed twice is a wiring bug, refused at import."""
    merged: dict[str, dict[Any, Listener]] = {
        "commands": {},
        "actions": {},
        "views": {},
        "events": {},
    }
    ack_only: list[ActionId] = []
    for screen in screens:
        for kind, table in merged.items():
            for key, listener in getattr(screen, kind).items():
                if key in table:
                    raise ValueError(f"{kind} {key!r} is registered by two screens")
                table[key] = listener
        ack_only.extend(screen.ack_only)
    return Routes(
        commands=merged["commands"],
        actions=merged["actions"],
        views=merged["views"],
        events=merged["events"],
        ack_only=tuple(ack_only),
    )


def register_routes(app: AsyncApp, routes: Routes) -> None:
    for command, handler in routes.commands.items():
        app.command(command.value)(refusing(handler))
    for action, handler in routes.actions.items():
        app.action(action)(refusing(handler))
    for callback_id, handler in routes.views.items():
        app.view(callback_id)(refusing(handler))
    for event, handler in routes.events.items():
        app.event(event)(refusing(handler))
    for action_id in routes.ack_only:
        app.action(action_id.value)(_ack_only)


async def _ack_only(ack: AsyncAck, **_: Any) -> None:
    await ack()


# What Bolt may pass a listener, by name (Bolt injects arguments by parameter name).
_OFFERED = ("ack", "body", "command", "view", "event", "action", "client", "context", "respond")


def refusing(listener: Listener) -> Listener:
    """`listener`, answering a `PayloadError` it raises with a quiet, specific refusal.

    Inside the listener, so Bolt never sees the exception: a refusal raised just after an
    ack would otherwise race Bolt's wait for that ack and turn the answer into a 404. Before
    the ack (a modal's submission) the refusal is the answer (the modal turns into a notice);
    after it, the user who clicked or typed the command gets an ephemeral message.
    """
    wanted = [name for name in inspect.signature(listener).parameters if name in _OFFERED]

    async def run(
        ack: AsyncAck,
        body: dict[str, Any],
        command: Any,
        view: Any,
        event: Any,
        action: Any,
        client: Any,
        context: Any,
        respond: Any,
    ) -> None:
        acked = False

        async def tracked_ack(*args: Any, **kwargs: Any) -> None:
            nonlocal acked
            acked = True
            await ack(*args, **kwargs)

        offered = {
            "ack": tracked_ack,
            "body": body,
            "command": command,
            "view": view,
            "event": event,
            "action": action,
            "client": client,
            "context": context,
            "respond": respond,
        }
        try:
            await listener(**{name: offered[name] for name in wanted})
        except PayloadError as error:
            await _refuse(ack if not acked else None, body, error)

    run.__name__ = getattr(listener, "__name__", "listener")
    run.__qualname__ = getattr(listener, "__qualname__", run.__name__)
    return run


async def _refuse(ack: AsyncAck | None, body: dict[str, Any], error: PayloadError) -> None:
    user = body.get("user")
    who = user.get("id") if isinstance(user, dict) else body.get("user_id")
    log.warning("refused a malformed payload from %s: %s", who, error)
    refusal = refusal_for(body, str(error))
    if ack is not None:
        answer = refusal.body or {}
        if answer.get("response_action") == "update":
            await ack(response_action="update", view=answer["view"])
        else:
            await ack()
    url = refusal.ephemeral_url or ("command" in body and response_url(body)) or None
    if url:
        await tell_ephemeral(url, refusal.text)
