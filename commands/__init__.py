"""Slack in and out, one folder per screen the user sees.

- `verify/`: the `/verify` command and its replies (pick list, no match);
- `card/`: the verification card in the agent's DM: send, check, close, tickets, edits;
- `home/`: App Home and the admins' Settings and PIN-templates modals;
- `posts/`: what the outbox relay posts to channels (supervisors, announcements, notices);
- `webhooks/`: vendors' delivery reports over HTTP.

`register(app)` wires every screen's listener table; the manifest is generated from the same
tables (`bot/runtime/manifest.py`).
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from commands import card, home, posts, verify
from commands.routing import Routes, merge, register_routes

ROUTES: Routes = merge((verify.ROUTES, card.ROUTES, home.ROUTES, posts.ROUTES))
SLASH_COMMANDS = ROUTES.commands
EVENTS = ROUTES.events

__all__ = ["EVENTS", "ROUTES", "SLASH_COMMANDS", "register"]


def register(app: AsyncApp) -> None:
    register_routes(app, ROUTES)
