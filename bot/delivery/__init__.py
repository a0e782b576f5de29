"""Getting a code to a phone or a mailbox: the workspace's provider, retries, which numbers may
get an SMS, delivery reports applied to sends, and the console providers' store."""

from __future__ import annotations

from bot.delivery.channels import Channel
from bot.delivery.console import ConsoleMessageStore
from bot.delivery.phones import sms_refusal
from bot.delivery.providers import (
    Attempts,
    Providers,
    SendRetrier,
    Sleep,
    failure_text,
    provider_label,
    receipt_status,
)
from bot.delivery.reports import (
    POSTMARK_WEBHOOK_PATH,
    POSTMARK_WEBHOOK_USER,
    SENDGRID_EVENTS_PATH,
    TWILIO_STATUS_PATH,
    VONAGE_RECEIPT_PATH,
    AppliedStatus,
    DeliveryTracker,
    webhook_token,
    webhook_urls,
)

__all__ = [
    "POSTMARK_WEBHOOK_PATH",
    "POSTMARK_WEBHOOK_USER",
    "SENDGRID_EVENTS_PATH",
    "TWILIO_STATUS_PATH",
    "VONAGE_RECEIPT_PATH",
    "AppliedStatus",
    "Attempts",
    "Channel",
    "ConsoleMessageStore",
    "DeliveryTracker",
    "Providers",
    "SendRetrier",
    "Sleep",
    "failure_text",
    "provider_label",
    "receipt_status",
    "sms_refusal",
    "webhook_token",
    "webhook_urls",
]
