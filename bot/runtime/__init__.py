"""The composition root: settings in, a running set of parts out (used by the CLI and tests)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bot.audit import AuditService
from bot.clock import Clock, SystemClock
from bot.contacts import ContactService
from bot.delivery import ConsoleMessageStore, DeliveryTracker, Providers, SendRetrier, Sleep
from bot.deps import Deps
from bot.locks import KeyedLocks
from bot.outbox import Deliverer, OutboxHandler, OutboxKind, OutboxRelay
from bot.runtime.logging_policy import keep_payloads_out_of_logs
from bot.runtime.sandbox import (
    Sandbox,
    new_sandbox_emulator,
    sandbox_routes,
    sandbox_settings,
    start_sandbox,
)
from bot.runtime.server import create_server
from bot.runtime.slack_app import create_app
from bot.runtime.vendors import (
    ProviderTools,
    configured_providers,
    contact_directory,
    report_endpoints,
    webhook_urls,
)
from bot.settings import Settings
from bot.supervision import (
    AlertHandler,
    AnnouncementHandler,
    DigestHandler,
    DigestScheduler,
    LiveMessageHandler,
    PostingTools,
    SupervisionService,
    SupervisionWatcher,
)
from bot.templates import MessageRenderer, TemplateService, default_templates
from bot.tickets import TicketNoteHandler, TicketService
from bot.verification import DestinationEditor, VerificationService
from bot.workspace import Policy, Roles, WorkspaceService
from commands.card.listeners import card_redrawer
from commands.posts.digest import SlackDigestPoster
from commands.posts.notices import note_failing_deliverer
from commands.posts.slack_channel import SlackSupervisorChannel
from commands.posts.supervisors import supervisor_deliverer
from commands.slack_directory import SlackWorkspaceDirectory
from commands.webhooks.routes import webhook_routes
from storage.db import Database, make_engine
from storage.migrate import upgrade_database

log = logging.getLogger("pinverify")
PROVIDER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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
    digests: DigestScheduler
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
    pace_clock: Clock | None = None,
) -> AsyncIterator[Runtime]:
    """Build every part from `settings`, and close them all on the way out.

    `sleep` is what send retries wait with (tests pass one that does not really sleep).
    `pace_clock`: what Slack's pace is measured on (real time unless a test says).
    `sandbox_at` (the base URL the server will answer on) runs the sandbox: the app talks
    to an in-process Slack emulator mounted on that server. Refused if `settings` carry
    real Slack credentials.
    """
    keep_payloads_out_of_logs()
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
        contacts = contact_directory(settings, tools)
        card_locks = KeyedLocks()
        renderer = MessageRenderer()
        templates = default_templates()
        policy_defaults = Policy.from_settings(settings)
        watcher = SupervisionWatcher(defaults=policy_defaults, outbox_written=lambda: relay.kick())
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
            watcher=watcher,
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
            posting = PostingTools(
                db=db,
                clock=clock,
                slack=SlackSupervisorChannel(relay_client),
                defaults=policy_defaults,
            )
            deliverers[OutboxKind.SUPERVISOR_POST] = supervisor_deliverer(relay_client)
            deliverers[OutboxKind.SUPERVISOR_LIVE] = LiveMessageHandler(posting)
            deliverers[OutboxKind.SUPERVISOR_ALERT] = AlertHandler(posting)
            deliverers[OutboxKind.NOTE_FAILING] = note_failing_deliverer(relay_client)
            deliverers[OutboxKind.POLICY_ANNOUNCEMENT] = AnnouncementHandler(posting)
            deliverers[OutboxKind.SUPERVISOR_DIGEST] = DigestHandler(
                SlackDigestPoster(relay_client)
            )
        relay = OutboxRelay(
            db=db,
            clock=clock,
            deliverers=deliverers,
            poll_seconds=settings.pinverify_outbox_poll_seconds,
            lease=timedelta(seconds=settings.pinverify_outbox_lease_seconds),
            pace_interval=timedelta(seconds=settings.pinverify_slack_channel_interval),
            pace_clock=pace_clock,
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
            tickets=TicketService(db=db, clock=clock, contacts=contacts, watcher=watcher),
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
            audit=AuditService(db=db, clock=clock),
            supervision=SupervisionService(
                db=db,
                clock=clock,
                roles=roles,
                verifications=verifications,
                timezone=settings.pinverify_timezone,
            ),
            destinations=DestinationEditor(
                db=db,
                clock=clock,
                defaults=policy_defaults,
                region=settings.pinverify_default_region,
            ),
        )
        digests = DigestScheduler(
            db=db, clock=clock, defaults=policy_defaults, timezone=settings.pinverify_timezone
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
            DeliveryTracker(db=db, clock=clock, watcher=watcher),
            client,
            report_endpoints(settings, key),
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
            signing_secret=(
                settings.slack_signing_secret.get_secret_value()
                if settings.slack_signing_secret is not None
                else None
            ),
            run_relay=run_relay,
            webhooks=webhooks,
            extra_routes=sandbox_routes(sandbox) if sandbox is not None else (),
            background=(digests.run_forever,),
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
            digests=digests,
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
