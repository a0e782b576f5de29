"""Property-based fuzzing of vendors' webhook bodies (SendGrid, Postmark, Vonage, Twilio; with
the right token or signature and without) and of CSV rows for `contacts import`: no 500, no
traceback, a refused report changes no row; every CSV row is imported whole or reported once
by its line, on both databases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clock import ManualClock
from bot.contacts.directory import CSV_COLUMNS, import_contacts, parse_contact_csv
from providers.sms.twilio import twilio_signature
from storage.db import Database
from storage.models import Contact
from tests.e2e.test_hostile_webhooks import ENV, TWILIO_TOKEN, hooks
from tests.fuzz.strategies import json_values, texts
from tests.support.bot import BotFactory, RunningBot
from tests.support.hostile import Records, captured_logs, dump_tables


@pytest.fixture
async def vendor_bot(running_bot: BotFactory) -> AsyncIterator[tuple[RunningBot, Records]]:
    env = {**ENV, "SENDGRID_API_KEY": "SG.fuzz", "EMAIL_PROVIDER": "postmark"}
    with captured_logs() as logs:
        async with running_bot(env=env, public=True) as bot:
            yield bot, logs
        assert logs.tracebacks() == []


sendgrid_events = st.lists(
    st.fixed_dictionaries(
        {"event": st.sampled_from(["processed", "delivered", "bounce", "dropped", "open"])},
        optional={
            "sg_message_id": st.one_of(texts(max_size=40), st.integers()),
            "pinverify_ref": st.one_of(texts(max_size=40), st.integers()),
            "reason": texts(max_size=60),
            "status": texts(max_size=10),
            "timestamp": st.one_of(st.integers(), st.floats(allow_nan=False), texts(max_size=10)),
            "type": st.sampled_from(["blocked", "bounce", ""]),
        },
    ),
    max_size=5,
)
postmark_records = st.fixed_dictionaries(
    {},
    optional={
        "RecordType": st.sampled_from(["Delivery", "Bounce", "Open", ""]),
        "MessageID": st.one_of(texts(max_size=40), st.integers()),
        "Metadata": st.one_of(
            json_values, st.fixed_dictionaries({"pinverify_ref": texts(max_size=40)})
        ),
        "Type": texts(max_size=20),
        "Description": texts(max_size=60),
        "DeliveredAt": texts(max_size=30),
    },
)
form_fields = st.dictionaries(
    st.sampled_from(
        [
            "MessageSid",
            "MessageStatus",
            "ErrorCode",
            "messageId",
            "status",
            "err-code",
            "client-ref",
            "message-timestamp",
            "RawDlrDoneDate",
        ]
    ),
    texts(surrogates=False, max_size=40),
    max_size=6,
)


async def _post(bot: RunningBot, vendor: str, body: Any, *, authentic: bool) -> httpx.Response:
    url = hooks(bot)[vendor]
    if not authentic and vendor == "postmark":
        url = url.replace("pinverify:", "pinverify:x")
    elif not authentic and vendor != "twilio":  # Twilio's is forged by its signature below
        url = url[:-3] + "abc"
    async with httpx.AsyncClient(timeout=30) as client:
        if vendor == "vonage":
            return await client.get(url + "?" + urlencode(body))
        if vendor == "twilio":
            signature = twilio_signature(TWILIO_TOKEN, url, body) if authentic else "forged"
            return await client.post(
                url,
                content=urlencode(body),
                headers={
                    "content-type": "application/x-www-form-urlencoded",
                    "x-twilio-signature": signature,
                },
            )
        raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8", "surrogatepass")
        return await client.post(url, content=raw, headers={"content-type": "application/json"})


@given(
    choice=st.one_of(
        st.tuples(st.just("sendgrid"), st.one_of(sendgrid_events, json_values)),
        st.tuples(st.just("postmark"), st.one_of(postmark_records, json_values)),
        st.tuples(st.just("vonage"), form_fields),
        st.tuples(st.just("twilio"), form_fields),
    ),
    authentic=st.booleans(),
)
async def test_webhook_bodies(
    vendor_bot: tuple[RunningBot, Records], choice: tuple[str, Any], authentic: bool
) -> None:
    bot, logs = vendor_bot
    vendor, body = choice
    before = await dump_tables(bot.runtime.db)
    response = await _post(bot, vendor, body, authentic=authentic)
    assert response.status_code in (200, 400, 403), response.text
    # No send exists, so no report can match one: nothing may change, accepted or not.
    assert await dump_tables(bot.runtime.db) == before
    if not authentic:
        assert response.status_code == 403
    assert logs.tracebacks() == []


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


csv_rows = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.one_of(
                st.sampled_from(["Jane Doe", "J" * 200, "N" * 201]),
                texts(surrogates=False, max_size=250),
            ),
            "email": st.one_of(
                st.just(""),
                st.sampled_from(["a@globex.example", "not-an-email"]),
                texts(surrogates=False, max_size=40),
            ),
            "phone": st.one_of(
                st.just(""),
                st.sampled_from(["+1 513 555 7611", "12"]),
                texts(surrogates=False, max_size=20),
            ),
            "company": texts(surrogates=False, max_size=220),
            "external_id": st.one_of(
                st.integers(0, 5).map(str), texts(surrogates=False, max_size=140)
            ),
        }
    ),
    min_size=1,
    max_size=6,
)


@given(rows=csv_rows)
async def test_csv_rows(db: Database, rows: list[dict[str, str]]) -> None:
    text = _csv(rows)
    parsed, problems = parse_contact_csv(text, region="US")
    report = await import_contacts(parsed, db=db, clock=ManualClock())
    lines = {int(p.split(":")[0].removeprefix("line ")) for p in [*problems, *report.problems]}
    imported = {row.line for row in parsed} - {
        int(p.split(":")[0].removeprefix("line ")) for p in report.problems
    }
    data_lines = {row.line for row in parsed} | lines
    # Each row is imported or reported, never both (line numbers count CSV records).
    assert not (imported & lines)
    assert len([*problems, *report.problems]) == len(lines)
    assert data_lines and min(data_lines) >= 2
    async with db.transaction() as session:
        stored = {c.external_id: c for c in (await session.scalars(select(Contact))).all()}
    for row in parsed:
        if row.line in imported:
            assert stored[row.external_id].name == row.name  # whole, never cut
            assert len(row.name) <= 200 and "\x00" not in row.name
