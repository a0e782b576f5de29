"""Delivery reports from providers, applied to the code send they are about; and what a
vendor's report route is, for the web layer to serve.

A report only ever moves a send forward (queued → sent → delivered, or a final failure):
vendors deliver callbacks out of order and more than once, and a late "sent" must not undo
"delivered". Every change that sticks is one transaction with its audit event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.audit import AuditKind, send_detail
from bot.changes import NoWatcher, VerificationWatcher
from bot.clock import Clock
from bot.masking import BULLETS, mask_email
from providers.reports import DeliveryState, DeliveryStatus, MalformedDeliveryStatus
from storage import repositories as repo
from storage.db import Database
from storage.models import Verification

log = logging.getLogger(__name__)

MAX_REASON = 300


@dataclass(frozen=True)
class AppliedStatus:
    """A report that changed a send: which verification's card to redraw."""

    verification_id: str
    seq: int
    state: DeliveryState


class DeliveryTracker:
    def __init__(
        self, *, db: Database, clock: Clock, watcher: VerificationWatcher | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._watcher: VerificationWatcher = watcher or NoWatcher()

    async def apply(self, status: DeliveryStatus) -> AppliedStatus | None:
        """Record `status` on its send; None when it is unknown, stale or a repeat."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            verification_id, seq = (
                _reference(status.reference) if status.reference else (None, None)
            )
            send = await repo.find_code_send_by_provider_message(
                session=session,
                provider=status.provider,
                message_id=status.message_id,
                verification_id=verification_id,
                seq=seq,
            )
            if send is None:
                log.info(
                    "delivery report for an unknown message", extra={"provider": status.provider}
                )
                return None
            current = _state(send.delivery_status)
            if not status.state.advances(current):
                return None
            verification = await session.get(Verification, send.verification_id)
            assert verification is not None  # a foreign key
            send.delivery_status = status.state.value
            send.delivery_error_code = (status.error_code or "")[:32] or None
            send.delivery_error = redact_contacts(status.reason or "")[:MAX_REASON] or None
            send.delivery_updated_at = now
            repo.append_audit_event(
                session=session,
                team_id=verification.team_id,
                verification_id=send.verification_id,
                kind=AuditKind.CODE_DELIVERY_STATUS,
                at=now,
                detail=send_detail(
                    send,
                    delivery_status=status.state.value,
                    error_code=send.delivery_error_code,
                    reason=send.delivery_error,
                    provider_message_id=send.provider_message_id,
                ),
            )
            await self._watcher.changed(
                session, verification, event=AuditKind.CODE_DELIVERY_STATUS, now=now, seq=send.seq
            )
            return AppliedStatus(send.verification_id, send.seq, status.state)


_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# "+1 (513) 555-7611", or bare MSISDN digits as Vonage writes them; not dates or codes.
_PHONE = re.compile(r"\+\d[\d ().-]{6,}\d|\b\d{10,15}\b")
_NOT_DIGIT = re.compile(r"\D")


def redact_contacts(text: str) -> str:
    """Vendors' free-text reasons quote the recipient ("550 5.1.1 <jane@x.com>: unknown");
    the card and the audit log keep them masked like every other destination."""
    text = _EMAIL.sub(lambda match: mask_email(match.group(0)), text)
    return _PHONE.sub(lambda match: f"{BULLETS} {_NOT_DIGIT.sub('', match.group(0))[-4:]}", text)


def _state(value: str | None) -> DeliveryState | None:
    # "unconfirmed" (our own: the provider never answered) is not a provider state: anything
    # the provider later says about the message is news.
    try:
        return DeliveryState(value) if value else None
    except ValueError:
        return None


def _reference(value: str) -> tuple[str | None, int | None]:
    """Our idempotency key `verification_id:seq`, as vendors echo it back."""
    verification_id, _, seq = value.partition(":")
    # ASCII only and bounded: "²" is a digit to str.isdigit(), and 5,000 digits are not an int.
    if not re.fullmatch(r"[A-Za-z0-9]{1,32}", verification_id) or not re.fullmatch(
        r"[0-9]{1,6}", seq
    ):
        return None, None
    return verification_id, int(seq)


# --- where vendors post their reports --------------------------------------------------------


class ReportRequest(Protocol):
    """A vendor's HTTP request as the web layer hands it over: no web framework in here."""

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str:
        """The path as requested, e.g. /webhooks/twilio/status."""
        ...

    @property
    def query_string(self) -> str: ...

    @property
    def query(self) -> Mapping[str, str]: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Read case-insensitively."""
        ...

    @property
    def path_params(self) -> Mapping[str, str]: ...

    async def body(self) -> bytes:
        """The body; raises `ReportRefused(413)` when it is larger than the web layer takes."""
        ...


class ReportRefused(Exception):
    """The request is not a report to apply; answer it with `status` (and `detail`, if any)."""

    def __init__(self, status: int, detail: str | None = None) -> None:
        super().__init__(detail or f"refused with {status}")
        self.status = status
        self.detail = detail


ReportReader = Callable[[ReportRequest], Awaitable[list[DeliveryStatus]]]


@dataclass(frozen=True)
class ReportEndpoint:
    """One vendor's delivery-report route: where it posts and how its requests are read.

    Built per vendor by the runtime's registry; `read` proves the sender (refusing with 403,
    or 404 when the vendor is not set up) before it parses anything.
    """

    vendor: str
    path: str
    methods: tuple[str, ...]
    read: ReportReader

    async def receive(self, request: ReportRequest) -> list[DeliveryStatus]:
        """The statuses `request` carries, or `ReportRefused` saying how to answer it."""
        try:
            return await self.read(request)
        except MalformedDeliveryStatus as exc:
            # The sender's fault: a 400 with the reason, never a 500.
            raise ReportRefused(400, str(exc)) from exc
