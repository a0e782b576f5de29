"""The transactional outbox: what must leave the building (ticket notes, channel posts), its
kinds, their typed payloads, and the relay that delivers them at least once."""

from __future__ import annotations

from bot.outbox.kinds import OutboxKind
from bot.outbox.payloads import (
    NoteFailing,
    PolicyAnnouncement,
    SettingChangeLine,
    SupervisorReport,
    TicketNote,
)
from bot.outbox.relay import (
    Deliverer,
    DeliveryDeferred,
    OutboxAttempt,
    OutboxDraft,
    OutboxHandler,
    OutboxRelay,
)

__all__ = [
    "Deliverer",
    "DeliveryDeferred",
    "NoteFailing",
    "OutboxAttempt",
    "OutboxDraft",
    "OutboxHandler",
    "OutboxKind",
    "OutboxRelay",
    "PolicyAnnouncement",
    "SettingChangeLine",
    "SupervisorReport",
    "TicketNote",
]
