"""Every PSA adapter honours the ContactDirectory port the same way, against its local fake.

The fakes serve the vendor's documented shapes over real HTTP (tests/fakes/psa/); seeding goes
through the fake's own surface and assertions look at what the fake stored, so an adapter that
sends the wrong request, or reads the answer wrongly, fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from providers.crm import (
    ContactRecord,
    CrmAuthError,
    CrmNotFound,
    CrmRateLimited,
    CrmRejected,
    CrmUnavailable,
)
from tests.providers.crm.harnesses import HARNESSES, email, name, phone

NOTE_REF = "PIN Verify ref: "


@pytest.fixture(params=HARNESSES, ids=lambda h: h.__name__.removeprefix("running_fake_"))
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with request.param() as running:
        yield running


@dataclass(frozen=True)
class Seeded:
    globex: str
    initech: str
    umbrella: str
    jane: str
    john: str
    joan: str
    gone: str


def seed(fake: Any) -> Seeded:
    globex = fake.add_company("Globex")
    initech = fake.add_company("Initech")
    umbrella = fake.add_company("Umbrella Corp")
    jane = fake.add_contact(
        name="Jane Doe", company_ref=globex, phone="(513) 555-7611", email="Jane.Doe@Globex.example"
    )
    john = fake.add_contact(
        name="John Smith", company_ref=initech, phone="(513) 555-0199", email="john@initech.example"
    )
    joan = fake.add_contact(
        name="Joan Smith",
        company_ref=umbrella,
        phone="(513) 555-0142",
        email="joan@umbrella.example",
    )
    gone = fake.add_contact(
        name="Gone Smith",
        company_ref=globex,
        phone="(513) 555-0100",
        email="gone@globex.example",
        active=False,
    )
    return Seeded(globex, initech, umbrella, jane, john, joan, gone)


def credential_names(fake: Any) -> list[str]:
    return [
        key
        for key in fake.env()
        if key != "CRM_PROVIDER" and not key.endswith(("_API_URL", "_AUTH_URL"))
    ]


async def test_search_by_phone_finds_the_contact_stored_in_the_vendor_format(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)

    found = await fake.adapter(client).search(phone("+15135557611"), limit=5)

    assert found == [
        ContactRecord(
            ref=seeded.jane,
            name="Jane Doe",
            company="Globex",
            phone_e164="+15135557611",
            email="Jane.Doe@Globex.example",
            active=True,
            company_ref=seeded.globex,
        )
    ]


async def test_search_by_phone_does_not_match_a_number_sharing_digits(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seed(fake)

    assert await fake.adapter(client).search(phone("+15135557612"), limit=5) == []
    assert await fake.adapter(client).search(phone("+445135557611"), limit=5) == []


async def test_search_by_email_ignores_case(fake: Any, client: httpx.AsyncClient) -> None:
    seeded = seed(fake)

    found = await fake.adapter(client).search(email("jane.doe@globex.example"), limit=5)

    assert [(c.ref, c.name, c.company, c.phone_e164) for c in found] == [
        (seeded.jane, "Jane Doe", "Globex", "+15135557611")
    ]
    assert found[0].email is not None and found[0].email.lower() == "jane.doe@globex.example"


async def test_search_by_name_lists_every_match_with_company_and_marks_inactive(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)

    found = await fake.adapter(client).search(name("Smith"), limit=10)

    by_ref = {c.ref: c for c in found}
    assert set(by_ref) == {seeded.john, seeded.joan, seeded.gone}
    assert (by_ref[seeded.john].company, by_ref[seeded.john].active) == ("Initech", True)
    assert (by_ref[seeded.joan].company, by_ref[seeded.joan].company_ref) == (
        "Umbrella Corp",
        seeded.umbrella,
    )
    assert by_ref[seeded.gone].active is False
    assert found[-1].ref == seeded.gone  # the inactive one is listed last


async def test_search_by_full_name_narrows_to_one(fake: Any, client: httpx.AsyncClient) -> None:
    seeded = seed(fake)

    found = await fake.adapter(client).search(name("joan smith"), limit=10)

    assert [c.ref for c in found] == [seeded.joan]


async def test_search_pages_beyond_the_first_page_and_stops_at_the_limit(
    fake: Any, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Acme")
    refs = {
        fake.add_contact(name=f"Pat Lee{i}", company_ref=company, email=f"pat{i}@acme.example")
        for i in range(7)
    }
    adapter = fake.adapter(client)

    before = len(fake.requests)
    everyone = await adapter.search(name("Pat"), limit=50)
    calls = len(fake.requests) - before
    three = await adapter.search(name("Pat"), limit=3)

    assert {c.ref for c in everyone} == refs
    assert calls > 1  # the fake's page size is below 7, so the adapter had to page
    assert len(three) == 3 and {c.ref for c in three} <= refs


async def test_get_reads_one_contact_and_unknown_is_none(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)
    adapter = fake.adapter(client)

    contact = await adapter.get(seeded.joan)

    assert contact is not None
    assert (contact.ref, contact.name, contact.company, contact.company_ref) == (
        seeded.joan,
        "Joan Smith",
        "Umbrella Corp",
        seeded.umbrella,
    )
    assert contact.phone_e164 == "+15135550142"
    assert await adapter.get("987654321") is None
    assert await adapter.get("not-a-ref") is None


async def test_get_ticket_returns_the_ticket_or_none(fake: Any, client: httpx.AsyncClient) -> None:
    seeded = seed(fake)
    number = fake.add_ticket(
        summary="Password reset", contact_ref=seeded.jane, company_ref=seeded.globex
    )
    adapter = fake.adapter(client)

    ticket = await adapter.get_ticket(number)

    assert ticket is not None
    assert (ticket.number, ticket.summary, ticket.contact_ref, ticket.company_ref) == (
        number,
        "Password reset",
        seeded.jane,
        seeded.globex,
    )
    assert ticket.closed is False
    assert await adapter.get_ticket("99999999") is None


async def test_create_ticket_is_stored_for_the_contact_and_company(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)
    adapter = fake.adapter(client)
    jane = await adapter.get(seeded.jane)
    assert jane is not None

    ticket = await adapter.create_ticket(contact=jane, summary="Caller locked out of VPN")

    stored = [t for t in fake.tickets() if t.number == ticket.number]
    assert len(stored) == 1
    assert (stored[0].summary, stored[0].contact_ref, stored[0].company_ref) == (
        "Caller locked out of VPN",
        seeded.jane,
        seeded.globex,
    )
    again = await adapter.get_ticket(ticket.number)
    assert again is not None and again.ref == ticket.ref
    assert (again.contact_ref, again.company_ref) == (seeded.jane, seeded.globex)


async def test_add_note_is_internal_and_carries_the_text_and_key(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)
    number = fake.add_ticket(summary="Reset", contact_ref=seeded.jane, company_ref=seeded.globex)
    adapter = fake.adapter(client)
    ticket = await adapter.get_ticket(number)
    assert ticket is not None
    text = "PIN sent by SMS to +1 ••• ••• 7611 by @alice\nCode: 482913"

    receipt = await adapter.add_note(
        ticket_ref=ticket.ref, text=text, key="v-7:sent:1", first_attempt=True
    )

    notes = fake.notes(number)
    assert len(notes) == 1
    assert notes[0].internal is True
    assert notes[0].text.startswith(text)
    assert notes[0].text.rstrip().splitlines()[-1] == NOTE_REF + "v-7:sent:1"
    assert receipt.ref and receipt.already_present is False


async def test_retry_after_an_ambiguous_failure_writes_no_duplicate(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)
    number = fake.add_ticket(summary="Reset", contact_ref=seeded.jane, company_ref=seeded.globex)
    adapter = fake.adapter(client)
    ticket = await adapter.get_ticket(number)
    assert ticket is not None
    fake.fail_after_write_next()

    with pytest.raises(CrmUnavailable):
        await adapter.add_note(
            ticket_ref=ticket.ref, text="Completed", key="k1", first_attempt=True
        )
    receipt = await adapter.add_note(
        ticket_ref=ticket.ref, text="Completed", key="k1", first_attempt=False
    )
    other = await adapter.add_note(
        ticket_ref=ticket.ref, text="Second", key="k2", first_attempt=False
    )

    assert receipt.already_present is True
    assert other.already_present is False
    assert [n.text.splitlines()[0] for n in fake.notes(number)] == ["Completed", "Second"]


async def test_bad_credentials_raise_an_auth_error_naming_the_setting(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seed(fake)
    adapter = fake.adapter(client, valid_credentials=False)

    with pytest.raises(CrmAuthError) as caught:
        await adapter.search(phone("+15135557611"), limit=5)
    with pytest.raises(CrmAuthError):
        await adapter.check_credentials()

    assert any(setting in caught.value.message for setting in credential_names(fake))
    assert caught.value.transient is False
    for secret in fake.env().values():
        if len(secret) >= 8 and not secret.startswith("http"):
            assert secret not in caught.value.message


async def test_check_credentials_passes_with_good_ones(
    fake: Any, client: httpx.AsyncClient
) -> None:
    await fake.adapter(client).check_credentials()

    assert fake.requests  # it did call the PSA


async def test_missing_record_and_conflict_are_refusals(
    fake: Any, client: httpx.AsyncClient
) -> None:
    seeded = seed(fake)
    adapter = fake.adapter(client)
    jane = await adapter.get(seeded.jane)
    assert jane is not None

    with pytest.raises((CrmNotFound, CrmRejected)) as missing:
        await adapter.add_note(ticket_ref="99999999", text="x", key="k", first_attempt=True)
    fake.fail_next(409)
    with pytest.raises(CrmRejected) as conflict:
        await adapter.create_ticket(contact=jane, summary="Conflicting")

    assert missing.value.transient is False
    assert conflict.value.status == 409
    assert fake.tickets() == []


async def test_a_ticket_reference_the_psa_could_not_have_issued_is_not_found(
    fake: Any, client: httpx.AsyncClient
) -> None:
    with pytest.raises(CrmNotFound) as caught:
        await fake.adapter(client).add_note(
            ticket_ref="abc", text="x", key="k", first_attempt=False
        )

    assert "abc" in caught.value.message and caught.value.transient is False
    assert fake.requests == []  # refused without asking the PSA


async def test_rate_limit_carries_retry_after(fake: Any, client: httpx.AsyncClient) -> None:
    seed(fake)
    fake.fail_next(429, retry_after=7)

    with pytest.raises(CrmRateLimited) as caught:
        await fake.adapter(client).search(phone("+15135557611"), limit=5)

    assert caught.value.retry_after == 7
    assert caught.value.transient is True


async def test_server_error_is_transient(fake: Any, client: httpx.AsyncClient) -> None:
    seed(fake)
    adapter = fake.adapter(client)
    fake.fail_next(500)

    with pytest.raises(CrmUnavailable) as caught:
        await adapter.search(email("jane.doe@globex.example"), limit=5)
    fake.go_down()
    with pytest.raises(CrmUnavailable):
        await adapter.search(email("jane.doe@globex.example"), limit=5)
    fake.come_back()

    assert not isinstance(caught.value, CrmRateLimited)
    assert len(await adapter.search(email("jane.doe@globex.example"), limit=5)) == 1


async def test_timeout_is_transient(fake: Any) -> None:
    seed(fake)
    fake.delay_next(3.0)

    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as impatient:
        with pytest.raises(CrmUnavailable) as caught:
            await fake.adapter(impatient).search(name("Jane"), limit=5)

    assert "try again" in caught.value.message.lower()


async def test_a_permission_refusal_is_an_auth_error(fake: Any, client: httpx.AsyncClient) -> None:
    seed(fake)
    adapter = fake.adapter(client)
    await adapter.check_credentials()
    fake.fail_next(403)

    with pytest.raises(CrmAuthError) as caught:
        await adapter.search(name("Jane"), limit=5)

    assert caught.value.status == 403
    assert caught.value.transient is False
