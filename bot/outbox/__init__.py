"""The transactional outbox: what must leave the building (ticket notes, channel posts), its
kinds, their typed payloads, and the relay that delivers them at least once, paced per
channel and coalesced where only the newest state matters."""

from __future__ import annotations

from bot.outbox.kinds import AlertKind, OutboxKind, channel_pace_key
from bot.outbox.payloads import (
    DigestRow,
    LiveReport,
    NoteFailing,
    PolicyAnnouncement,
    SettingChangeLine,
    SupervisorAlert,
    SupervisorDigest,
    SupervisorReport,
    TicketNote,
)
from bot.outbox.relay import (
    Deliverer,
    DeliveryDeferred,
    DeliveryPostponed,
    OutboxAttempt,
    OutboxDraft,
    OutboxHandler,
    OutboxRelay,
)

__all__ = [
    "AlertKind",
    "Deliverer",
    "DeliveryDeferred",
    "DeliveryPostponed",
    "DigestRow",
    "LiveReport",
    "NoteFailing",
    "OutboxAttempt",
    "OutboxDraft",
    "OutboxHandler",
    "OutboxKind",
    "OutboxRelay",
    "PolicyAnnouncement",
    "SettingChangeLine",
    "SupervisorAlert",
    "SupervisorDigest",
    "SupervisorReport",
    "TicketNote",
    "channel_pace_key",
]
