"""The built-in contact directory: contacts imported from CSV into our own database."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmRejected,
    LookupKind,
    NoteReceipt,
    TicketRecord,
)
from storage import repositories as repo
from storage.db import Database
from storage.models import Contact

CSV_COLUMNS = ("name", "email", "phone", "company", "external_id")
MAX_ID_DIGITS = 18
# NUL and the other C0/C1 controls, and lone surrogates (tab is fine in a CSV cell).
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


class BuiltinDirectory:
    """Contacts only: a CSV directory has no tickets, so ticket actions are not offered."""

    name = "directory"
    label = "the built-in directory"
    supports_tickets = False

    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(self, query: ContactQuery, *, limit: int) -> list[ContactRecord]:
        async with self._db.transaction() as session:
            if query.kind is LookupKind.PHONE:
                rows = await repo.find_contacts_by_phone(
                    session=session, phone_e164=query.value, limit=limit
                )
            elif query.kind is LookupKind.EMAIL:
                rows = await repo.find_contacts_by_email(
                    session=session, email=query.value, limit=limit
                )
            else:
                rows = await repo.find_contacts_by_name(
                    session=session, words=query.value.split(), limit=limit
                )
            return [to_record(row) for row in rows]

    async def get(self, ref: str) -> ContactRecord | None:
        # Our refs are row ids: anything else (or past a 64-bit integer) names no contact.
        if not ref.isascii() or not ref.isdigit() or len(ref) > MAX_ID_DIGITS:
            return None
        async with self._db.transaction() as session:
            row = await repo.get_contact(session=session, contact_id=int(ref))
            return to_record(row) if row is not None else None

    async def get_ticket(self, number: str) -> TicketRecord | None:
        return None

    async def create_ticket(self, *, contact: ContactRecord, summary: str) -> TicketRecord:
        raise CrmRejected("The built-in directory has no tickets; connect a PSA to use them.")

    async def add_note(
        self, *, ticket_ref: str, text: str, key: str, first_attempt: bool
    ) -> NoteReceipt:
        raise CrmRejected("The built-in directory has no tickets; connect a PSA to use them.")


def to_record(contact: Contact) -> ContactRecord:
    return ContactRecord(
        ref=str(contact.id),
        name=contact.name,
        company=contact.company,
        phone_e164=contact.phone_e164,
        email=contact.email,
        active=contact.active,
    )


@dataclass(frozen=True)
class ContactRow:
    external_id: str
    name: str
    email: str | None
    phone_e164: str | None
    company: str
    line: int = 0  # the CSV line it came from, for problems found while writing it


@dataclass
class ImportReport:
    """What an import did. The contract (`pinverify contacts import`, tests): every row that
    was not imported has exactly one entry in `problems`, "line N: what is wrong", in line
    order; every other row was created or updated; one bad row never stops the others."""

    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def parse_contact_csv(text: str, *, region: str) -> tuple[list[ContactRow], list[str]]:
    """Validate every row; return the good ones and one message per bad line."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        return [], [
            f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}"
        ]
    reader.fieldnames = header
    rows: list[ContactRow] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for record in _records(reader, problems):
        line = reader.line_num
        values = {key: (value or "").strip() for key, value in record.items() if key}
        try:
            row = _parse_row(values, region=region)
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if row.external_id in first_line:
            problems.append(
                f"line {line}: external_id {row.external_id!r} already on line "
                f"{first_line[row.external_id]}; this row was skipped"
            )
            continue
        first_line[row.external_id] = line
        rows.append(replace(row, line=line))
    return rows, problems


# Each column's longest value: the table's column sizes. Longer is reported, never cut.
MAX_LENGTH = {"external_id": 128, "name": 200, "company": 200, "email": 320, "phone": 64}


def _records(reader: csv.DictReader[str], problems: list[str]) -> Iterator[dict[str, str]]:
    """The reader's records; a CSV syntax error ends the file, reported with its line."""
    try:
        yield from reader
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: the CSV cannot be read past here ({exc})")


def _parse_row(values: dict[str, str], *, region: str) -> ContactRow:
    for column in CSV_COLUMNS:
        _check_text(column, values.get(column, ""))
    external_id, name = values.get("external_id", ""), values.get("name", "")
    if not external_id:
        raise ValueError("external_id is empty (it is how a re-import finds the contact)")
    if not name:
        raise ValueError("name is empty")
    phone = _normalise_phone(values.get("phone", ""), region=region)
    email = _normalise_email(values.get("email", ""))
    if phone is None and email is None:
        raise ValueError("needs a phone or an email to send a code to")
    if email is not None and len(email) > MAX_LENGTH["email"]:
        raise ValueError(f"email is longer than {MAX_LENGTH['email']} characters")
    return ContactRow(
        external_id=external_id,
        name=name,
        email=email,
        phone_e164=phone,
        company=values.get("company", ""),
    )


def _check_text(column: str, value: str) -> None:
    """Refuse what the database cannot hold or would have to cut: a NUL byte or another
    control character (PostgreSQL refuses NUL outright), a value over the column's size."""
    limit = MAX_LENGTH[column]
    if len(value) > limit:
        raise ValueError(f"{column} is {len(value):,} characters long; at most {limit} fit")
    bad = _CONTROL.search(value)
    if bad is not None:
        what = (
            "a NUL byte" if bad.group() == "\x00" else f"control character U+{ord(bad.group()):04X}"
        )
        raise ValueError(f"{column} contains {what}")


def _normalise_phone(raw: str, *, region: str) -> str | None:
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone {raw!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"phone {raw!r} is not a valid number for region {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _normalise_email(raw: str) -> str | None:
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"email {raw!r} is not valid: {exc}") from None


async def import_contacts(
    rows: Iterable[ContactRow], *, db: Database, clock: Clock
) -> ImportReport:
    """Insert new contacts and update existing ones (matched by external_id), in one
    transaction with a savepoint per row: a row the database refuses anyway (a constraint
    the checks above do not know) is reported by its line and rolled back alone, on SQLite
    and PostgreSQL alike."""
    report = ImportReport()
    now = clock.now()
    async with db.transaction() as session:
        for row in rows:
            try:
                async with session.begin_nested():
                    created = await _write_row(session, row, now)
            except DBAPIError as exc:
                reason = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
                report.problems.append(
                    f"line {row.line}: the database refused this row ({reason}); it was skipped"
                )
                continue
            if created:
                report.created += 1
            else:
                report.updated += 1
    return report


async def _write_row(session: AsyncSession, row: ContactRow, now: datetime) -> bool:
    """Write one row; True when the contact is new."""
    contact = await repo.get_contact_by_external_id(session=session, external_id=row.external_id)
    created = contact is None
    if contact is None:
        contact = Contact(external_id=row.external_id, created_at=now, updated_at=now, name="")
        session.add(contact)
    contact.name = row.name
    contact.email = row.email
    contact.phone_e164 = row.phone_e164
    contact.company = row.company
    contact.updated_at = now
    await session.flush()
    return created
