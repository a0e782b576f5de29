"""FakeTwilio's signed status callbacks against a route that validates and parses them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from providers.reports import DeliveryState, DeliveryStatus
from providers.sms import SmsMessage
from providers.sms.twilio import parse_twilio_status, valid_twilio_signature
from tests.providers.support import TwilioEnv
from tests.support.asgi import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

PUBLIC_URL = "https://pinverify.example/webhooks/twilio/status"


@dataclass
class CallbackRoute:
    """A stand-in for the bot's route: validates against the public URL, then parses."""

    url: str
    auth_token: str = ""
    received: list[DeliveryStatus | None] = field(default_factory=list)
    rejected: int = 0


@pytest_asyncio.fixture(loop_scope="module")
async def route(twilio: TwilioEnv) -> AsyncIterator[CallbackRoute]:
    state = CallbackRoute(url="", auth_token=twilio.fake.auth_token)

    async def receive(request: Request) -> Response:
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        signature = request.headers.get("X-Twilio-Signature")
        if not valid_twilio_signature(state.auth_token, PUBLIC_URL, form, signature):
            state.rejected += 1
            return Response(status_code=403)
        state.received.append(parse_twilio_status(dict(form)))
        return Response(status_code=204)

    app = Starlette(routes=[Route("/webhooks/twilio/status", receive, methods=["POST"])])
    async with running_server(app) as url:
        state.url = url + "/webhooks/twilio/status"
        yield state


async def send_one(twilio: TwilioEnv) -> str:
    receipt = await twilio.adapter(status_callback_url=PUBLIC_URL).send(
        SmsMessage(to="+14155550123", body="Your code is 482913.", idempotency_key="v:1")
    )
    return receipt.message_id


async def test_signed_callbacks_are_accepted_and_parsed(
    twilio: TwilioEnv, route: CallbackRoute
) -> None:
    sid = await send_one(twilio)

    for status in ("sent", "delivered"):
        response = await twilio.fake.post_status_callback(
            route.url, message_sid=sid, status=status, signed_url=PUBLIC_URL
        )
        assert response.status_code == 204

    sent, delivered = route.received
    assert sent == DeliveryStatus("twilio", sid, DeliveryState.SENT)
    assert delivered is not None
    assert (delivered.message_id, delivered.state, delivered.reason) == (
        sid,
        DeliveryState.DELIVERED,
        None,
    )
    # The carrier's completion time (RawDlrDoneDate) is to the minute.
    assert delivered.occurred_at is not None
    assert abs(delivered.occurred_at - datetime.now(UTC)) < timedelta(minutes=2)
    assert route.rejected == 0


async def test_undelivered_callback_carries_the_carrier_reason(
    twilio: TwilioEnv, route: CallbackRoute
) -> None:
    sid = await send_one(twilio)

    await twilio.fake.post_status_callback(
        route.url, message_sid=sid, status="undelivered", error_code=30003, signed_url=PUBLIC_URL
    )

    [status] = route.received
    assert status is not None
    assert (status.state, status.error_code) == (DeliveryState.UNDELIVERED, "30003")
    assert status.reason is not None and "unreachable" in status.reason


async def test_a_tampered_callback_is_rejected(twilio: TwilioEnv, route: CallbackRoute) -> None:
    sid = await send_one(twilio)

    response = await twilio.fake.post_status_callback(
        route.url, message_sid=sid, status="undelivered", tamper=True, signed_url=PUBLIC_URL
    )

    assert response.status_code == 403
    assert route.rejected == 1
    assert route.received == []


async def test_a_callback_signed_for_another_url_is_rejected(
    twilio: TwilioEnv, route: CallbackRoute
) -> None:
    sid = await send_one(twilio)

    # Signed for where it landed (the local address), not the public URL the route trusts.
    response = await twilio.fake.post_status_callback(route.url, message_sid=sid, status="sent")

    assert response.status_code == 403


async def test_a_callback_signed_with_another_token_is_rejected(
    twilio: TwilioEnv, route: CallbackRoute
) -> None:
    sid = await send_one(twilio)
    route.auth_token = "0" * 32

    response = await twilio.fake.post_status_callback(
        route.url, message_sid=sid, status="delivered", signed_url=PUBLIC_URL
    )

    assert response.status_code == 403
