"""The vendor registry against the catalog, and the delivery-report routes it gives the server.

The routes are served by the real ASGI app that `open_runtime` builds; requests go to it in
process (httpx's ASGI transport), so nothing but the registry decides what they answer.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
import pytest

from bot.runtime import open_runtime
from bot.runtime.report_routes import webhook_token
from bot.runtime.vendors import CRM_VENDORS, EMAIL_VENDORS, SMS_VENDORS, webhook_urls
from bot.settings import load_settings
from bot.vendor_catalog import VendorKind, vendors_of

KEY = "registry-secret-key-0123456789abcdefghij"
PUBLIC = "https://pin.example.org"


def test_every_catalog_vendor_has_one_registry_entry_of_its_kind() -> None:
    for kind, registry in (
        (VendorKind.SMS, SMS_VENDORS),
        (VendorKind.EMAIL, EMAIL_VENDORS),
        (VendorKind.CRM, CRM_VENDORS),
    ):
        assert list(registry) == list(vendors_of(kind))
        assert all(spec.vendor.kind is kind for spec in registry.values())


def test_only_vendors_that_report_delivery_get_a_url() -> None:
    urls = webhook_urls(PUBLIC, KEY.encode())
    token = webhook_token(KEY.encode(), "postmark")

    assert list(urls) == ["twilio", "vonage", "sendgrid", "postmark"]
    assert urls["twilio"] == f"{PUBLIC}/webhooks/twilio/status"
    assert urls["vonage"].endswith(f"/webhooks/vonage/dlr/{webhook_token(KEY.encode(), 'vonage')}")
    assert urls["postmark"] == f"https://pinverify:{token}@pin.example.org/webhooks/postmark"
    assert webhook_token(KEY.encode(), "vonage") != webhook_token(KEY.encode(), "sendgrid")


@asynccontextmanager
async def served(database_url: str, env: Mapping[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "PINVERIFY_SECRET_KEY": KEY,
            "PINVERIFY_PUBLIC_URL": PUBLIC,
            **env,
        }
    )
    async with open_runtime(settings, run_relay=False) as runtime:
        transport = httpx.ASGITransport(app=runtime.server)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            yield client


async def test_a_vendor_not_configured_here_has_its_route_refused(database_url: str) -> None:
    async with served(database_url, {}) as bot:
        twilio = await bot.post("/webhooks/twilio/status", data={"MessageSid": "SM1"})
        vonage = await bot.get(f"/webhooks/vonage/dlr/{webhook_token(KEY.encode(), 'vonage')}")
        sendgrid = await bot.post(
            f"/webhooks/sendgrid/events/{webhook_token(KEY.encode(), 'sendgrid')}", json=[]
        )
        auth = base64.b64encode(f"pinverify:{webhook_token(KEY.encode(), 'postmark')}".encode())
        postmark = await bot.post(
            "/webhooks/postmark", json={}, headers={"Authorization": f"Basic {auth.decode()}"}
        )

    assert twilio.status_code == 404
    assert [vonage.status_code, sendgrid.status_code, postmark.status_code] == [403, 403, 403]
    assert sendgrid.json() == {"ok": False}


async def test_a_configured_route_refuses_garbage_and_oversized_bodies(
    database_url: str,
) -> None:
    env = {"SENDGRID_API_KEY": "SG.key", "EMAIL_FROM": "helpdesk@msp.example"}
    path = f"/webhooks/sendgrid/events/{webhook_token(KEY.encode(), 'sendgrid')}"
    async with served(database_url, env) as bot:
        garbage = await bot.post(path, content=b"not json")
        wrong_shape = await bot.post(path, json={"event": "delivered"})
        oversized = await bot.post(path, content=b"[" + b" " * 1_000_001 + b"]")
        nothing_of_ours = await bot.post(path, json=[{"event": "open"}])

    assert garbage.status_code == 400
    assert garbage.json() == {"ok": False, "error": "the body is not JSON"}
    assert wrong_shape.status_code == 400
    assert oversized.status_code == 413
    assert nothing_of_ours.status_code == 200 and nothing_of_ours.json() == {"ok": True}


@pytest.mark.parametrize("token", ["wrong", "tökén"])
async def test_a_wrong_path_token_is_forbidden(database_url: str, token: str) -> None:
    env = {"SENDGRID_API_KEY": "SG.key", "EMAIL_FROM": "helpdesk@msp.example"}
    async with served(database_url, env) as bot:
        answer = await bot.post(f"/webhooks/sendgrid/events/{token}", json=[])

    assert answer.status_code == 403
