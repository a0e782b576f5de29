"""Ack latency and throughput of /verify: PIN Verify next to a bare Bolt app, same run.

    .venv/bin/python -m bench.ack_latency [--requests 400] [--concurrency 10]

Both apps run on uvicorn in this process, behind Bolt's Starlette adapter, against the
Slack emulator. The baseline's listener only acks; PIN Verify's acks, then looks the caller up
and posts a card. The load generator and the emulator share the process and its CPU, so the
absolute numbers are pessimistic; the comparison is what counts. Bolt polls for the ack every
10 ms, which sets the floor for both.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from urllib.parse import urlencode

import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.clock import SystemClock
from bot.contacts.directory import import_contacts, parse_contact_csv
from bot.runtime import open_runtime
from bot.settings import load_settings
from slack_emulator import SlackEmulator
from tests.support.asgi import running_server

SECRET = "bench-signing-secret"
USER = "U0BENCH001"
CSV = "name,email,phone,company,external_id\nJane Doe,jane@globex.example,+15135557611,Globex,c1\n"


def baseline_app(emulator: SlackEmulator) -> Starlette:
    app = AsyncApp(
        client=AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url),
        signing_secret=SECRET,
    )

    async def just_ack(ack: AsyncAck) -> None:
        await ack()

    app.command("/verify")(just_ack)
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


def command_body(emulator: SlackEmulator) -> str:
    return urlencode(
        {
            "team_id": emulator.team.id,
            "channel_id": "C0BENCH",
            "user_id": USER,
            "user_name": "bench",
            "command": "/verify",
            "text": "+15135557611",
            "response_url": emulator.mint_response_url("C0BENCH", USER, None),
            "trigger_id": "1.2.3",
        }
    )


async def measure(
    url: str, emulator: SlackEmulator, requests: int, concurrency: int
) -> tuple[list[float], float]:
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)

    async with httpx.AsyncClient(timeout=10) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                body = command_body(emulator)  # a fresh response_url: each allows 5 uses
                stamp = str(int(time.time()))
                headers = {
                    "content-type": "application/x-www-form-urlencoded",
                    "x-slack-request-timestamp": stamp,
                    "x-slack-signature": str(
                        verifier.generate_signature(timestamp=stamp, body=body)
                    ),
                }
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return latencies, time.perf_counter() - started


def report(name: str, latencies: list[float], elapsed: float) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<12} {len(ordered) / elapsed:>8.0f} req/s   ack p50 "
        f"{statistics.median(ordered) * 1000:>6.2f} ms   p95 {p95 * 1000:>6.2f} ms"
    )


async def run(requests: int, concurrency: int) -> None:
    emulator = SlackEmulator()
    emulator.add_user(USER, "bench", real_name="Bench Agent")
    async with running_server(emulator.asgi_app()) as slack_url:
        emulator.base_url = slack_url
        results: list[str] = []
        async with running_server(baseline_app(emulator)) as base_url:
            url = f"{base_url}/slack/events"
            await measure(url, emulator, 20, concurrency)  # warm-up (auth.test, connections)
            results.append(
                report("bare Bolt", *await measure(url, emulator, requests, concurrency))
            )
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(
                {
                    "SLACK_BOT_TOKEN": emulator.bot_token,
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": emulator.api_url,
                    "PINVERIFY_SECRET_KEY": "bench-secret-key-0123456789abcdefghij",
                    "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
                }
            )
            async with open_runtime(settings) as runtime, running_server(runtime.server) as app_url:
                rows, _ = parse_contact_csv(CSV, region="US")
                await import_contacts(rows, db=runtime.db, clock=SystemClock())
                url = f"{app_url}/slack/events"
                await measure(url, emulator, 20, concurrency)
                results.append(
                    report("PIN Verify", *await measure(url, emulator, requests, concurrency))
                )
                # Post-ack work (lookup, card) outlives the acks; let it finish before closing.
                deadline = time.monotonic() + 60
                while len(emulator.calls_to("response_url")) < requests + 20:
                    if time.monotonic() > deadline:
                        raise TimeoutError("post-ack work did not finish")
                    await asyncio.sleep(0.05)
    print(f"/verify, {requests} requests, {concurrency} concurrent")  # noqa: T201
    for line in results:
        print(line)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency))


if __name__ == "__main__":
    main()
