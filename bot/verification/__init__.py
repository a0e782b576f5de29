"""A verification's life, open → send → check → close: the card's rules.

- `service.py`: `VerificationService`, the one entry for every card action;
- `states.py`: the state machine and the lockout rule; `checking.py`: what Check code does;
- `send_rules.py`: why a send is refused (incl. the rolling-hour budgets);
- `send_records.py`: what a finished send writes; `reports.py`: note facts, supervisors' report;
- `snapshots.py`, `snapshot_builder.py`: what cards and reports show;
- `codes.py`: codes and their HMAC; `destinations.py`: an agent's destination edits.
"""

from __future__ import annotations

from bot.verification.destinations import MAX_REASON_CHARS, DestinationEditor, EditField, EditForm
from bot.verification.history import ContactHistory, contact_history
from bot.verification.service import VerificationService
from bot.verification.snapshot_builder import build_snapshot
from bot.verification.snapshots import SendSnapshot, VerificationSnapshot
from bot.verification.states import Outcome, SendStatus, VerificationState

__all__ = [
    "MAX_REASON_CHARS",
    "ContactHistory",
    "DestinationEditor",
    "EditField",
    "EditForm",
    "Outcome",
    "SendSnapshot",
    "SendStatus",
    "VerificationService",
    "VerificationSnapshot",
    "VerificationState",
    "build_snapshot",
    "contact_history",
]
