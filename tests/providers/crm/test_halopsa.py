"""HaloPSA's own ways: short-lived OAuth2 tokens, array bodies, phone search behind a flag."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from providers.crm import (
    ContactQuery,
    CrmAuthError,
    CrmNotFound,
    CrmRateLimited,
    LookupKind,
)
from providers.crm.halopsa import HaloPsa
from tests.fakes.psa.halopsa import FakeHalo, running_fake_halo
from tests.providers.crm.harnesses import phone


@pytest.fixture
async def halo() -> AsyncIterator[FakeHalo]:
    async with running_fake_halo(token_ttl=60) as fake:
        yield fake


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def seed_jane(fake: FakeHalo) -> tuple[str, str]:
    company = fake.add_company("Globex")
    jane = fake.add_contact(
        name="Jane Doe", company_ref=company, phone="(513) 555-7611", email="jane@globex.example"
    )
    return company, jane


def token_requests(fake: FakeHalo) -> int:
    return sum(1 for r in fake.requests if r.path == "/auth/token")


async def test_token_request_is_a_client_credentials_form_with_the_tenant() -> None:
    async with running_fake_halo(tenant="globex") as fake, httpx.AsyncClient() as client:
        await fake.adapter(client).check_credentials()

        token = next(r for r in fake.requests if r.path == "/auth/token")
        assert token.method == "POST"
        assert token.headers["content-type"] == "application/x-www-form-urlencoded"
        assert token.query == {"tenant": "globex"}
        assert token.body == {
            "grant_type": "client_credentials",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "scope": "all",
        }
        api_call = fake.requests[-1]
        assert api_call.path == "/api/Users"
        assert api_call.headers["authorization"].startswith("Bearer ")


async def test_a_hosted_tenant_without_halopsa_tenant_is_refused_with_the_setting_named() -> None:
    async with running_fake_halo(tenant="globex") as fake, httpx.AsyncClient() as client:
        adapter = HaloPsa(client, dataclasses.replace(fake.config(), tenant=None))

        with pytest.raises(CrmAuthError) as caught:
            await adapter.check_credentials()

    assert "HALOPSA_TENANT" in caught.value.message


async def test_one_token_serves_many_calls_including_concurrent_ones(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(halo)
    adapter = halo.adapter(client)

    await asyncio.gather(*(adapter.get(jane) for _ in range(5)))
    await adapter.search(phone("+15135557611"), limit=5)

    assert token_requests(halo) == 1


async def test_the_token_is_renewed_before_it_expires(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(halo)
    clock = ManualClock()
    adapter = HaloPsa(client, halo.config(), clock=clock)
    await adapter.get(jane)

    clock.now += 50  # 60 s token: still good for 10 s, but inside the renewal margin
    api_calls_before = sum(1 for r in halo.requests if r.path.startswith("/api/"))
    contact = await adapter.get(jane)

    assert contact is not None and contact.ref == jane
    assert token_requests(halo) == 2
    # Renewed up front: the read went out once, never refused with the old token.
    assert sum(1 for r in halo.requests if r.path.startswith("/api/")) == api_calls_before + 1


async def test_a_token_the_server_expired_is_replaced_once_and_the_call_succeeds(
    client: httpx.AsyncClient,
) -> None:
    async with running_fake_halo(token_ttl=1) as fake:
        _, jane = seed_jane(fake)
        # A clock that never moves: only Halo's 401 can tell the adapter the token is gone.
        adapter = HaloPsa(client, fake.config(), clock=lambda: 0.0)
        await adapter.get(jane)
        await asyncio.sleep(1.1)

        contact = await adapter.get(jane)

        assert contact is not None and contact.name == "Jane Doe"
        assert token_requests(fake) == 2
        reads = [r for r in fake.requests if r.path == f"/api/Users/{jane}"]
        assert len(reads) == 3  # the first read, the refused one, the retry


async def test_a_note_refused_for_an_expired_token_is_written_exactly_once(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    company, jane = seed_jane(halo)
    number = halo.add_ticket(summary="Reset", contact_ref=jane, company_ref=company)
    adapter = halo.adapter(client)
    await adapter.get(jane)
    halo.expire_tokens()

    receipt = await adapter.add_note(ticket_ref=number, text="Sent", key="k1", first_attempt=True)

    assert [n.text for n in halo.notes(number)] == ["Sent\n\nPIN Verify ref: k1"]
    assert receipt.ref and token_requests(halo) == 2


async def test_a_401_that_survives_a_fresh_token_is_an_auth_error_after_one_retry(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(halo)
    adapter = halo.adapter(client)
    halo.fail_next(401, times=5, path_contains="/api/")

    with pytest.raises(CrmAuthError) as caught:
        await adapter.get(jane)

    assert token_requests(halo) == 2
    assert sum(1 for r in halo.requests if r.path.startswith("/api/")) == 2
    assert "HALOPSA_CLIENT_ID" in caught.value.message


async def test_forbidden_names_the_permissions_to_grant(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(halo)
    halo.fail_next(403, path_contains="/api/Users")

    with pytest.raises(CrmAuthError) as caught:
        await halo.adapter(client).get(jane)

    assert "read:customers" in caught.value.message


async def test_phone_search_asks_for_phone_numbers_and_matches_exactly_on_e164(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    company, jane = seed_jane(halo)
    halo.add_contact(name="Near Miss", company_ref=company, phone="(212) 555-7611")
    adapter = halo.adapter(client)

    found = await adapter.search(phone("+15135557611"), limit=5)
    await adapter.search(ContactQuery(LookupKind.NAME, "Jane"), limit=5)

    assert [c.ref for c in found] == [jane]
    searches = [r.query for r in halo.requests if r.path == "/api/Users"]
    assert searches[0]["search_phonenumbers"] == "true"
    assert searches[0]["includeinactive"] == "true"
    assert "search_phonenumbers" not in searches[-1]


async def test_the_fake_searches_phone_numbers_only_when_asked(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    seed_jane(halo)
    adapter = halo.adapter(client)
    await adapter.check_credentials()  # a token in the fake's books
    token = next(r for r in reversed(halo.requests) if r.path == "/api/Users")
    headers = {"Authorization": token.headers["authorization"]}

    without = await client.get(f"{halo.base_url}/Users", params={"search": "7611"}, headers=headers)
    with_flag = await client.get(
        f"{halo.base_url}/Users",
        params={"search": "7611", "search_phonenumbers": "true"},
        headers=headers,
    )

    assert without.json()["users"] == []
    assert [u["name"] for u in with_flag.json()["users"]] == ["Jane Doe"]


async def test_a_mobile_number_is_preferred_and_either_number_finds_the_contact(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(halo)
    halo.mobiles[jane] = "513.555.9000"
    adapter = halo.adapter(client)

    by_landline = await adapter.search(phone("+15135557611"), limit=5)
    by_mobile = await adapter.search(phone("+15135559000"), limit=5)

    assert [c.ref for c in by_landline] == [c.ref for c in by_mobile] == [jane]
    assert by_landline[0].phone_e164 == "+15135559000"


async def test_writes_are_json_arrays_and_notes_are_hidden_from_the_user(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    company, jane = seed_jane(halo)
    adapter = halo.adapter(client)
    contact = await adapter.get(jane)
    assert contact is not None

    ticket = await adapter.create_ticket(contact=contact, summary="Locked out")
    await adapter.add_note(ticket_ref=ticket.ref, text="PIN sent", key="k9", first_attempt=True)

    create = next(r for r in halo.requests if r.method == "POST" and r.path == "/api/Tickets")
    note = next(r for r in halo.requests if r.method == "POST" and r.path == "/api/Actions")
    assert create.body == [
        {
            "summary": "Locked out",
            "details": "Opened from PIN Verify for Jane Doe.",
            "user_id": int(jane),
            "client_id": int(company),
        }
    ]
    assert note.body == [
        {
            "ticket_id": int(ticket.ref),
            "note": "PIN sent\n\nPIN Verify ref: k9",
            "outcome": "Private Note",
            "hiddenfromuser": True,
            "sendemail": False,
        }
    ]
    assert halo.notes(ticket.number)[0].internal is True


async def test_the_fake_refuses_an_object_body_for_actions(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    company, jane = seed_jane(halo)
    number = halo.add_ticket(summary="Reset", contact_ref=jane, company_ref=company)
    await halo.adapter(client).check_credentials()
    token = next(r for r in reversed(halo.requests) if r.path == "/api/Users")

    response = await client.post(
        f"{halo.base_url}/Actions",
        json={"ticket_id": int(number), "note": "x", "hiddenfromuser": True},
        headers={"Authorization": token.headers["authorization"]},
    )

    assert response.status_code == 400
    assert halo.notes(number) == []


async def test_ticket_paths_are_case_insensitive_and_status_9_is_closed(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    company, jane = seed_jane(halo)
    number = halo.add_ticket(summary="Old", contact_ref=jane, company_ref=company)
    halo.stored_tickets[number].closed = True
    adapter = halo.adapter(client)

    ticket = await adapter.get_ticket(f"#{number}")
    token = next(r for r in reversed(halo.requests) if r.path.startswith("/api/"))
    lower = await client.get(
        f"{halo.base_url}/tickets/{number}",
        headers={"Authorization": token.headers["authorization"]},
    )

    assert ticket is not None and ticket.closed is True
    assert ticket.url == f"{halo.server_url}/tickets?id={number}"
    assert lower.status_code == 200 and lower.json()["id"] == int(number)


async def test_a_note_on_an_unknown_ticket_is_not_found(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    with pytest.raises(CrmNotFound):
        await halo.adapter(client).add_note(
            ticket_ref="4242", text="x", key="k", first_attempt=True
        )


async def test_throttled_sign_in_is_rate_limited_with_retry_after(
    halo: FakeHalo, client: httpx.AsyncClient
) -> None:
    halo.fail_next(429, retry_after=30, path_contains="/auth/token")

    with pytest.raises(CrmRateLimited) as caught:
        await halo.adapter(client).check_credentials()

    assert caught.value.retry_after == 30
