"""The composition root: settings in, a running set of parts out (used by the CLI and tests)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bot.app import create_app
from bot.clock import Clock, SystemClock
from bot.console_store import ConsoleMessageStore
from bot.deps import Deps
from bot.destinations import DestinationEditor
from bot.directory import BuiltinDirectory
from bot.outbox import Deliverer, OutboxRelay
from bot.policy import Policy
from bot.rendering import MessageRenderer, default_templates
from bot.roles import Roles
from bot.server import create_server
from bot.settings import Settings
from bot.templates_store import TemplateService
from bot.verification import SUPERVISOR_POST, VerificationService
from bot.workspace_settings import POLICY_ANNOUNCEMENT
from commands.supervisors import announcement_deliverer, supervisor_deliverer
from providers.console import ConsoleSink
from providers.crm import ContactDirectory
from providers.email import EmailSender
from providers.email.console import ConsoleEmail
from providers.email.smtp import SmtpEmail
from providers.sms import SmsSender
from providers.sms.console import ConsoleSms
from providers.sms.twilio import TwilioSms
from storage.db import Database, make_engine
from storage.migrate import upgrade_database

log = logging.getLogger("pinverify")
CONSOLE_LOG = logging.getLogger("pinverify.console")
PROVIDER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class ProviderTools:
    """What provider factories may use: shared clients, never the environment."""

    http: httpx.AsyncClient
    console: ConsoleSink
    db: Database


def _console_sms(_settings: Settings, tools: ProviderTools) -> SmsSender:
    return ConsoleSms(tools.console, CONSOLE_LOG)


def _twilio_sms(settings: Settings, tools: ProviderTools) -> SmsSender:
    assert settings.twilio_account_sid and settings.twilio_auth_token
    assert settings.twilio_from_number
    return TwilioSms(
        tools.http,
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        from_number=settings.twilio_from_number,
        api_url=str(settings.twilio_api_url),
        timeout=settings.twilio_timeout_seconds,
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


def _builtin_directory(_settings: Settings, tools: ProviderTools) -> ContactDirectory:
    return BuiltinDirectory(tools.db)


SMS_PROVIDERS: dict[str, Callable[[Settings, ProviderTools], SmsSender]] = {
    "console": _console_sms,
    "twilio": _twilio_sms,
}
EMAIL_PROVIDERS: dict[str, Callable[[Settings, ProviderTools], EmailSender]] = {
    "console": _console_email,
    "smtp": _smtp_email,
}
# What a provider needs from Settings before it can be built (console needs nothing).
PROVIDER_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "twilio": ("twilio_account_sid", "twilio_auth_token", "twilio_from_number"),
    "smtp": ("smtp_url", "email_from"),
}


def configured_providers(settings: Settings, registry: Mapping[str, object]) -> tuple[str, ...]:
    """The registry's providers this server has the configuration for: what admins may pick."""
    return tuple(
        name
        for name in registry
        if all(getattr(settings, need) is not None for need in PROVIDER_REQUIREMENTS.get(name, ()))
    )


CRM_PROVIDERS: dict[str, Callable[[Settings, ProviderTools], ContactDirectory]] = {
    "directory": _builtin_directory,
}


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    deps: Deps
    slack_app: AsyncApp | None
    slack_client: AsyncWebClient | None
    server: Starlette


def secret_key(settings: Settings) -> bytes:
    if settings.pinverify_secret_key is not None:
        return settings.pinverify_secret_key.get_secret_value().encode()
    log.warning(
        "PINVERIFY_SECRET_KEY is not set: using a random key for this run only, so codes "
        "sent before a restart cannot be checked after it (fine for development)."
    )
    return secrets.token_bytes(32)


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    run_relay: bool = True,
) -> AsyncIterator[Runtime]:
    """Build every part from `settings`, and close them all on the way out."""
    clock = clock or SystemClock()
    db = Database(make_engine(settings.database_url))
    http = httpx.AsyncClient(timeout=PROVIDER_TIMEOUT)
    try:
        if migrate:
            await upgrade_database(db.engine)
        tools = ProviderTools(http=http, console=ConsoleMessageStore(db, clock), db=db)
        client = slack_client(settings, retry_rate_limits=True)
        relay_client = slack_client(settings, retry_rate_limits=False)
        deliverers: dict[str, Deliverer] = {}
        if relay_client is not None:
            # The relay schedules its own retries from Retry-After; no sleeping in the client.
            deliverers[SUPERVISOR_POST] = supervisor_deliverer(relay_client)
            deliverers[POLICY_ANNOUNCEMENT] = announcement_deliverer(relay_client)
        relay = OutboxRelay(
            db=db,
            clock=clock,
            deliverers=deliverers,
            poll_seconds=settings.pinverify_outbox_poll_seconds,
        )
        # Every configured provider is built: an admin may switch between them in Settings.
        sms_names = configured_providers(settings, SMS_PROVIDERS)
        email_names = configured_providers(settings, EMAIL_PROVIDERS)
        sms_senders = {name: SMS_PROVIDERS[name](settings, tools) for name in sms_names}
        email_senders = {name: EMAIL_PROVIDERS[name](settings, tools) for name in email_names}
        sms = sms_senders[settings.sms_provider]
        email = email_senders[settings.email_provider]
        renderer = MessageRenderer()
        templates = default_templates()
        policy_defaults = Policy.from_settings(settings)
        verifications = VerificationService(
            db=db,
            clock=clock,
            sms=sms,
            email=email,
            sms_by_name=sms_senders,
            email_by_name=email_senders,
            renderer=renderer,
            templates=templates,
            secret_key=secret_key(settings),
            defaults=policy_defaults,
            organisation=settings.pinverify_org_name,
            outbox_written=relay.kick,
        )
        deps = Deps(
            settings=settings,
            db=db,
            clock=clock,
            contacts=CRM_PROVIDERS[settings.crm_provider](settings, tools),
            verifications=verifications,
            relay=relay,
            roles=Roles(client=client, settings=settings, db=db, clock=clock),
            sms_provider_names=sms_names,
            email_provider_names=email_names,
            templates=TemplateService(
                db=db,
                clock=clock,
                renderer=renderer,
                defaults=templates,
                policy_defaults=policy_defaults,
                organisation=settings.pinverify_org_name,
                sms=sms,
                email=email,
                sms_by_name=sms_senders,
                email_by_name=email_senders,
                announcement_kind=POLICY_ANNOUNCEMENT,
                outbox_written=relay.kick,
            ),
            destinations=DestinationEditor(
                db=db,
                clock=clock,
                defaults=policy_defaults,
                region=settings.pinverify_default_region,
            ),
        )
        slack_app = None
        if client is not None and settings.slack_signing_secret is not None:
            slack_app = create_app(
                deps,
                client=client,
                signing_secret=settings.slack_signing_secret.get_secret_value(),
            )
        server = create_server(deps, slack_app, run_relay=run_relay)
        yield Runtime(
            settings=settings,
            deps=deps,
            slack_app=slack_app,
            slack_client=client,
            server=server,
        )
    finally:
        await http.aclose()
        await db.dispose()


def slack_client(settings: Settings, *, retry_rate_limits: bool) -> AsyncWebClient | None:
    if settings.slack_bot_token is None:
        return None
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=str(settings.slack_api_url),
        timeout=10,
    )
    if retry_rate_limits:
        # Card redraws are Tier 3 (about 50 a minute): one polite retry beats a stale card.
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client
