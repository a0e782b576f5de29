"""A screen's listeners as a table: each screen folder declares one, `commands` merges them.

The tables are data, not decorators, so the manifest generator can read which slash commands
and events the app answers (and a test holds the two equal).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from commands.ids import ActionId, Command

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
        app.command(command.value)(handler)
    for action, handler in routes.actions.items():
        app.action(action)(handler)
    for callback_id, handler in routes.views.items():
        app.view(callback_id)(handler)
    for event, handler in routes.events.items():
        app.event(event)(handler)
    for action_id in routes.ack_only:
        app.action(action_id.value)(_ack_only)


async def _ack_only(ack: AsyncAck, **_: Any) -> None:
    await ack()
