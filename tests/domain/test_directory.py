from __future__ import annotations

from dataclasses import replace
from typing import cast

from bot.clock import ManualClock
from bot.contacts.directory import BuiltinDirectory, import_contacts, parse_contact_csv
from providers.crm import ContactQuery, LookupKind
from storage.db import Database

CSV = """name,email,phone,company,external_id
Jane Doe,Jane.Doe@Globex.example,(513) 555-7611,Globex,c1
John Smith,john@initech.example,+44 20 7946 0958,Initech,c2
Bad Phone,bad@x.example,555-0100,X,c3
No Contact,,,X,c4
Bad Email,not-an-email,,X,c5
Jane Smith,jane.smith@initech.example,,Initech,c6
Missing Id,m@x.example,,X,
Dup,dup@x.example,,X,c1
"""


def test_bad_rows_are_reported_by_line_and_the_rest_kept() -> None:
    rows, problems = parse_contact_csv(CSV, region="US")
    assert [row.external_id for row in rows] == ["c1", "c2", "c6"]
    assert rows[0].phone_e164 == "+15135557611" and rows[0].email == "Jane.Doe@globex.example"
    assert rows[1].phone_e164 == "+442079460958"
    assert [p.split(":")[0] for p in problems] == ["line 4", "line 5", "line 6", "line 8", "line 9"]
    assert "not a valid number for region US" in problems[0]
    assert "needs a phone or an email" in problems[1]
    assert "is not valid" in problems[2]
    assert "external_id is empty" in problems[3]
    assert "already on line 2" in problems[4]


def test_missing_columns_are_named() -> None:
    rows, problems = parse_contact_csv("name,email\nJane,j@x.example\n", region="US")
    assert rows == []
    assert problems == [
        "line 1: missing column(s) phone, company, external_id; "
        "expected name,email,phone,company,external_id"
    ]


async def test_reimport_updates_by_external_id_and_search_finds_them(db: Database) -> None:
    clock = ManualClock()
    rows, _ = parse_contact_csv(CSV, region="US")
    first = await import_contacts(rows, db=db, clock=clock)
    assert (first.created, first.updated) == (3, 0)
    moved, _ = parse_contact_csv(
        "name,email,phone,company,external_id\nJane Doe,jane@newco.example,,NewCo,c1\n",
        region="US",
    )
    second = await import_contacts(moved, db=db, clock=clock)
    assert (second.created, second.updated) == (0, 1)

    directory = BuiltinDirectory(db)
    by_email = await directory.search(ContactQuery(LookupKind.EMAIL, "jane@newco.example"), limit=5)
    assert [(c.name, c.company, c.phone_e164) for c in by_email] == [("Jane Doe", "NewCo", None)]
    by_phone = await directory.search(ContactQuery(LookupKind.PHONE, "+442079460958"), limit=5)
    assert [c.name for c in by_phone] == ["John Smith"]
    by_name = await directory.search(ContactQuery(LookupKind.NAME, "smith"), limit=5)
    assert [c.name for c in by_name] == ["Jane Smith", "John Smith"]
    both_words = await directory.search(ContactQuery(LookupKind.NAME, "SMITH jane"), limit=5)
    assert [c.name for c in both_words] == ["Jane Smith"]
    wildcard = await directory.search(ContactQuery(LookupKind.NAME, "%"), limit=5)
    assert wildcard == []
    assert await directory.get(by_phone[0].ref) == by_phone[0]
    assert await directory.get("nope") is None


async def test_a_row_the_database_refuses_is_reported_by_line_and_the_rest_written(
    db: Database,
) -> None:
    """Each row has its own savepoint: a refusal the checks cannot foresee (here NOT NULL)
    rolls back that row alone, on SQLite and PostgreSQL alike (issue 11, finding 3)."""
    good, _ = parse_contact_csv(
        "name,email,phone,company,external_id\n"
        "Jane Doe,jane@globex.example,,Globex,c1\n"
        "John Roe,john@globex.example,,Globex,c3\n",
        region="US",
    )
    refused = replace(good[0], external_id="c2", name=cast(str, None), line=3)
    report = await import_contacts([good[0], refused, good[1]], db=db, clock=ManualClock())
    assert (report.created, report.updated) == (2, 0)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("line 3: the database refused this row (")
    directory = BuiltinDirectory(db)
    found = await directory.search(ContactQuery(LookupKind.NAME, "o"), limit=5)
    assert sorted(c.name for c in found) == ["Jane Doe", "John Roe"]


def test_rows_keep_their_line_numbers_and_bad_text_is_named() -> None:
    rows, problems = parse_contact_csv(
        "name,email,phone,company,external_id\n"
        "Jane\x07Doe,jane@globex.example,,Globex,c1\n"
        "Ok,ok@globex.example,,Globex,c2\n"
        f"Long,long@globex.example,,Globex,{'x' * 129}\n",
        region="US",
    )
    assert [(row.external_id, row.line) for row in rows] == [("c2", 3)]
    assert problems == [
        "line 2: name contains control character U+0007",
        "line 4: external_id is 129 characters long; at most 128 fit",
    ]


async def test_a_25_digit_contact_ref_names_no_contact(db: Database) -> None:
    assert await BuiltinDirectory(db).get("9" * 25) is None
    assert await BuiltinDirectory(db).get("²") is None
