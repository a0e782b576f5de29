"""`pinverify`: serve, db upgrade, contacts import, manifest, providers check|webhooks,
audit verify|export|purge."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import httpx
import uvicorn

from bot.clock import SystemClock
from bot.contacts import import_contacts, parse_contact_csv
from bot.delivery import ConsoleMessageStore
from bot.errors import ConfigurationError
from bot.runtime import PROVIDER_TIMEOUT, open_runtime, secret_key
from bot.runtime.audit_cli import add_audit_commands, run_audit_command
from bot.runtime.logging_policy import keep_payloads_out_of_logs
from bot.runtime.manifest import render_manifest
from bot.runtime.provider_check import check_providers
from bot.runtime.report_routes import webhook_token
from bot.runtime.serving import ServerDidNotStart, bind_socket, socket_address, start_in_background
from bot.runtime.vendors import ProviderTools, configured_messaging, configured_providers
from bot.settings import Settings, load_settings
from storage.db import Database, make_engine
from storage.migrate import upgrade_database

log = logging.getLogger("pinverify")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    keep_payloads_out_of_logs()
    if args.command == "manifest":
        sys.stdout.write(render_manifest(args.url, socket_mode=args.socket_mode))
        return 0
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        sys.stderr.write(f"pinverify: configuration error: {exc}\n")
        return 2
    if args.command == "serve":
        if _sandbox_wanted(settings, args):
            return asyncio.run(_serve_sandbox(settings, args.host, args.port))
        return asyncio.run(_serve(settings, args.host, args.port, socket_mode=args.socket_mode))
    if args.command == "db":
        asyncio.run(_upgrade(settings))
        sys.stdout.write("database schema is up to date\n")
        return 0
    if args.command == "contacts":
        return asyncio.run(_import_contacts(settings, Path(args.file)))
    if args.command == "providers" and args.providers_command == "check":
        return asyncio.run(_check_providers(settings))
    if args.command == "providers":
        return _print_webhooks(settings)
    if args.command == "audit":
        return asyncio.run(run_audit_command(settings, args))
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinverify", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the Slack app (HTTP, or Socket Mode)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument(
        "--socket-mode", action="store_true", help="connect out with SLACK_APP_TOKEN"
    )
    serve.add_argument(
        "--no-sandbox",
        action="store_true",
        help="without Slack credentials, do not start the sandbox (POST /slack/events: 503)",
    )
    db = sub.add_parser("db", help="database schema")
    db.add_subparsers(dest="db_command", required=True).add_parser("upgrade", help="migrate")
    contacts = sub.add_parser("contacts", help="the built-in contact directory")
    contacts_sub = contacts.add_subparsers(dest="contacts_command", required=True)
    importer = contacts_sub.add_parser("import", help="import name,email,phone,company,external_id")
    importer.add_argument("file")
    providers = sub.add_parser("providers", help="SMS and email providers")
    providers_sub = providers.add_subparsers(dest="providers_command", required=True)
    providers_sub.add_parser("check", help="check each configured provider's credentials")
    providers_sub.add_parser("webhooks", help="print the delivery-report URL for each vendor")
    add_audit_commands(sub)
    manifest = sub.add_parser("manifest", help="print manifest.yml with your public URL")
    manifest.add_argument("--url", required=True, help="public https URL of this app")
    manifest.add_argument("--socket-mode", action="store_true")
    return parser


async def _upgrade(settings: Settings) -> None:
    db = Database(make_engine(settings.database_url))
    try:
        await upgrade_database(db.engine)
    finally:
        await db.dispose()


async def _import_contacts(settings: Settings, path: Path) -> int:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        sys.stderr.write(f"pinverify: cannot read {path}: {exc}\n")
        return 2
    rows, problems = parse_contact_csv(text, region=settings.pinverify_default_region)
    db = Database(make_engine(settings.database_url))
    try:
        await upgrade_database(db.engine)
        report = await import_contacts(rows, db=db, clock=SystemClock())
    finally:
        await db.dispose()
    skipped = sorted([*problems, *report.problems], key=_line_number)
    for problem in skipped:
        sys.stderr.write(f"{path}: {problem}\n")
    sys.stdout.write(
        f"imported {report.imported} contact(s): {report.created} new, {report.updated} updated"
        f"{f'; {len(skipped)} row(s) skipped' if skipped else ''}\n"
    )
    return 1 if skipped else 0


def _line_number(problem: str) -> int:
    head = problem.split(":", 1)[0].removeprefix("line ")
    return int(head) if head.isdigit() else 0


async def _check_providers(settings: Settings) -> int:
    """Exit 1 when any configured provider refuses its credentials (or cannot be reached)."""
    db = Database(make_engine(settings.database_url))  # console providers need a sink only
    try:
        async with httpx.AsyncClient(timeout=PROVIDER_TIMEOUT) as http:
            tools = ProviderTools(http=http, console=ConsoleMessageStore(db, SystemClock()), db=db)
            sms, email = configured_providers(settings, tools)
            verdicts = await check_providers(
                {"SMS": sms, "email": email},
                {"SMS": settings.sms_provider, "email": settings.email_provider},
            )
    finally:
        await db.dispose()
    for verdict in verdicts:
        sys.stdout.write(verdict.line() + "\n")
    failed = [verdict for verdict in verdicts if not verdict.ok]
    sys.stdout.write(
        f"{len(verdicts)} provider(s) checked, {len(failed)} failed; nothing was sent.\n"
    )
    return 1 if failed else 0


def _print_webhooks(settings: Settings) -> int:
    if settings.pinverify_public_url is None or settings.pinverify_secret_key is None:
        sys.stderr.write(
            "pinverify: set PINVERIFY_PUBLIC_URL and PINVERIFY_SECRET_KEY first: the URLs are "
            "built from both\n"
        )
        return 2
    public_url, key = str(settings.pinverify_public_url), secret_key(settings)
    for spec in configured_messaging(settings):
        if spec.reports is not None:
            url = spec.reports.url(public_url, webhook_token(key, spec.name))
            sys.stdout.write(f"{spec.label}: {url} ({spec.reports.setup})\n")
    return 0


async def _serve(settings: Settings, host: str, port: int, *, socket_mode: bool) -> int:
    if socket_mode and settings.slack_app_token is None:
        sys.stderr.write(
            "pinverify: configuration error: SLACK_APP_TOKEN: required for --socket-mode\n"
        )
        return 2
    async with open_runtime(settings) as runtime:
        server = GracefulServer(
            uvicorn.Config(runtime.server, host=host, port=port, log_level="warning")
        )
        try:
            serving, bound = await start_in_background(server)
        except ServerDidNotStart:
            return 1  # uvicorn has logged why (e.g. the port is taken)
        _announce(settings, f"http://{host}:{bound}")
        if socket_mode and runtime.slack_app is not None and settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(
                runtime.slack_app, settings.slack_app_token.get_secret_value()
            )
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
            try:
                await serving
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
        else:
            await serving
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sandbox_wanted(settings: Settings, args: argparse.Namespace) -> bool:
    if settings.slack_configured or args.socket_mode or args.no_sandbox:
        return False
    if not _is_loopback(args.host):
        # The sandbox page has no login and shows the directory and every code: never
        # offer it beyond this machine.
        log.warning("the sandbox runs on a loopback address only (e.g. --host 127.0.0.1)")
        return False
    return True


async def _serve_sandbox(settings: Settings, host: str, port: int) -> int:
    """No Slack credentials: the same app, driven by a local Slack emulator and a web page."""
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        sys.stderr.write(f"pinverify: cannot listen on {host}:{port}: {reason}\n")
        return 1
    address = socket_address(sock)
    # One line is all a person needs here; migrations and every request the page makes
    # would bury it.
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with sock:
        async with open_runtime(settings, sandbox_at=address) as runtime:
            assert runtime.sandbox is not None
            server = GracefulServer(
                uvicorn.Config(runtime.server, host=host, port=port, log_level="warning")
            )
            try:
                serving, _bound = await start_in_background(server, sockets=[sock])
            except ServerDidNotStart:
                return 1
            # The one line a person needs; `make run` ends with it.
            sys.stdout.write(f"PIN Verify sandbox: {runtime.sandbox.url}\n")
            sys.stdout.flush()
            await serving
    return 0


class GracefulServer(uvicorn.Server):
    """uvicorn, minus re-raising SIGINT/SIGTERM after its shutdown.

    uvicorn re-raises the signal once it has stopped, which kills the process before our own
    clean-up (outbox relay, HTTP client, database pool) has run; exit normally instead.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def _announce(settings: Settings, address: str) -> None:
    log.info(
        "PIN Verify is listening on %s (SMS: %s, email: %s, contacts: %s; workspaces may "
        "choose among SMS %s and email %s)",
        address,
        settings.sms_provider,
        settings.email_provider,
        settings.crm_provider,
        "/".join(settings.configured_sms_providers),
        "/".join(settings.configured_email_providers),
    )
    if not settings.slack_configured:
        log.warning(
            "Slack is not configured: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are missing, so "
            "POST /slack/events answers 503. Still working: GET /healthz, the database and its "
            "migrations, `pinverify contacts import`, and the outbox relay. Put the two values "
            "in .env (README: 'Create the Slack app') to serve Slack."
        )
    if "console" in (settings.sms_provider, settings.email_provider):
        log.warning(
            "console providers are on: codes are written to this log and the console_messages "
            "table instead of being sent. Never run a real help desk like this."
        )
    reporting = any(spec.reports for spec in configured_messaging(settings))
    if settings.pinverify_public_url is None and reporting:
        log.info(
            "PINVERIFY_PUBLIC_URL is not set: providers cannot report delivery, so cards show "
            "'sent' but never 'delivered' or 'undelivered'."
        )


if __name__ == "__main__":
    sys.exit(main())
