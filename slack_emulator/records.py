"""The things an emulated workspace holds, each able to render itself as Slack's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    domain: str


@dataclass(frozen=True)
class BotIdentity:
    """The app under test as Slack knows it: its bot user, bot id and app id."""

    user_id: str
    bot_id: str
    app_id: str
    name: str


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    tz: str = "America/New_York"
    is_bot: bool = False
    deleted: bool = False
    phone: str = ""  # the profile's free-text phone field, as the person typed it

    def to_api(self, team: Team, bot: BotIdentity) -> dict[str, Any]:
        """The `user` object of users.info / users.lookupByEmail."""
        tz_label, tz_offset = _timezone_label_and_offset(self.tz)
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "title": "",
            "phone": self.phone,
            "team": team.id,
        }
        if self.email and not self.is_bot:
            profile["email"] = self.email
        if self.is_bot:
            profile.update(bot_id=bot.bot_id, api_app_id=bot.app_id, always_active=True)
        return {
            "id": self.id,
            "team_id": team.id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "is_email_confirmed": not self.is_bot,
        }


def _timezone_label_and_offset(tz: str) -> tuple[str, int]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return "Coordinated Universal Time", 0
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset else 0


@dataclass
class Channel:
    """A public or private channel, or the DM (IM) between the bot and one user."""

    id: str
    name: str
    is_private: bool = False
    members: set[str] = field(default_factory=set)
    im_user: str | None = None
    is_archived: bool = False
    created: int = 1_700_000_000

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def to_api(self, team: Team, bot: BotIdentity) -> dict[str, Any]:
        """The `channel` object of conversations.info / conversations.open(return_im)."""
        if self.im_user is not None:
            return {
                "id": self.id,
                "created": self.created,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": team.id,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        empty_topic = {"value": "", "creator": "", "last_set": 0}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "context_team_id": team.id,
            "is_member": bot.user_id in self.members,
            "topic": dict(empty_topic),
            "purpose": dict(empty_topic),
            "previous_names": [],
        }


@dataclass
class Usergroup:
    id: str
    handle: str
    users: list[str]
    name: str = ""
    description: str = ""
    disabled: bool = False

    def to_api(self, team: Team, *, include_users: bool, include_count: bool) -> dict[str, Any]:
        """One entry of usergroups.list (users and user_count only when asked for)."""
        body: dict[str, Any] = {
            "id": self.id,
            "team_id": team.id,
            "is_usergroup": True,
            "name": self.name or self.handle,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": 1_700_000_000,
            "date_update": 1_700_000_000,
            "date_delete": 1_700_000_100 if self.disabled else 0,
            "auto_type": None,
            "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT",
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
        }
        if include_users:
            body["users"] = list(self.users)
        if include_count:
            body["user_count"] = len(self.users)
        return body


@dataclass
class Message:
    """A message as a user would see it. The emulator mutates it in place on
    chat.update / replace_original, so a test holding it always sees the current
    version; `deleted` turns true when it is removed."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    ephemeral_to: str | None = None
    attachments: list[Any] | None = None
    edited_ts: str | None = None
    deleted: bool = False
    # Message metadata ({"event_type", "event_payload"}), returned only when asked for.
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] | None = None

    @property
    def is_ephemeral(self) -> bool:
        return self.ephemeral_to is not None

    def to_api(self, team: Team, *, include_metadata: bool = False) -> dict[str, Any]:
        """The message object as chat.postMessage returns it and block_actions embeds it."""
        body: dict[str, Any] = {"type": "message", "text": self.text, "user": self.user}
        if self.bot_id is not None:
            body.update(bot_id=self.bot_id, app_id=self.app_id)
        if self.blocks:
            body["blocks"] = self.blocks
        if self.attachments:
            body["attachments"] = self.attachments
        body.update(ts=self.ts, team=team.id)
        if self.thread_ts is not None:
            body["thread_ts"] = self.thread_ts
        if self.edited_ts is not None:
            body["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.files:
            body["files"] = self.files
        if include_metadata and self.metadata is not None:
            body["metadata"] = self.metadata
        return body


@dataclass
class StoredView:
    """A modal or a home tab the app opened, pushed, updated or published."""

    id: str
    user_id: str
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    is_open: bool = True
    state_values: dict[str, Any] = field(default_factory=dict)
    # The `errors` of the last `response_action: errors` the app answered a submission with.
    errors: dict[str, str] | None = None

    @property
    def type(self) -> str:
        return str(self.payload.get("type"))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = self.payload.get("blocks") or []
        return blocks

    @property
    def callback_id(self) -> str:
        return str(self.payload.get("callback_id") or "")

    @property
    def external_id(self) -> str:
        return str(self.payload.get("external_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.payload.get("private_metadata") or "")

    def to_api(self, team: Team, bot: BotIdentity) -> dict[str, Any]:
        """The view object as the views.* methods return it and payloads embed it."""
        body: dict[str, Any] = {
            "id": self.id,
            "team_id": team.id,
            "type": self.type,
            "blocks": self.blocks,
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": self.state_values},
            "hash": self.hash,
        }
        if self.type == "modal":
            body.update(
                title=self.payload.get("title"),
                clear_on_close=bool(self.payload.get("clear_on_close", False)),
                notify_on_close=bool(self.payload.get("notify_on_close", False)),
                close=self.payload.get("close"),
                submit=self.payload.get("submit"),
            )
        body.update(
            previous_view_id=self.previous_view_id,
            root_view_id=self.root_view_id,
            app_id=bot.app_id,
            external_id=self.external_id,
            app_installed_team_id=team.id,
            bot_id=bot.bot_id,
        )
        return body


@dataclass(frozen=True)
class ApiCall:
    """One Web API call the emulator answered (`method` "response_url" for those)."""

    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    at: float


@dataclass(frozen=True)
class InvalidPayload:
    """Block Kit that real Slack would have refused, and where it was sent."""

    source: str
    payload: Any
    errors: list[str]
    at: float
