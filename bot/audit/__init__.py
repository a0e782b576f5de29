"""The audit trail: what happened, who did it, when; append-only, never a code.

`AuditKind` is the whole vocabulary of events, reviewable in one place; every state change
appends one row in the same transaction as the change itself.
"""

from __future__ import annotations

from bot.audit.details import send_detail
from bot.audit.kinds import AuditKind

__all__ = [
    "AuditKind",
    "send_detail",
]
