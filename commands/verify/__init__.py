"""The `/verify` entry: look the caller up, reply with a pick list or open the card."""

from __future__ import annotations

from commands.ids import ActionId, Command
from commands.routing import Routes
from commands.verify.listeners import handle_pick, handle_verify

ROUTES = Routes(
    commands={Command.VERIFY: handle_verify},
    actions={ActionId.PICK_CONTACT.value: handle_pick},
)

__all__ = ["ROUTES"]
