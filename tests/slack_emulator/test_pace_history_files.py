"""The emulator's newer surfaces, called the way the bot calls Slack: Slack's rate limits
(on request), message metadata read back through conversations.history / .replies, and the
three steps of files_upload_v2."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import RateLimits, SlackEmulator
from tests.slack_emulator.conftest import SUPERVISORS


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limits_answer_429_with_retry_after(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    clock = Clock()
    emulator.clock = clock
    emulator.rate_limits = limits = RateLimits()
    first = await web_client.chat_postMessage(channel=SUPERVISORS, text="one")
    with pytest.raises(SlackApiError) as refused:
        await web_client.chat_postMessage(channel=SUPERVISORS, text="two")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "1"
    clock.now += 1.0
    await web_client.chat_postMessage(channel=SUPERVISORS, text="two")
    for number in range(50):  # Tier 3: 50 updates a minute
        await web_client.chat_update(channel=SUPERVISORS, ts=first["ts"], text=f"u{number}")
    with pytest.raises(SlackApiError) as throttled:
        await web_client.chat_update(channel=SUPERVISORS, ts=first["ts"], text="too many")
    assert int(throttled.value.response.headers["Retry-After"]) == 60
    clock.now += 60
    await web_client.chat_update(channel=SUPERVISORS, ts=first["ts"], text="again")
    assert limits.refused == {"chat.postMessage": 1, "chat.update": 1}


async def test_metadata_is_read_back_only_when_asked_for(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    marker = {"event_type": "pinverify_post", "event_payload": {"key": "k1"}}
    parent = await web_client.chat_postMessage(channel=SUPERVISORS, text="p", metadata=marker)
    reply = await web_client.chat_postMessage(
        channel=SUPERVISORS, text="r", thread_ts=parent["ts"], metadata=marker
    )
    plain = await web_client.conversations_history(channel=SUPERVISORS)
    assert [m["ts"] for m in plain["messages"]] == [parent["ts"]]  # replies are not listed
    assert "metadata" not in plain["messages"][0]
    full = await web_client.conversations_history(channel=SUPERVISORS, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == marker
    thread = await web_client.conversations_replies(
        channel=SUPERVISORS, ts=parent["ts"], include_all_metadata=True
    )
    assert [m["ts"] for m in thread["messages"]] == [parent["ts"], reply["ts"]]
    with pytest.raises(SlackApiError, match="invalid_metadata_schema"):
        await web_client.chat_postMessage(
            channel=SUPERVISORS, text="x", metadata={"event_type": "only"}
        )


async def test_history_pages_with_a_cursor(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    for number in range(5):
        await web_client.chat_postMessage(channel=SUPERVISORS, text=f"m{number}")
    first = await web_client.conversations_history(channel=SUPERVISORS, limit=3)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3", "m2"] and first["has_more"]
    cursor = first["response_metadata"]["next_cursor"]
    rest = await web_client.conversations_history(channel=SUPERVISORS, limit=3, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m1", "m0"] and not rest["has_more"]


async def test_files_upload_v2_shares_the_file(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    answer = await web_client.files_upload_v2(
        channel=SUPERVISORS,
        content=b"a,b\n1,2\n",
        filename="export.csv",
        title="Export",
        initial_comment="here it is",
    )
    assert answer["file"]["name"] == "export.csv"
    (upload,) = emulator.files.values()
    assert upload.content == b"a,b\n1,2\n" and upload.completed
    (shared,) = emulator.messages(SUPERVISORS)
    assert shared.text == "here it is" and shared.files and shared.files[0]["id"] == upload.id
    with pytest.raises(SlackApiError, match="file_not_found"):
        await web_client.files_completeUploadExternal(files=[{"id": upload.id}])
