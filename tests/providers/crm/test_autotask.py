"""Autotask quirks (vendor-apis.md §1.2): zone discovery, header auth, 500 for a bad user or
integration code, filter JSON, nextPageUrl POSTed again with the body, Notes with
noteType/publish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmAuthError,
    CrmRateLimited,
    CrmRejected,
    CrmUnavailable,
    LookupKind,
)
from providers.crm.autotask import AutotaskPsa
from tests.fakes.psa.autotask import ZONE_PREFIX, FakeAutotask, running_fake_autotask
from tests.providers.crm.harnesses import phone


@pytest.fixture
async def fake() -> AsyncIterator[FakeAutotask]:
    async with running_fake_autotask() as running:
        yield running


def headers(fake: FakeAutotask) -> dict[str, str]:
    return {
        "ApiIntegrationCode": fake.integration_code,
        "UserName": fake.username,
        "Secret": fake.secret,
    }


async def test_the_zone_is_discovered_once_and_used_for_every_call(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    fake.add_contact(name="Jane Doe", company_ref=company, phone="(513) 555-7611")
    adapter = fake.adapter(client)

    await adapter.search(phone("+15135557611"), limit=5)
    await adapter.check_credentials()

    lookup, *rest = fake.requests
    assert lookup.path == "/ATServicesRest/V1.0/zoneInformation"
    assert lookup.query == {"user": fake.username}
    assert "secret" not in lookup.headers  # the secret only goes to the tenant's zone
    assert rest and all(r.path.startswith(ZONE_PREFIX + "/V1.0/") for r in rest)
    for sent in rest:
        assert sent.headers["apiintegrationcode"] == fake.integration_code
        assert sent.headers["username"] == fake.username
        assert sent.headers["secret"] == fake.secret
        assert "authorization" not in sent.headers


async def test_unknown_user_wrong_code_and_wrong_secret_each_name_the_setting(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    unknown_user = AutotaskPsa(client, fake.config(username="nobody@acme.example"))
    wrong_code = AutotaskPsa(client, fake.config(integration_code="WRONGCODE"))
    wrong_secret = fake.adapter(client, valid_credentials=False)

    with pytest.raises(CrmAuthError) as user_error:
        await unknown_user.check_credentials()
    with pytest.raises(CrmAuthError) as code_error:
        await wrong_code.check_credentials()
    with pytest.raises(CrmAuthError) as secret_error:
        await wrong_secret.check_credentials()

    assert "AUTOTASK_USERNAME" in user_error.value.message
    assert code_error.value.status == 500
    assert "AUTOTASK_INTEGRATION_CODE" in code_error.value.message
    assert secret_error.value.status == 401 and "AUTOTASK_SECRET" in secret_error.value.message
    raw = await client.post(
        fake.zone_url + "V1.0/Contacts/query/count",
        json={"filter": [{"op": "gte", "field": "id", "value": 0}]},
        headers=headers(fake) | {"Secret": "nope"},
    )
    assert (raw.status_code, raw.content) == (401, b"")


async def test_a_plain_500_stays_transient_and_mentions_the_500_quirk(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    adapter = fake.adapter(client)
    await adapter.check_credentials()
    fake.fail_next(500)

    with pytest.raises(CrmUnavailable) as caught:
        await adapter.search(phone("+15135557611"), limit=5)

    assert not isinstance(caught.value, CrmAuthError)
    assert "AUTOTASK_INTEGRATION_CODE" in caught.value.message


async def test_phone_search_uses_contains_fragments_and_compares_digits(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    spellings = ["513-555-7611", "5135557611", "(513) 555-7611", "+1 513 555 7611", "513.555.7611"]
    wanted = {fake.add_contact(name="Jane Doe", company_ref=company, phone=p) for p in spellings}
    fake.add_contact(name="Other Area", company_ref=company, phone="(413) 555-7611")

    found = await fake.adapter(client).search(phone("+15135557611"), limit=20)

    assert {c.ref for c in found} == wanted
    query = next(r for r in fake.requests if r.path.endswith("/Contacts/query"))
    group = query.body["filter"][0]
    assert group["op"] == "or"
    assert {"op": "contains", "field": "mobilePhone", "value": "555-7611"} in group["items"]
    assert len(group["items"]) == 12


async def test_next_page_is_posted_again_with_the_same_body(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Acme")
    for i in range(5):
        fake.add_contact(name=f"Pat Lee{i}", company_ref=company, email=f"p{i}@acme.example")

    found = await fake.adapter(client).search(ContactQuery(LookupKind.NAME, "pat"), limit=50)

    queries = [r for r in fake.requests if "/Contacts/query" in r.path]
    assert len(found) == 5
    assert [r.path.rsplit("/", 1)[-1] for r in queries] == ["query", "next", "next"]
    assert all(r.method == "POST" and r.body == queries[0].body for r in queries)
    first = await client.post(
        fake.zone_url + "V1.0/Contacts/query",
        json=queries[0].body,
        headers=headers(fake),
    )
    next_url = first.json()["pageDetails"]["nextPageUrl"]
    assert (await client.get(next_url, headers=headers(fake))).status_code == 405
    assert (await client.post(next_url, headers=headers(fake))).status_code == 500


async def test_the_fake_rejects_unknown_operators_and_fields_with_500(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    fake.add_contact(name="Jane Doe", company_ref=fake.add_company("Globex"))

    for condition in (
        {"op": "noteExist", "field": "phone"},
        {"op": "eq", "field": "nickname", "value": "x"},
    ):
        response = await client.post(
            fake.zone_url + "V1.0/Contacts/query",
            json={"filter": [condition]},
            headers=headers(fake),
        )
        assert response.status_code == 500, condition
        assert response.json()["errors"]


async def test_notes_carry_note_type_and_internal_publish(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    number = fake.add_ticket(summary="Reset", contact_ref=None, company_ref=company)
    adapter = fake.adapter(client)
    ticket = await adapter.get_ticket(number)
    assert ticket is not None

    receipt = await adapter.add_note(
        ticket_ref=ticket.ref, text="PIN sent by email", key="k-9", first_attempt=True
    )

    assert fake.note_fields(number) == [
        {
            "ticketID": int(ticket.ref),
            "title": "PIN Verify",
            "description": "PIN sent by email\n\nPIN Verify ref: k-9",
            "noteType": 3,
            "publish": 2,
        }
    ]
    assert receipt.ref == fake.stored_notes[-1].ref
    assert fake.requests[-1].path == f"{ZONE_PREFIX}/V1.0/Tickets/{ticket.ref}/Notes"
    flat = await client.post(
        fake.zone_url + "V1.0/TicketNotes", json={"ticketID": 1}, headers=headers(fake)
    )
    missing = await client.post(
        fake.zone_url + f"V1.0/Tickets/{ticket.ref}/Notes",
        json={"ticketID": int(ticket.ref), "description": "x"},
        headers=headers(fake),
    )
    assert flat.status_code == 404
    assert missing.status_code == 500 and "noteType" in missing.json()["errors"][0]


async def test_tickets_are_found_by_number_or_id(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    number = fake.add_ticket(summary="VPN", contact_ref=None, company_ref=company)
    ticket_id = fake.ticket_by_number(number)
    assert ticket_id is not None
    ticket_id.closed = True
    adapter = fake.adapter(client)

    by_number = await adapter.get_ticket(number.lower())
    by_id = await adapter.get_ticket(f"#{ticket_id.ref}")

    assert number.startswith("T") and by_number is not None and by_id is not None
    assert by_number == by_id
    assert (by_number.ref, by_number.number, by_number.closed) == (ticket_id.ref, number, True)
    assert await adapter.get_ticket("T20000101.9999") is None


async def test_company_names_come_from_one_companies_query(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    for company_name in ("Globex", "Initech", "Umbrella"):
        ref = fake.add_company(company_name)
        fake.add_contact(name=f"Sam {company_name}", company_ref=ref)

    found = await fake.adapter(client).search(ContactQuery(LookupKind.NAME, "sam"), limit=10)

    assert sorted(c.company for c in found) == ["Globex", "Initech", "Umbrella"]
    companies = [r for r in fake.requests if "/Companies/" in r.path]
    assert len(companies) == 1
    assert companies[0].body["filter"][0]["op"] == "in"


async def test_the_hourly_cap_is_a_rate_limit(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    adapter = fake.adapter(client)
    await adapter.check_credentials()
    fake.hourly_cap = 1

    await adapter.check_credentials()
    with pytest.raises(CrmRateLimited) as caught:
        await adapter.check_credentials()

    assert caught.value.retry_after is None  # Autotask sends no Retry-After


async def test_discovery_works_from_a_zone_url_too(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    # Admins often paste their zone's URL; zoneInformation answers there as well.
    company = fake.add_company("Globex")
    fake.add_contact(name="Jane Doe", company_ref=company, email="jane@globex.example")
    adapter = AutotaskPsa(client, replace(fake.config(), api_url=fake.zone_url))

    found = await adapter.search(ContactQuery(LookupKind.EMAIL, "JANE@globex.example"), limit=5)

    assert [c.email for c in found] == ["jane@globex.example"]
    assert fake.requests[0].path == ZONE_PREFIX + "/V1.0/zoneInformation"


async def test_a_created_ticket_is_returned_even_if_reading_it_back_fails(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    jane = fake.add_contact(name="Jane Doe", company_ref=company)
    adapter = fake.adapter(client)
    contact = await adapter.get(jane)
    assert contact is not None
    fake.fail_next(500, path_contains="/Tickets/")

    ticket = await adapter.create_ticket(contact=contact, summary="VPN")

    (stored,) = fake.tickets()
    assert (ticket.summary, ticket.contact_ref, ticket.company_ref) == ("VPN", jane, company)
    found = await adapter.get_ticket(ticket.number)  # the id stands in for the T-number
    assert found is not None and found.number == stored.number


async def test_an_unconfirmed_ticket_creation_warns_against_creating_another(
    fake: FakeAutotask,
) -> None:
    company = fake.add_company("Globex")
    jane = fake.add_contact(name="Jane Doe", company_ref=company)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as impatient:
        adapter = fake.adapter(impatient)
        contact = await adapter.get(jane)
        assert contact is not None
        fake.delay_next(3.0)

        with pytest.raises(CrmUnavailable) as caught:
            await adapter.create_ticket(contact=contact, summary="VPN")

    assert "before creating another" in caught.value.message
    assert [t.summary for t in fake.tickets()] == ["VPN"]


async def test_a_contact_without_a_company_gets_no_ticket(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    loner = ContactRecord(ref="1", name="Lone Caller", company="", phone_e164=None, email=None)

    with pytest.raises(CrmRejected) as caught:
        await fake.adapter(client).create_ticket(contact=loner, summary="Help")

    assert "Lone Caller" in caught.value.message and "company" in caught.value.message
    assert fake.tickets() == []


async def test_an_unreachable_zone_lookup_is_transient(
    fake: FakeAutotask, client: httpx.AsyncClient, closed_port: int
) -> None:
    adapter = AutotaskPsa(
        client, replace(fake.config(), api_url=f"http://127.0.0.1:{closed_port}/ATServicesRest/")
    )

    with pytest.raises(CrmUnavailable) as caught:
        await adapter.search(phone("+15135557611"), limit=5)

    assert "try again" in caught.value.message


async def test_the_fake_caps_max_records_at_500(
    fake: FakeAutotask, client: httpx.AsyncClient
) -> None:
    fake.add_contact(name="Jane Doe", company_ref=fake.add_company("Globex"))

    response = await client.post(
        fake.zone_url + "V1.0/Contacts/query",
        json={"MaxRecords": 5000, "filter": [{"op": "exist", "field": "id"}]},
        headers=headers(fake),
    )

    assert response.status_code == 200
    assert response.json()["pageDetails"]["requestCount"] == 500
    assert [item["id"] for item in response.json()["items"]] == [int(next(iter(fake.contacts)))]
