"""ConnectWise quirks: clientId and Basic auth shapes, phones in any stored format, Link paging,
internal notes by tab flag, and the vendor's error bodies (vendor-apis.md §1.1)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from providers.crm import (
    ContactQuery,
    ContactRecord,
    CrmAuthError,
    CrmNotFound,
    CrmRateLimited,
    CrmRejected,
    CrmUnavailable,
    LookupKind,
)
from providers.crm.connectwise import ConnectWisePsa
from tests.fakes.psa.connectwise import FakeConnectWise, running_fake_connectwise
from tests.providers.crm.harnesses import phone


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnectWise]:
    async with running_fake_connectwise() as running:
        yield running


def headers(fake: FakeConnectWise) -> dict[str, str]:
    token = base64.b64encode(
        f"{fake.company_id}+{fake.public_key}:{fake.private_key}".encode()
    ).decode()
    return {"Authorization": f"Basic {token}", "clientId": fake.client_id}


async def test_requests_carry_basic_company_plus_public_key_and_client_id(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    await fake.adapter(client).check_credentials()

    sent = fake.requests[-1]
    assert sent.headers["authorization"] == headers(fake)["Authorization"]
    assert sent.headers["clientid"] == fake.client_id
    assert sent.path == "/v4_6_release/apis/3.0/company/contacts"


async def test_a_missing_client_id_is_a_400_the_adapter_reports_as_configuration(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    raw = await client.get(
        fake.base_url + "/company/contacts",
        headers={"Authorization": headers(fake)["Authorization"]},
    )
    adapter = ConnectWisePsa(client, replace(fake.config(), client_id=""))

    with pytest.raises(CrmAuthError) as caught:
        await adapter.check_credentials()

    assert raw.status_code == 400 and "clientId" in raw.text
    assert "CONNECTWISE_CLIENT_ID" in caught.value.message


async def test_phone_search_finds_every_stored_spelling_and_nothing_else(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    spellings = ["513-555-7611", "5135557611", "(513) 555-7611", "+1 513 555 7611", "513.555.7611"]
    wanted = {fake.add_contact(name="Jane Doe", company_ref=company, phone=p) for p in spellings}
    fake.add_contact(name="Near Miss", company_ref=company, phone="513-555-7612")
    fake.add_contact(name="Other Area", company_ref=company, phone="413-555-7611")

    found = await fake.adapter(client).search(phone("+15135557611"), limit=20)

    assert {c.ref for c in found} == wanted
    assert {c.phone_e164 for c in found} == {"+15135557611"}
    query = fake.requests[-1].query
    assert query["childConditions"] == (
        'communicationItems/value like "%513%555%7611%" '
        'AND communicationItems/communicationType="Phone"'
    )


async def test_phone_search_reads_national_numbers_in_the_configured_region(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Wayne Enterprises UK")
    london = fake.add_contact(name="Alfred Pennyworth", company_ref=company, phone="020 7946 0958")
    adapter = ConnectWisePsa(client, replace(fake.config(), default_region="GB"))

    found = await adapter.search(phone("+442079460958"), limit=5)

    assert [(c.ref, c.phone_e164) for c in found] == [(london, "+442079460958")]


async def test_email_search_uses_child_conditions_on_communication_items(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    jane = fake.add_contact(name="Jane Doe", company_ref=company, email="JANE@globex.example")
    fake.add_contact(name="Jane Other", company_ref=company, email="jane@globex.example.org")

    found = await fake.adapter(client).search(
        ContactQuery(LookupKind.EMAIL, "jane@globex.example"), limit=5
    )

    assert [c.ref for c in found] == [jane]
    assert fake.requests[-1].query["childConditions"] == (
        'communicationItems/value="jane@globex.example" '
        'AND communicationItems/communicationType="Email"'
    )


async def test_name_search_cannot_inject_conditions(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    fake.add_contact(name="Jane Doe", company_ref=company, phone="513-555-7611")

    found = await fake.adapter(client).search(
        ContactQuery(LookupKind.NAME, 'x" or lastName like "%'), limit=5
    )

    assert found == []
    assert fake.requests[-1].query["conditions"] == (
        '(firstName like "x%" or lastName like "x%") and (firstName like "or%" or lastName '
        'like "or%") and (firstName like "lastName%" or lastName like "lastName%") and '
        '(firstName like "like%" or lastName like "like%")'
    )


async def test_lists_page_through_the_link_header(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Acme")
    for i in range(5):
        fake.add_contact(name=f"Pat Lee{i}", company_ref=company, phone=f"513-555-010{i}")

    found = await fake.adapter(client).search(ContactQuery(LookupKind.NAME, "pat"), limit=50)

    pages = [r.query.get("page") for r in fake.requests]
    assert len(found) == 5
    assert pages == ["1", "2", "3"]
    last = await client.get(
        fake.base_url + "/company/contacts",
        params={"page": 3, "pageSize": 2},
        headers=headers(fake),
    )
    assert 'rel="next"' not in last.headers["link"] and 'rel="prev"' in last.headers["link"]


async def test_malformed_conditions_are_a_400_invalid_object(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    fake.add_contact(name="Jane Doe", company_ref=fake.add_company("Globex"))

    for conditions in ('firstName ~ "Jane"', 'nickname = "Jane"', '(firstName = "Jane"'):
        response = await client.get(
            fake.base_url + "/company/contacts",
            params={"conditions": conditions},
            headers=headers(fake),
        )
        assert response.status_code == 400, conditions
        assert response.json()["code"] == "InvalidObject"
        assert response.json()["errors"][0]["field"] == "conditions"


async def test_notes_are_internal_analysis_only_and_answered_201(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    number = fake.add_ticket(summary="Reset", contact_ref=None, company_ref=company)

    receipt = await fake.adapter(client).add_note(
        ticket_ref=number, text="PIN sent by SMS", key="k-1", first_attempt=True
    )

    note = fake.stored_notes[-1]
    assert note.raw == {
        "text": "PIN sent by SMS\n\nPIN Verify ref: k-1",
        "detailDescriptionFlag": False,
        "internalAnalysisFlag": True,
        "resolutionFlag": False,
        "processNotifications": False,
    }
    assert receipt.ref == note.ref
    two_flags = await client.post(
        f"{fake.base_url}/service/tickets/{number}/notes",
        json={"text": "x", "internalAnalysisFlag": True, "detailDescriptionFlag": True},
        headers=headers(fake),
    )
    assert two_flags.status_code == 400 and two_flags.json()["code"] == "InvalidObject"


async def test_retry_finds_the_earlier_note_on_a_later_page(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    number = fake.add_ticket(summary="Reset", contact_ref=None, company_ref=company)
    adapter = fake.adapter(client)
    for i in range(4):
        await adapter.add_note(ticket_ref=number, text=f"n{i}", key=f"k{i}", first_attempt=True)

    receipt = await adapter.add_note(ticket_ref=number, text="n3", key="k3", first_attempt=False)

    assert receipt.already_present is True
    assert len(fake.notes(number)) == 4
    assert [r.query.get("page") for r in fake.requests if r.method == "GET"] == ["1", "2"]


async def test_ticket_lookup_accepts_a_hash_and_reports_closed(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    company = fake.add_company("Globex")
    number = fake.add_ticket(summary="Old", contact_ref=None, company_ref=company)
    fake.stored_tickets[number].closed = True

    ticket = await fake.adapter(client).get_ticket(f"#{number}")

    assert ticket is not None and ticket.closed is True and ticket.contact_ref is None
    assert await fake.adapter(client).get_ticket("#abc") is None


async def test_create_ticket_refusals_name_the_field(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    globex, initech = fake.add_company("Globex"), fake.add_company("Initech")
    jane = fake.add_contact(name="Jane Doe", company_ref=globex)
    adapter = fake.adapter(client)
    wrong_company = ContactRecord(jane, "Jane Doe", "Initech", None, None, company_ref=initech)

    with pytest.raises(CrmRejected) as mismatch:
        await adapter.create_ticket(contact=wrong_company, summary="VPN")
    before = len(fake.requests)
    with pytest.raises(CrmRejected) as too_long:
        await adapter.create_ticket(contact=wrong_company, summary="x" * 101)

    assert "contact" in mismatch.value.message and "InvalidObject" in mismatch.value.message
    assert "100 characters" in too_long.value.message
    assert len(fake.requests) == before  # refused before asking ConnectWise
    assert fake.tickets() == []


async def test_vendor_errors_map_to_actionable_classes(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    adapter = fake.adapter(client)

    fake.fail_next(403)
    with pytest.raises(CrmAuthError) as security:
        await adapter.search(phone("+15135557611"), limit=5)
    fake.fail_next(404, path_contains="/company/contacts")
    with pytest.raises(CrmAuthError) as wrong_site:
        await adapter.search(phone("+15135557611"), limit=5)
    with pytest.raises(CrmNotFound):
        await adapter.add_note(ticket_ref="77", text="x", key="k", first_attempt=True)
    fake.fail_next(429, retry_after=30)
    with pytest.raises(CrmRateLimited) as limited:
        await adapter.get_ticket("1")
    fake.fail_next(503)
    with pytest.raises(CrmUnavailable):
        await adapter.get_ticket("1")

    assert "security role" in security.value.message
    assert "CONNECTWISE_API_URL" in wrong_site.value.message
    assert limited.value.retry_after == 30


async def test_unreachable_and_unusable_urls(
    fake: FakeConnectWise, client: httpx.AsyncClient, closed_port: int
) -> None:
    down = ConnectWisePsa(
        client, replace(fake.config(), api_url=f"http://127.0.0.1:{closed_port}/v4_6_release")
    )
    broken = ConnectWisePsa(client, replace(fake.config(), api_url="ftp://example.invalid/x"))

    with pytest.raises(CrmUnavailable):
        await down.get_ticket("1")
    with pytest.raises(CrmAuthError) as caught:
        await broken.get_ticket("1")

    assert "CONNECTWISE_API_URL" in caught.value.message


async def test_an_unconfirmed_ticket_creation_warns_against_creating_another(
    fake: FakeConnectWise,
) -> None:
    company = fake.add_company("Globex")
    jane = fake.add_contact(name="Jane Doe", company_ref=company)
    contact = ContactRecord(jane, "Jane Doe", "Globex", None, None, company_ref=company)
    fake.delay_next(3.0)

    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as impatient:
        with pytest.raises(CrmUnavailable) as caught:
            await fake.adapter(impatient).create_ticket(contact=contact, summary="VPN")

    assert "before creating another" in caught.value.message
    assert [t.summary for t in fake.tickets()] == ["VPN"]  # it was created after all


async def test_a_contact_without_a_company_gets_no_ticket(
    fake: FakeConnectWise, client: httpx.AsyncClient
) -> None:
    loner = ContactRecord(ref="1", name="Lone Caller", company="", phone_e164=None, email=None)

    with pytest.raises(CrmRejected) as caught:
        await fake.adapter(client).create_ticket(contact=loner, summary="Help")

    assert "Lone Caller" in caught.value.message and "company" in caught.value.message
    assert fake.tickets() == []
