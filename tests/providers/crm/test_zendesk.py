"""Zendesk's own ways: token Basic auth, phone search syntax, paging styles, private comments."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest

from providers.crm import (
    ContactQuery,
    CrmAuthError,
    CrmNotFound,
    CrmRateLimited,
    CrmRejected,
    LookupKind,
)
from tests.fakes.psa.zendesk import FakeZendesk, running_fake_zendesk


@pytest.fixture
async def zendesk() -> AsyncIterator[FakeZendesk]:
    async with running_fake_zendesk() as fake:
        yield fake


def seed_jane(fake: FakeZendesk) -> tuple[str, str]:
    org = fake.add_company("Globex")
    jane = fake.add_contact(
        name="Jane Doe", company_ref=org, phone="+15135557611", email="jane@globex.example"
    )
    return org, jane


async def test_requests_use_basic_auth_with_the_token_suffix(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    await zendesk.adapter(client).check_credentials()

    request = zendesk.requests[-1]
    assert request.path == "/api/v2/users/me.json"
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{zendesk.email}/token:{zendesk.api_token}"


async def test_an_end_user_login_is_not_enough(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    zendesk.agent_role = "end-user"

    with pytest.raises(CrmAuthError) as caught:
        await zendesk.adapter(client).check_credentials()

    assert "agent or admin" in caught.value.message


async def test_the_fake_answers_users_me_without_credentials_as_the_anonymous_user(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    response = await client.get(f"{zendesk.base_url}/users/me.json")

    assert response.status_code == 200
    assert response.json()["user"]["id"] is None


async def test_phone_search_uses_the_search_api_with_a_suffix_wildcard(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org, jane = seed_jane(zendesk)
    # Same last ten digits, another country: the wildcard finds it, the adapter drops it.
    zendesk.add_contact(name="Abroad", company_ref=org, phone="+44 5135557611")

    found = await zendesk.adapter(client).search(
        ContactQuery(LookupKind.PHONE, "+15135557611"), limit=5
    )

    assert [(c.ref, c.company, c.company_ref) for c in found] == [(jane, "Globex", org)]
    search = next(r for r in zendesk.requests if r.path == "/api/v2/search.json")
    assert search.query["query"] == "type:user phone:*5135557611"


async def test_user_search_follows_next_page_links(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org = zendesk.add_company("Acme")
    refs = {zendesk.add_contact(name=f"Pat Lee{i}", company_ref=org) for i in range(5)}

    found = await zendesk.adapter(client).search(ContactQuery(LookupKind.NAME, "pat"), limit=10)

    assert {c.ref for c in found} == refs
    pages = [r.query.get("page", "1") for r in zendesk.requests if "users/search" in r.path]
    assert pages == ["1", "2", "3"]
    # users/search.json has no cursor paging; a page[size] there is refused by Zendesk.
    assert not any("page[size]" in r.query for r in zendesk.requests)


async def test_organization_names_come_from_one_show_many_call(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    first, second = zendesk.add_company("Globex"), zendesk.add_company("Initech")
    zendesk.add_contact(name="Sam One", company_ref=first)
    zendesk.add_contact(name="Sam Two", company_ref=second)

    found = await zendesk.adapter(client).search(ContactQuery(LookupKind.NAME, "sam"), limit=5)

    assert sorted(c.company for c in found) == ["Globex", "Initech"]
    lookups = [r for r in zendesk.requests if "organizations" in r.path]
    assert len(lookups) == 1
    assert sorted(lookups[0].query["ids"].split(",")) == sorted([first, second])


async def test_a_suspended_user_is_inactive(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(zendesk)
    zendesk.suspended.add(jane)

    contact = await zendesk.adapter(client).get(jane)

    assert contact is not None and contact.active is False


async def test_the_note_is_a_private_comment_put_on_the_ticket(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org, jane = seed_jane(zendesk)
    number = zendesk.add_ticket(summary="Reset", contact_ref=jane, company_ref=org)

    receipt = await zendesk.adapter(client).add_note(
        ticket_ref=number, text="PIN sent", key="k1", first_attempt=True
    )

    put = zendesk.requests[-1]
    assert (put.method, put.path) == ("PUT", f"/api/v2/tickets/{number}.json")
    assert put.body == {
        "ticket": {"comment": {"body": "PIN sent\n\nPIN Verify ref: k1", "public": False}}
    }
    assert zendesk.notes(number)[0].internal is True
    assert receipt.ref == str(zendesk.stored_notes[0].ref)


async def test_the_fake_makes_a_comment_public_unless_told_otherwise(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org, jane = seed_jane(zendesk)
    number = zendesk.add_ticket(summary="Reset", contact_ref=jane, company_ref=org)

    response = await client.put(
        f"{zendesk.base_url}/tickets/{number}.json",
        json={"ticket": {"comment": {"body": "hello"}}},
        auth=(f"{zendesk.email}/token", zendesk.api_token),
    )

    assert response.status_code == 200
    assert zendesk.notes(number)[0].internal is False


async def test_a_retry_finds_its_note_on_a_later_comments_page(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(zendesk)
    adapter = zendesk.adapter(client)
    contact = await adapter.get(jane)
    assert contact is not None
    ticket = await adapter.create_ticket(contact=contact, summary="Locked out")
    for key in ("a", "b", "c"):
        await adapter.add_note(ticket_ref=ticket.ref, text=key, key=key, first_attempt=True)

    receipt = await adapter.add_note(ticket_ref=ticket.ref, text="c", key="c", first_attempt=False)

    assert receipt.already_present is True
    assert len(zendesk.notes(ticket.number)) == 3
    reads = [r.query for r in zendesk.requests if r.path.endswith("/comments.json")]
    assert reads[0] == {"page[size]": "100"}
    assert len(reads) == 2 and "page[after]" in reads[1]


async def test_create_ticket_sends_the_requester_and_a_private_first_comment(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org, jane = seed_jane(zendesk)
    adapter = zendesk.adapter(client)
    contact = await adapter.get(jane)
    assert contact is not None

    ticket = await adapter.create_ticket(contact=contact, summary="Locked out")

    post = next(r for r in zendesk.requests if r.method == "POST")
    assert post.path == "/api/v2/tickets.json"
    assert post.body == {
        "ticket": {
            "subject": "Locked out",
            "comment": {"body": "Opened from PIN Verify: Locked out", "public": False},
            "requester_id": int(jane),
            "organization_id": int(org),
        }
    }
    assert ticket.url == f"{zendesk.server_url}/agent/tickets/{ticket.number}"


async def test_record_invalid_is_a_refusal_that_says_why(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    _, jane = seed_jane(zendesk)
    adapter = zendesk.adapter(client)
    contact = await adapter.get(jane)
    assert contact is not None
    zendesk.suspended.add(jane)

    with pytest.raises(CrmRejected) as caught:
        await adapter.create_ticket(contact=contact, summary="Locked out")

    assert caught.value.status == 422
    assert "Requester: is suspended" in caught.value.message
    assert zendesk.tickets() == []


async def test_record_not_found_on_a_note_is_not_found(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    with pytest.raises(CrmNotFound) as caught:
        await zendesk.adapter(client).add_note(
            ticket_ref="777", text="x", key="k", first_attempt=True
        )

    assert caught.value.status == 404


async def test_a_rate_limited_note_carries_retry_after(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org, jane = seed_jane(zendesk)
    number = zendesk.add_ticket(summary="Reset", contact_ref=jane, company_ref=org)
    zendesk.fail_next(429, retry_after=42, path_contains="/tickets/")

    with pytest.raises(CrmRateLimited) as caught:
        await zendesk.adapter(client).add_note(
            ticket_ref=number, text="x", key="k", first_attempt=True
        )

    assert caught.value.retry_after == 42
    assert zendesk.notes(number) == []


async def test_solved_tickets_are_closed(zendesk: FakeZendesk, client: httpx.AsyncClient) -> None:
    org, jane = seed_jane(zendesk)
    number = zendesk.add_ticket(summary="Done", contact_ref=jane, company_ref=org)
    zendesk.stored_tickets[number].closed = True

    ticket = await zendesk.adapter(client).get_ticket(number)

    assert ticket is not None and ticket.closed is True


async def test_phone_search_pages_through_wildcard_matches_to_the_exact_number(
    zendesk: FakeZendesk, client: httpx.AsyncClient
) -> None:
    org = zendesk.add_company("Globex")
    for prefix in ("+44", "+61", "+33", "+49"):
        zendesk.add_contact(name=f"Abroad {prefix}", company_ref=org, phone=f"{prefix}5135557611")
    jane = zendesk.add_contact(name="Jane Doe", company_ref=org, phone="513-555-7611")

    found = await zendesk.adapter(client).search(
        ContactQuery(LookupKind.PHONE, "+15135557611"), limit=5
    )

    assert [c.ref for c in found] == [jane]
    pages = [r.query.get("page", "1") for r in zendesk.requests if r.path.endswith("search.json")]
    assert pages == ["1", "2", "3"]
