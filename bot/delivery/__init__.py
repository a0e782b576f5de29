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
    AppliedStatus,
    DeliveryTracker,
    ReportEndpoint,
    ReportRefused,
    ReportRequest,
)
from providers.reports import DeliveryStatus

__all__ = [
    "AppliedStatus",
    "Attempts",
    "Channel",
    "ConsoleMessageStore",
    "DeliveryStatus",
    "DeliveryTracker",
    "Providers",
    "ReportEndpoint",
    "ReportRefused",
    "ReportRequest",
    "SendRetrier",
    "Sleep",
    "failure_text",
    "provider_label",
    "receipt_status",
    "sms_refusal",
]
