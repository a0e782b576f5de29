"""What the outbox relay posts to channels (the supervisors' live messages, alerts, settings
thread, digest; notices), and the one thing supervisors do there: Void."""

from __future__ import annotations

from commands.ids import ActionId, CallbackId
from commands.posts.void import handle_void_button, handle_void_submission
from commands.routing import Routes

ROUTES = Routes(
    actions={ActionId.VOID_VERIFICATION.value: handle_void_button},
    views={CallbackId.VOID_VERIFICATION.value: handle_void_submission},
)

__all__ = ["ROUTES"]
