"""auth.test, users.*, conversations.* and usergroups.users.list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_emulator.arguments import MethodArgs
from slack_emulator.errors import SlackApiFailure

if TYPE_CHECKING:
    from slack_emulator.web_api import SlackEmulator


def auth_test(emulator: SlackEmulator, _args: MethodArgs) -> dict[str, Any]:
    return {
        "url": f"https://{emulator.team.domain}.slack.com/",
        "team": emulator.team.name,
        "user": emulator.bot.name,
        "team_id": emulator.team.id,
        "user_id": emulator.bot.user_id,
        "bot_id": emulator.bot.bot_id,
        "is_enterprise_install": False,
    }


def users_info(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    user = emulator.users.get(args.require_text("user"))
    if user is None:
        raise SlackApiFailure("user_not_found")
    answer = user.to_api(emulator.team, emulator.bot)
    if "users:read.email" not in emulator.scopes:
        # Slack leaves the profile's email out unless the app also has users:read.email.
        answer["profile"].pop("email", None)
    return {"user": answer}


def users_lookup_by_email(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    wanted = args.require_text("email").strip().lower()
    for user in emulator.users.values():
        if user.email and user.email.lower() == wanted and not user.deleted:
            return {"user": user.to_api(emulator.team, emulator.bot)}
    raise SlackApiFailure("users_not_found")


def conversations_open(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    channel_id = args.text("channel")
    if channel_id is not None:
        channel = emulator.channels.get(channel_id)
        if channel is None or not channel.is_im:
            raise SlackApiFailure("channel_not_found")
        return {"no_op": True, "already_open": True, "channel": {"id": channel.id}}
    user_ids = [u.strip() for u in (args.text("users") or "").split(",") if u.strip()]
    if not user_ids:
        raise SlackApiFailure("users_list_not_supplied")
    if len(user_ids) > 8:
        raise SlackApiFailure("too_many_users")
    if len(user_ids) > 1:
        # Group DMs (mpim) are not emulated; the app only ever DMs one person.
        raise SlackApiFailure("method_not_supported_for_channel_type")
    user = emulator.users.get(user_ids[0])
    if user is None:
        raise SlackApiFailure("user_not_found")
    if user.is_bot:
        raise SlackApiFailure("cannot_dm_bot")
    already_open = emulator.has_dm(user.id)
    channel = emulator.dm_channel(user.id)
    body: dict[str, Any] = {}
    if already_open:
        body.update(no_op=True, already_open=True)
    if args.flag("return_im"):
        body["channel"] = channel.to_api(emulator.team, emulator.bot)
    else:
        body["channel"] = {"id": channel.id}
    return body


def conversations_info(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    channel = emulator.channels.get(args.require_text("channel"))
    bot_id = emulator.bot.user_id
    if channel is None or ((channel.is_private or channel.is_im) and bot_id not in channel.members):
        raise SlackApiFailure("channel_not_found")
    body = channel.to_api(emulator.team, emulator.bot)
    if args.flag("include_num_members") and not channel.is_im:
        body["num_members"] = len(channel.members)
    return {"channel": body}


def usergroups_users_list(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    group = emulator.usergroups.get(args.require_text("usergroup"))
    if group is None:
        raise SlackApiFailure("no_such_subteam")
    return {"users": list(group.users)}


def usergroups_list(emulator: SlackEmulator, args: MethodArgs) -> dict[str, Any]:
    include_disabled = args.flag("include_disabled")
    return {
        "usergroups": [
            group.to_api(
                emulator.team,
                include_users=args.flag("include_users"),
                include_count=args.flag("include_count"),
            )
            for group in emulator.usergroups.values()
            if include_disabled or not group.disabled
        ]
    }


def apps_connections_open(_emulator: SlackEmulator, _args: MethodArgs) -> dict[str, Any]:
    # Socket Mode needs an app-level token (xapp-); the emulator only issues a bot token.
    raise SlackApiFailure("not_allowed_token_type")
