"""The audit trail: what happened, who did it, when; append-only, hash-chained per workspace
(storage/audit_chain.py), never a code.

`AuditKind` is the whole vocabulary of events, reviewable in one place; every state change
appends one row in the same transaction as the change itself. `trail.py` proves the chain
(verify) and applies retention (purge behind a signed checkpoint); `export.py` writes it out.
"""

from __future__ import annotations

from bot.audit.details import send_detail
from bot.audit.export import COLUMNS, ExportFormat, count_for_export, export_trail
from bot.audit.kinds import AuditKind
from bot.audit.service import DOWNLOAD_DAYS, AuditService
from bot.audit.trail import PurgeResult, TrailVerdict, purge_trail, verify_trail

__all__ = [
    "COLUMNS",
    "DOWNLOAD_DAYS",
    "AuditKind",
    "AuditService",
    "ExportFormat",
    "PurgeResult",
    "TrailVerdict",
    "count_for_export",
    "export_trail",
    "purge_trail",
    "send_detail",
    "verify_trail",
]
