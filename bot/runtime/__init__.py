"""The composition root: settings in, a running set of parts out (used by the CLI and tests)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bot.clock import Clock, SystemClock
from bot.contacts import BuiltinDirectory, ContactService
from bot.delivery import (
    ConsoleMessageStore,
    DeliveryTracker,
    Providers,
    SendRetrier,
    Sleep,
    webhook_token,
    webhook_urls,
)
from bot.deps import Deps
from bot.locks import KeyedLocks
from bot.outbox import Deliverer, OutboxHandler, OutboxKind, OutboxRelay
from bot.runtime.sandbox import (
    Sandbox,
    new_sandbox_emulator,
    sandbox_routes,
    sandbox_settings,
    start_sandbox,
)
from bot.runtime.server import create_server
from bot.runtime.slack_app import create_app
from bot.settings import Settings
from bot.templates import MessageRenderer, TemplateService, default_templates
from bot.tickets import TicketNoteHandler, TicketService
from bot.verification import DestinationEditor, VerificationService
from bot.workspace import Policy, Roles, WorkspaceService
from commands.card.listeners import card_redrawer
from commands.posts.notices import note_failing_deliverer
from commands.posts.supervisors import announcement_deliverer, supervisor_deliverer
from commands.slack_directory import SlackWorkspaceDirectory
from commands.webhooks.routes import WebhookSecrets, webhook_routes
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
    # Where vendors post delivery reports, per vendor; None without PINVERIFY_PUBLIC_URL.
    callback_urls: Mapping[str, str] = field(default_factory=dict)


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
        status_callback_url=tools.callback_urls.get("twilio"),
    )


def _vonage_sms(settings: Settings, tools: ProviderTools) -> SmsSender:
    assert settings.vonage_api_key and settings.vonage_api_secret and settings.vonage_from
    return VonageSms(
        tools.http,
        api_key=settings.vonage_api_key,
        api_secret=settings.vonage_api_secret.get_secret_value(),
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
    assert settings.sendgrid_api_key and settings.email_from
    return SendGridEmail(
        tools.http,
        api_key=settings.sendgrid_api_key.get_secret_value(),
        sender=settings.email_from,
        sender_name=settings.pinverify_org_name,
        api_url=str(settings.sendgrid_api_url),
    )


def _postmark_email(settings: Settings, tools: ProviderTools) -> EmailSender:
    assert settings.postmark_server_token and settings.email_from
    return PostmarkEmail(
        tools.http,
        server_token=settings.postmark_server_token.get_secret_value(),
        sender=settings.email_from,
        sender_name=settings.pinverify_org_name,
        api_url=str(settings.postmark_api_url),
    )


def _builtin_directory(_settings: Settings, tools: ProviderTools) -> ContactDirectory:
    return BuiltinDirectory(tools.db)


def _secret(value: SecretStr | None) -> str:
    assert value is not None  # Settings refuses to start without it for this provider
    return value.get_secret_value()


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


SMS_PROVIDERS: dict[str, Callable[[Settings, ProviderTools], SmsSender]] = {
    "console": _console_sms,
    "twilio": _twilio_sms,
    "vonage": _vonage_sms,
}
EMAIL_PROVIDERS: dict[str, Callable[[Settings, ProviderTools], EmailSender]] = {
    "console": _console_email,
    "smtp": _smtp_email,
    "sendgrid": _sendgrid_email,
    "postmark": _postmark_email,
}
CRM_PROVIDERS: dict[str, Callable[[Settings, ProviderTools], ContactDirectory]] = {
    "directory": _builtin_directory,
    "connectwise": _connectwise,
    "autotask": _autotask,
    "halopsa": _halopsa,
    "zendesk": _zendesk,
}


def configured_providers(
    settings: Settings, tools: ProviderTools
) -> tuple[dict[str, SmsSender], dict[str, EmailSender]]:
    """Every provider whose settings are present, by name: each workspace picks its own."""
    sms = {name: SMS_PROVIDERS[name](settings, tools) for name in settings.configured_sms_providers}
    email = {
        name: EMAIL_PROVIDERS[name](settings, tools) for name in settings.configured_email_providers
    }
    return sms, email


def webhook_secrets(settings: Settings, key: bytes) -> WebhookSecrets:
    """Only configured vendors get a live route; the others refuse every request."""
    sms, email = settings.configured_sms_providers, settings.configured_email_providers
    token = settings.twilio_auth_token
    return WebhookSecrets(
        public_url=str(settings.pinverify_public_url) if settings.pinverify_public_url else None,
        twilio_auth_token=token.get_secret_value() if token and "twilio" in sms else None,
        vonage_token=webhook_token(key, "vonage") if "vonage" in sms else None,
        sendgrid_token=webhook_token(key, "sendgrid") if "sendgrid" in email else None,
        postmark_password=webhook_token(key, "postmark") if "postmark" in email else None,
    )


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    relay: OutboxRelay
    deps: Deps
    slack_app: AsyncApp | None
    slack_client: AsyncWebClient | None
    server: Starlette
    sandbox: Sandbox | None = None


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
    sleep: Sleep | None = None,
    sandbox_at: str | None = None,
) -> AsyncIterator[Runtime]:
    """Build every part from `settings`, and close them all on the way out.

    `sleep` is what send retries wait with (tests pass one that does not really sleep).
    `sandbox_at` (the base URL the server will answer on) runs the sandbox: the app talks
    to an in-process Slack emulator mounted on that server. Refused if `settings` carry
    real Slack credentials.
    """
    clock = clock or SystemClock()
    emulator = None
    if sandbox_at is not None:
        emulator = new_sandbox_emulator()
        settings = sandbox_settings(settings, emulator, sandbox_at)
    db = Database(make_engine(settings.database_url))
    http = httpx.AsyncClient(timeout=PROVIDER_TIMEOUT)
    try:
        if migrate:
            await upgrade_database(db.engine)
        key = secret_key(settings)
        public_url = settings.pinverify_public_url
        tools = ProviderTools(
            http=http,
            console=ConsoleMessageStore(db, clock),
            db=db,
            callback_urls=webhook_urls(str(public_url), key) if public_url else {},
        )
        sms, email = configured_providers(settings, tools)
        client = slack_client(settings, retry_rate_limits=True)
        relay_client = slack_client(settings, retry_rate_limits=False)
        contacts = CRM_PROVIDERS[settings.crm_provider](settings, tools)
        card_locks = KeyedLocks()
        renderer = MessageRenderer()
        templates = default_templates()
        policy_defaults = Policy.from_settings(settings)
        verifications = VerificationService(
            db=db,
            clock=clock,
            sms=sms,
            email=email,
            renderer=renderer,
            templates=templates,
            secret_key=key,
            defaults=policy_defaults,
            organisation=settings.pinverify_org_name,
            outbox_written=lambda: relay.kick(),
            tickets_enabled=contacts.supports_tickets,
            retrier=SendRetrier(sleep=sleep) if sleep is not None else SendRetrier(),
            default_region=settings.pinverify_default_region,
        )
        deliverers: dict[str, Deliverer | OutboxHandler] = {
            OutboxKind.TICKET_NOTE: TicketNoteHandler(
                contacts,
                db=db,
                on_settled=card_redrawer(verifications, client, card_locks) if client else None,
            )
        }
        if relay_client is not None:
            # The relay schedules its own retries from Retry-After; no sleeping in the client.
            deliverers[OutboxKind.SUPERVISOR_POST] = supervisor_deliverer(relay_client)
            deliverers[OutboxKind.NOTE_FAILING] = note_failing_deliverer(relay_client)
            deliverers[OutboxKind.POLICY_ANNOUNCEMENT] = announcement_deliverer(relay_client)
        relay = OutboxRelay(
            db=db,
            clock=clock,
            deliverers=deliverers,
            poll_seconds=settings.pinverify_outbox_poll_seconds,
        )
        roles = Roles(
            directory=SlackWorkspaceDirectory(client) if client else None,
            settings=settings,
            db=db,
            clock=clock,
        )
        deps = Deps(
            settings=settings,
            contacts=ContactService(contacts),
            verifications=verifications,
            tickets=TicketService(db=db, clock=clock, contacts=contacts),
            card_locks=card_locks,
            roles=roles,
            workspace=WorkspaceService(
                db=db,
                clock=clock,
                roles=roles,
                defaults=policy_defaults,
                sms_providers=tuple(sms),
                email_providers=tuple(email),
                tickets_supported=contacts.supports_tickets,
                outbox_written=lambda: relay.kick(),
            ),
            templates=TemplateService(
                db=db,
                clock=clock,
                renderer=renderer,
                defaults=templates,
                policy_defaults=policy_defaults,
                organisation=settings.pinverify_org_name,
                providers=Providers(sms=sms, email=email),
                default_region=settings.pinverify_default_region,
                announce=True,
                outbox_written=lambda: relay.kick(),
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
        webhooks = webhook_routes(
            deps,
            DeliveryTracker(db=db, clock=clock),
            client,
            webhook_secrets(settings, key),
        )
        sandbox = None
        if emulator is not None and sandbox_at is not None:
            sandbox = await start_sandbox(
                emulator, settings=settings, db=db, clock=clock, http=http, address=sandbox_at
            )
        server = create_server(
            db=db,
            relay=relay,
            slack_app=slack_app,
            run_relay=run_relay,
            webhooks=webhooks,
            extra_routes=sandbox_routes(sandbox) if sandbox is not None else (),
        )
        yield Runtime(
            settings=settings,
            db=db,
            clock=clock,
            relay=relay,
            deps=deps,
            slack_app=slack_app,
            slack_client=client,
            server=server,
            sandbox=sandbox,
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
