"""Delivery reports from providers, applied to the code send they are about.

A report only ever moves a send forward (queued → sent → delivered, or a final failure):
vendors deliver callbacks out of order and more than once, and a late "sent" must not undo
"delivered". Every change that sticks is one transaction with its audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from bot.audit import AuditKind, send_detail
from bot.clock import Clock
from bot.masking import BULLETS, mask_email
from providers.reports import DeliveryState, DeliveryStatus
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
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

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
    if not verification_id.isalnum() or not seq.isdigit():
        return None, None
    return verification_id, int(seq)


# --- where vendors post their reports --------------------------------------------------------

TWILIO_STATUS_PATH = "/webhooks/twilio/status"
VONAGE_RECEIPT_PATH = "/webhooks/vonage/dlr/{token}"
SENDGRID_EVENTS_PATH = "/webhooks/sendgrid/events/{token}"
POSTMARK_WEBHOOK_PATH = "/webhooks/postmark"
POSTMARK_WEBHOOK_USER = "pinverify"


def webhook_token(secret_key: bytes, vendor: str) -> str:
    """The secret a vendor's webhook URL (or Postmark's basic-auth password) carries.

    Derived from PINVERIFY_SECRET_KEY per vendor, so there is nothing more to configure and a
    token leaked from one vendor's dashboard opens no other vendor's route.
    """
    return hmac.new(secret_key, f"pinverify-webhook:{vendor}".encode(), hashlib.sha256).hexdigest()[
        :40
    ]


def webhook_urls(public_url: str, secret_key: bytes) -> dict[str, str]:
    """The URL to give each vendor (Twilio's is sent with every message, Vonage's too)."""
    base = public_url.rstrip("/")
    host = base.split("://", 1)
    postmark = (
        f"{host[0]}://{POSTMARK_WEBHOOK_USER}:{webhook_token(secret_key, 'postmark')}@{host[1]}"
        f"{POSTMARK_WEBHOOK_PATH}"
    )
    return {
        "twilio": base + TWILIO_STATUS_PATH,
        "vonage": base + VONAGE_RECEIPT_PATH.format(token=webhook_token(secret_key, "vonage")),
        "sendgrid": base + SENDGRID_EVENTS_PATH.format(token=webhook_token(secret_key, "sendgrid")),
        "postmark": postmark,
    }
