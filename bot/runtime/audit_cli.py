"""`pinverify audit verify|export|purge`: prove, write out and trim the audit trail."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Never, TextIO

from tqdm import tqdm

from bot.audit import count_for_export, export_trail, purge_trail, verify_trail
from bot.clock import SystemClock
from bot.settings import Settings
from storage.db import Database, make_engine
from storage.migrate import upgrade_database

_AGE = re.compile(r"([1-9][0-9]{0,4})([dh])")


def add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="prove, export and trim the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check every workspace's hash chain; exit 1 if broken")
    export = audit_sub.add_parser("export", help="write events as CSV or JSON Lines")
    export.add_argument("--since", type=_moment, help="from this date/time (UTC), inclusive")
    export.add_argument("--until", type=_moment, help="to this date/time (UTC), exclusive")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--output", "-o", help="a file (default: standard output)")
    purge = audit_sub.add_parser("purge", help="delete events older than an age, signed")
    purge.add_argument("--older-than", required=True, type=_age, help="e.g. 90d or 36h")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time such as 2026-01-31 or 2026-01-31T08:00"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _age(text: str) -> timedelta:
    match = _AGE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an age such as 90d or 36h")
    number, unit = int(match.group(1)), match.group(2)
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


async def run_audit_command(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(make_engine(settings.database_url))
    key = (
        settings.pinverify_secret_key.get_secret_value().encode()
        if settings.pinverify_secret_key is not None
        else None
    )
    try:
        await upgrade_database(db.engine)
        if args.audit_command == "verify":
            return await _verify(db, key)
        if args.audit_command == "export":
            return await _export(db, args)
        return await _purge(db, key, args.older_than)
    finally:
        await db.dispose()


async def _verify(db: Database, key: bytes | None) -> int:
    if key is None:
        sys.stderr.write(
            "pinverify: PINVERIFY_SECRET_KEY is not set: purge checkpoints' signatures are not "
            "checked\n"
        )
    verdicts = await verify_trail(db, secret_key=key)
    for verdict in verdicts:
        sys.stdout.write(verdict.line() + "\n")
    broken = [verdict for verdict in verdicts if not verdict.ok]
    sys.stdout.write(f"{len(verdicts)} workspace(s) checked, {len(broken)} broken chain(s)\n")
    return 1 if broken else 0


async def _export(db: Database, args: argparse.Namespace) -> int:
    if args.since and args.until and args.since >= args.until:
        sys.stderr.write("pinverify: --since must be before --until\n")
        return 2
    out: TextIO = (
        Path(args.output).open("w", encoding="utf-8", newline="")  # noqa: SIM115
        if args.output
        else sys.stdout
    )
    total = await count_for_export(db, since=args.since, until=args.until)
    # A bar only on a terminal: a script reading stderr gets no control characters.
    bar: tqdm[Never] = tqdm(
        total=total, unit="event", file=sys.stderr, disable=not sys.stderr.isatty()
    )
    try:
        written = await export_trail(
            db,
            out,
            fmt=args.format,
            since=args.since,
            until=args.until,
            progress=lambda count: _advance(bar, count),
        )
    finally:
        bar.close()
        if out is not sys.stdout:
            out.close()
    sys.stderr.write(f"exported {written} event(s)\n")
    return 0


def _advance(bar: tqdm[Never], count: int) -> None:
    bar.update(count)


async def _purge(db: Database, key: bytes | None, older_than: timedelta) -> int:
    if key is None:
        sys.stderr.write(
            "pinverify: PINVERIFY_SECRET_KEY is required to sign the purge checkpoint\n"
        )
        return 2
    now = SystemClock().now()
    results = await purge_trail(db, secret_key=key, before=now - older_than, now=now)
    for result in results:
        sys.stdout.write(
            f"{result.team_id}: purged {result.purged} event(s) through #{result.through_seq}\n"
        )
    sys.stdout.write(f"{sum(r.purged for r in results)} event(s) purged; checkpoints signed\n")
    return 0
