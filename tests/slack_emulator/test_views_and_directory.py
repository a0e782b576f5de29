"""views.*, users.*, conversations.* and usergroups through slack_sdk's AsyncWebClient."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackEmulator
from tests.slack_emulator.conftest import ADMIN, AGENT, SUPERVISORS


def modal(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": title}}],
        **extra,
    }


HOME = {
    "type": "home",
    "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "PIN Verify"}}],
}


async def test_views_update_by_id_or_external_id_checks_the_hash(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    opened = await web_client.views_open(
        trigger_id=emulator.issue_trigger(AGENT), view=modal("One", external_id="ext-1")
    )
    view = opened["view"]

    by_id = await web_client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Two"))
    with pytest.raises(SlackApiError) as stale:
        await web_client.views_update(view_id=view["id"], hash=view["hash"], view=modal("X"))
    by_external = await web_client.views_update(external_id="ext-1", view=modal("Three"))

    assert by_id["view"]["id"] == view["id"] and by_id["view"]["hash"] != view["hash"]
    assert stale.value.response["error"] == "hash_conflict"
    assert by_external["view"]["title"]["text"] == "Three"
    assert emulator.open_views(AGENT)[0].payload["title"]["text"] == "Three"


async def test_views_push_stacks_up_to_three(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    await web_client.views_open(trigger_id=emulator.issue_trigger(AGENT), view=modal("1"))
    for title in ("2", "3"):
        await web_client.views_push(trigger_id=emulator.issue_trigger(AGENT), view=modal(title))
    with pytest.raises(SlackApiError) as full:
        await web_client.views_push(trigger_id=emulator.issue_trigger(AGENT), view=modal("4"))

    stack = emulator.open_views(AGENT)
    assert [v.payload["title"]["text"] for v in stack] == ["1", "2", "3"]
    assert stack[2].previous_view_id == stack[1].id and stack[2].root_view_id == stack[0].id
    assert full.value.response["error"] == "push_limit_reached"


async def test_invalid_view_is_refused_like_slack_and_recorded(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    too_long_title = modal("A title far longer than twenty-four characters")

    with pytest.raises(SlackApiError) as failure:
        await web_client.views_open(trigger_id=emulator.issue_trigger(AGENT), view=too_long_title)

    assert failure.value.response["error"] == "invalid_arguments"
    assert "title" in failure.value.response["response_metadata"]["messages"][0]
    assert emulator.invalid_payloads[0].payload == too_long_title
    assert emulator.open_views(AGENT) == []


async def test_views_publish_keeps_one_home_tab_per_user(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    first = await web_client.views_publish(user_id=AGENT, view=HOME)
    second = await web_client.views_publish(user_id=AGENT, view=HOME, hash=first["view"]["hash"])
    with pytest.raises(SlackApiError) as as_modal:
        await web_client.views_publish(user_id=ADMIN, view=modal("Nope"))

    home = emulator.home_view(AGENT)
    assert home is not None and home.id == first["view"]["id"] == second["view"]["id"]
    assert home.hash == second["view"]["hash"] != first["view"]["hash"]
    assert emulator.home_view(ADMIN) is None
    assert as_modal.value.response["error"] == "invalid_arguments"


async def test_users_info_and_lookup_by_email(web_client: AsyncWebClient) -> None:
    info = await web_client.users_info(user=ADMIN)
    found = await web_client.users_lookupByEmail(email="alice@example.com")
    with pytest.raises(SlackApiError) as unknown_user:
        await web_client.users_info(user="U0NOBODY00")
    with pytest.raises(SlackApiError) as unknown_email:
        await web_client.users_lookupByEmail(email="nobody@example.com")

    assert (
        info["user"]["is_admin"] is True and info["user"]["profile"]["email"] == "bob@example.com"
    )
    assert info["user"]["tz"] == "America/New_York" and "tz_offset" in info["user"]
    assert found["user"]["id"] == AGENT
    assert unknown_user.value.response["error"] == "user_not_found"
    assert unknown_email.value.response["error"] == "users_not_found"


async def test_missing_scope_is_reported_with_what_was_needed() -> None:
    limited = SlackEmulator(scopes={"chat:write", "commands", "users:read"})

    answer = limited.call("users.lookupByEmail", {"email": "a@b.c"}, token=limited.bot_token)

    assert answer.body["error"] == "missing_scope"
    assert answer.body["needed"] == "users:read.email"


async def test_conversations_open_and_info(
    emulator: SlackEmulator, web_client: AsyncWebClient
) -> None:
    opened = await web_client.conversations_open(users=AGENT)
    reopened = await web_client.conversations_open(users=AGENT)
    info = await web_client.conversations_info(channel=SUPERVISORS, include_num_members=True)
    emulator.add_channel("G0HIDDEN00", "hidden", is_private=True, bot_is_member=False)
    with pytest.raises(SlackApiError) as hidden:
        await web_client.conversations_info(channel="G0HIDDEN00")

    assert opened["channel"]["id"] == emulator.dm_channel(AGENT).id
    assert reopened["already_open"] is True
    assert info["channel"]["is_private"] is True and info["channel"]["num_members"] == 2
    assert hidden.value.response["error"] == "channel_not_found"


async def test_usergroups_users_list(emulator: SlackEmulator, web_client: AsyncWebClient) -> None:
    emulator.add_usergroup("S0SUPPORT0", "support-leads", [ADMIN])

    listed = await web_client.usergroups_users_list(usergroup="S0SUPPORT0")
    with pytest.raises(SlackApiError) as unknown:
        await web_client.usergroups_users_list(usergroup="S0NOSUCH00")

    assert listed["users"] == [ADMIN]
    assert unknown.value.response["error"] == "no_such_subteam"


async def test_usergroups_list(emulator: SlackEmulator, web_client: AsyncWebClient) -> None:
    emulator.add_usergroup("S0SUPPORT0", "support-leads", [ADMIN], name="Support leads")
    emulator.add_usergroup("S0RETIRED0", "retired", [], disabled=True)

    active = await web_client.usergroups_list(include_count=True)
    everything = await web_client.usergroups_list(include_disabled=True, include_users=True)

    assert [(g["id"], g["name"], g["user_count"]) for g in active["usergroups"]] == [
        ("S0SUPPORT0", "Support leads", 1)
    ]
    assert "users" not in active["usergroups"][0]
    assert [g["handle"] for g in everything["usergroups"]] == ["support-leads", "retired"]
    assert everything["usergroups"][0]["users"] == [ADMIN]
    assert everything["usergroups"][1]["date_delete"] > 0
