"""The vendor registry: for each vendor, how to build its adapter and where and how it posts
delivery reports, beside what `bot.vendor_catalog` says it is (kind, name, label, settings).

Registries are plain dicts of `VendorSpec`, one entry per vendor. Adding a vendor means: its
adapter module under providers/ (with its report parser, if it sends reports), its settings
in `bot.settings.Settings`, its line in `bot.vendor_catalog`, and its entry here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Generic, TypeVar

import httpx
from pydantic import SecretStr

from bot import vendor_catalog as catalog
from bot.contacts import BuiltinDirectory
from bot.delivery import ReportEndpoint
from bot.runtime.report_routes import (
    POSTMARK_USER,
    ReportKeys,
    ReportRoute,
    postmark_webhook,
    sendgrid_events,
    twilio_status,
    vonage_receipt,
    webhook_token,
)
from bot.settings import Settings
from bot.vendor_catalog import Vendor
from providers.console import ConsoleSink
from providers.crm import ContactDirectory
from providers.crm.autotask import AutotaskConfig, AutotaskPsa
from providers.crm.connectwise import ConnectWiseConfig, ConnectWisePsa
from providers.crm.halopsa import HaloConfig, HaloPsa
from providers.crm.zendesk import ZendeskConfig, ZendeskSupport
from providers.email import EmailSender
from providers.email.console import ConsoleEmail
from providers.email.postmark import PostmarkEmail
from providers.email.sendgrid import SendGridEmail
from providers.email.smtp import SmtpEmail
from providers.sms import SmsSender
from providers.sms.console import ConsoleSms
from providers.sms.twilio import TwilioSms
from providers.sms.vonage import VonageSms
from storage.db import Database

CONSOLE_LOG = logging.getLogger("pinverify.console")
T = TypeVar("T")


@dataclass(frozen=True)
class ProviderTools:
    """What provider factories may use: shared clients, never the environment."""

    http: httpx.AsyncClient
    console: ConsoleSink
    db: Database
    # Where vendors post delivery reports, per vendor; empty without PINVERIFY_PUBLIC_URL.
    callback_urls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VendorSpec(Generic[T]):
    """One vendor: what it is (catalog), how to build it, where its delivery reports come in."""

    vendor: Vendor
    build: Callable[[Settings, ProviderTools], T]
    reports: ReportRoute | None = None

    @property
    def name(self) -> str:
        return self.vendor.name

    @property
    def label(self) -> str:
        return self.vendor.label or self.vendor.name


# --- factories -------------------------------------------------------------------------------
# Settings refuse to start (or leave a vendor out of the configured ones) without the
# catalog's settings for it, which is what the asserts below rely on.


def _secret(value: SecretStr | None) -> str:
    assert value is not None
    return value.get_secret_value()


def _console_sms(_settings: Settings, tools: ProviderTools) -> SmsSender:
    return ConsoleSms(tools.console, CONSOLE_LOG)


def _twilio_sms(settings: Settings, tools: ProviderTools) -> SmsSender:
    assert settings.twilio_account_sid and settings.twilio_from_number
    return TwilioSms(
        tools.http,
        account_sid=settings.twilio_account_sid,
        auth_token=_secret(settings.twilio_auth_token),
        from_number=settings.twilio_from_number,
        api_url=str(settings.twilio_api_url),
        timeout=settings.twilio_timeout_seconds,
        status_callback_url=tools.callback_urls.get("twilio"),
    )


def _vonage_sms(settings: Settings, tools: ProviderTools) -> SmsSender:
    assert settings.vonage_api_key and settings.vonage_from
    return VonageSms(
        tools.http,
        api_key=settings.vonage_api_key,
        api_secret=_secret(settings.vonage_api_secret),
        from_=settings.vonage_from,
        api_url=str(settings.vonage_api_url),
        status_callback_url=tools.callback_urls.get("vonage"),
    )


def _console_email(settings: Settings, tools: ProviderTools) -> EmailSender:
    return ConsoleEmail(tools.console, CONSOLE_LOG, settings.email_from or "pinverify@localhost")


def _smtp_email(settings: Settings, _tools: ProviderTools) -> EmailSender:
    target = settings.smtp_target
    assert target is not None and settings.email_from
    return SmtpEmail(
        host=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        implicit_tls=target.implicit_tls,
        starttls=target.starttls,
        sender=settings.email_from,
        timeout=settings.smtp_timeout_seconds,
        sender_name=settings.pinverify_org_name,
    )


def _sendgrid_email(settings: Settings, tools: ProviderTools) -> EmailSender:
    assert settings.email_from
    return SendGridEmail(
        tools.http,
        api_key=_secret(settings.sendgrid_api_key),
        sender=settings.email_from,
        sender_name=settings.pinverify_org_name,
        api_url=str(settings.sendgrid_api_url),
    )


def _postmark_email(settings: Settings, tools: ProviderTools) -> EmailSender:
    assert settings.email_from
    return PostmarkEmail(
        tools.http,
        server_token=_secret(settings.postmark_server_token),
        sender=settings.email_from,
        sender_name=settings.pinverify_org_name,
        api_url=str(settings.postmark_api_url),
    )


def _builtin_directory(_settings: Settings, tools: ProviderTools) -> ContactDirectory:
    return BuiltinDirectory(tools.db)


def _connectwise(settings: Settings, tools: ProviderTools) -> ContactDirectory:
    assert settings.connectwise_company_id and settings.connectwise_public_key
    assert settings.connectwise_client_id
    return ConnectWisePsa(
        tools.http,
        ConnectWiseConfig(
            api_url=str(settings.connectwise_api_url),
            company_id=settings.connectwise_company_id,
            public_key=settings.connectwise_public_key,
            private_key=_secret(settings.connectwise_private_key),
            client_id=settings.connectwise_client_id,
            default_region=settings.pinverify_default_region,
        ),
    )


def _autotask(settings: Settings, tools: ProviderTools) -> ContactDirectory:
    assert settings.autotask_username
    return AutotaskPsa(
        tools.http,
        AutotaskConfig(
            api_url=str(settings.autotask_api_url),
            username=settings.autotask_username,
            secret=_secret(settings.autotask_secret),
            integration_code=_secret(settings.autotask_integration_code),
            default_region=settings.pinverify_default_region,
        ),
    )


def _halopsa(settings: Settings, tools: ProviderTools) -> ContactDirectory:
    assert settings.halopsa_api_url and settings.halopsa_client_id
    auth_url = settings.halopsa_token_url_base
    assert auth_url is not None
    return HaloPsa(
        tools.http,
        HaloConfig(
            api_url=str(settings.halopsa_api_url),
            auth_url=auth_url,
            client_id=settings.halopsa_client_id,
            client_secret=_secret(settings.halopsa_client_secret),
            tenant=settings.halopsa_tenant,
            default_region=settings.pinverify_default_region,
        ),
    )


def _zendesk(settings: Settings, tools: ProviderTools) -> ContactDirectory:
    assert settings.zendesk_api_url and settings.zendesk_email
    return ZendeskSupport(
        tools.http,
        ZendeskConfig(
            api_url=str(settings.zendesk_api_url),
            email=settings.zendesk_email,
            api_token=_secret(settings.zendesk_api_token),
            default_region=settings.pinverify_default_region,
        ),
    )


# --- the registry -----------------------------------------------------------------------------


def _by_name(*specs: VendorSpec[T]) -> dict[str, VendorSpec[T]]:
    return {spec.name: spec for spec in specs}


SMS_VENDORS: dict[str, VendorSpec[SmsSender]] = _by_name(
    VendorSpec(catalog.CONSOLE_SMS, _console_sms),
    VendorSpec(
        catalog.TWILIO,
        _twilio_sms,
        ReportRoute(
            "/webhooks/twilio/status",
            ("POST",),
            twilio_status,
            setup="sent as StatusCallback with every SMS; nothing to set at Twilio",
        ),
    ),
    VendorSpec(
        catalog.VONAGE,
        _vonage_sms,
        ReportRoute(
            "/webhooks/vonage/dlr/{token}",
            ("GET", "POST"),
            vonage_receipt,
            setup="sent as the callback with every SMS; nothing to set at Vonage",
        ),
    ),
)
EMAIL_VENDORS: dict[str, VendorSpec[EmailSender]] = _by_name(
    VendorSpec(catalog.CONSOLE_EMAIL, _console_email),
    VendorSpec(catalog.SMTP, _smtp_email),
    VendorSpec(
        catalog.SENDGRID,
        _sendgrid_email,
        ReportRoute("/webhooks/sendgrid/events/{token}", ("POST",), sendgrid_events),
    ),
    VendorSpec(
        catalog.POSTMARK,
        _postmark_email,
        ReportRoute(
            "/webhooks/postmark", ("POST",), postmark_webhook, basic_auth_user=POSTMARK_USER
        ),
    ),
)
CRM_VENDORS: dict[str, VendorSpec[ContactDirectory]] = _by_name(
    VendorSpec(catalog.DIRECTORY, _builtin_directory),
    VendorSpec(catalog.CONNECTWISE, _connectwise),
    VendorSpec(catalog.AUTOTASK, _autotask),
    VendorSpec(catalog.HALOPSA, _halopsa),
    VendorSpec(catalog.ZENDESK, _zendesk),
)
MESSAGING_VENDORS: tuple[VendorSpec[SmsSender] | VendorSpec[EmailSender], ...] = (
    *SMS_VENDORS.values(),
    *EMAIL_VENDORS.values(),
)


# --- what the runtime asks of it ----------------------------------------------------------------


def configured_providers(
    settings: Settings, tools: ProviderTools
) -> tuple[dict[str, SmsSender], dict[str, EmailSender]]:
    """Every provider whose settings are present, by name: each workspace picks its own."""
    sms = {
        name: SMS_VENDORS[name].build(settings, tools) for name in settings.configured_sms_providers
    }
    email = {
        name: EMAIL_VENDORS[name].build(settings, tools)
        for name in settings.configured_email_providers
    }
    return sms, email


def configured_messaging(
    settings: Settings,
) -> list[VendorSpec[SmsSender] | VendorSpec[EmailSender]]:
    """The SMS and email vendors this server has the settings for, in registry order."""
    sms, email = settings.configured_sms_providers, settings.configured_email_providers
    return [
        *(spec for spec in SMS_VENDORS.values() if spec.name in sms),
        *(spec for spec in EMAIL_VENDORS.values() if spec.name in email),
    ]


def contact_directory(settings: Settings, tools: ProviderTools) -> ContactDirectory:
    return CRM_VENDORS[settings.crm_provider].build(settings, tools)


def webhook_urls(public_url: str, secret_key: bytes) -> dict[str, str]:
    """The URL to give each vendor that reports delivery (Twilio's and Vonage's are sent with
    every message)."""
    return {
        spec.name: spec.reports.url(public_url, webhook_token(secret_key, spec.name))
        for spec in MESSAGING_VENDORS
        if spec.reports is not None
    }


def report_endpoints(settings: Settings, secret_key: bytes) -> list[ReportEndpoint]:
    """A delivery-report route per vendor that has one; only configured vendors' answer."""
    configured = configured_messaging(settings)
    public_url = str(settings.pinverify_public_url) if settings.pinverify_public_url else None
    endpoints = []
    for spec in MESSAGING_VENDORS:
        if spec.reports is None:
            continue
        token = webhook_token(secret_key, spec.name) if spec in configured else None
        keys = ReportKeys(settings=settings, token=token, public_url=public_url)
        endpoints.append(
            ReportEndpoint(
                vendor=spec.name,
                path=spec.reports.path,
                methods=spec.reports.methods,
                read=partial(spec.reports.read, keys),
            )
        )
    return endpoints
