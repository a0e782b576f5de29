"""The state of one emulated Slack workspace: people, channels, messages, views, triggers.

Everything here is plain in-memory data driven from a single event loop; the Web API
handlers and the driver read and change it synchronously, so no locking is needed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_emulator.errors import SlackApiFailure
from slack_emulator.records import (
    BotIdentity,
    Channel,
    Message,
    StoredView,
    Team,
    User,
    Usergroup,
)

# Slack lets an app use a trigger_id once, within 3 seconds of the interaction.
TRIGGER_TTL_SECONDS = 3.0


@dataclass
class IssuedTrigger:
    user_id: str
    issued_at: float
    used: bool = False


class Workspace:
    """One team with its bot, users, channels and everything posted or opened there."""

    def __init__(
        self,
        *,
        team_id: str = "T0EMULATOR",
        team_name: str = "Emulator Workspace",
        team_domain: str = "emulator",
        bot_user_id: str = "U0EMUBOT00",
        bot_id: str = "B0EMUBOT00",
        app_id: str = "A0EMULATOR",
        bot_name: str = "pin-verify",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.team = Team(id=team_id, name=team_name, domain=team_domain)
        self.bot = BotIdentity(user_id=bot_user_id, bot_id=bot_id, app_id=app_id, name=bot_name)
        self.clock = clock
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.views: dict[str, StoredView] = {}
        self._history: dict[str, list[Message]] = {}
        self._ephemeral: list[Message] = []
        self._dm_by_user: dict[str, str] = {}
        self._modal_stacks: dict[str, list[str]] = {}
        self._home_view_by_user: dict[str, str] = {}
        self._triggers: dict[str, IssuedTrigger] = {}
        self._id_counters: dict[str, int] = {}
        self._last_ts = (0, 0)
        self.users[bot_user_id] = User(
            id=bot_user_id, name=bot_name, real_name=bot_name, is_bot=True
        )

    # -- ids and timestamps ---------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """A Slack-looking id such as D0EMU00001, unique per prefix in this workspace."""
        count = self._id_counters.get(prefix, 0) + 1
        self._id_counters[prefix] = count
        return f"{prefix}0EMU{count:05d}"

    def next_ts(self) -> str:
        """A message ts ("1764171234.000100"): unique and strictly increasing."""
        seconds = int(self.clock())
        last_seconds, last_micros = self._last_ts
        if seconds > last_seconds:
            stamp = (seconds, 100)
        elif last_micros + 100 < 1_000_000:
            stamp = (last_seconds, last_micros + 100)
        else:
            stamp = (last_seconds + 1, 100)
        self._last_ts = stamp
        return f"{stamp[0]}.{stamp[1]:06d}"

    def new_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_hex(4)}"

    # -- people and channels --------------------------------------------------------

    def add_user(
        self,
        id: str,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        tz: str = "America/New_York",
        phone: str = "",
    ) -> User:
        """A person; the primary owner is also an owner, as in Slack."""
        user = User(
            id=id,
            name=name,
            real_name=real_name or name,
            email=email,
            is_admin=is_admin,
            is_owner=is_owner or is_primary_owner,
            is_primary_owner=is_primary_owner,
            tz=tz,
            phone=phone,
        )
        self.users[id] = user
        return user

    def add_channel(
        self,
        id: str,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        bot_is_member: bool = True,
    ) -> Channel:
        """A channel; the bot is in it unless `bot_is_member=False` (to test not_in_channel)."""
        member_ids = set(members)
        if bot_is_member:
            member_ids.add(self.bot.user_id)
        channel = Channel(id=id, name=name, is_private=is_private, members=member_ids)
        self.channels[id] = channel
        self._history.setdefault(id, [])
        return channel

    def add_usergroup(
        self,
        id: str,
        handle: str,
        users: Iterable[str],
        *,
        name: str = "",
        disabled: bool = False,
    ) -> Usergroup:
        group = Usergroup(id=id, handle=handle, users=list(users), name=name, disabled=disabled)
        self.usergroups[id] = group
        return group

    def dm_channel(self, user_id: str) -> Channel:
        """The DM between the bot and `user_id`, created the first time it is needed."""
        existing = self._dm_by_user.get(user_id)
        if existing is not None:
            return self.channels[existing]
        channel = Channel(
            id=self.new_id("D"),
            name=user_id,
            members={user_id, self.bot.user_id},
            im_user=user_id,
            created=int(self.clock()),
        )
        self.channels[channel.id] = channel
        self._history[channel.id] = []
        self._dm_by_user[user_id] = channel.id
        return channel

    def has_dm(self, user_id: str) -> bool:
        return user_id in self._dm_by_user

    def resolve_channel(self, reference: str) -> Channel | None:
        """A channel by C/G/D id, or (as chat.postMessage allows) a user id for their DM."""
        channel = self.channels.get(reference)
        if channel is not None:
            return channel
        user = self.users.get(reference)
        if user is not None and not user.is_bot:
            return self.dm_channel(user.id)
        return None

    def can_see(self, user_id: str, channel: Channel) -> bool:
        """Whether `user_id` can open `channel` in the client (so read and click in it)."""
        if channel.is_im or channel.is_private:
            return user_id in channel.members
        return user_id in self.users

    # -- messages -------------------------------------------------------------------

    def append_message(
        self,
        channel_id: str,
        *,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        attachments: list[Any] | None = None,
        ephemeral_to: str | None = None,
        metadata: dict[str, Any] | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> Message:
        """Record a message the bot posted (in the channel, or visible to one user)."""
        message = Message(
            channel=channel_id,
            ts=self.next_ts(),
            text=text,
            blocks=blocks,
            user=self.bot.user_id,
            bot_id=self.bot.bot_id,
            app_id=self.bot.app_id,
            thread_ts=thread_ts,
            ephemeral_to=ephemeral_to,
            attachments=attachments,
            metadata=metadata,
            files=files,
        )
        if ephemeral_to is None:
            self._history.setdefault(channel_id, []).append(message)
        else:
            self._ephemeral.append(message)
        return message

    def append_user_message(self, channel_id: str, user_id: str, text: str) -> Message:
        """A message a person typed (the bot may not edit or delete it)."""
        message = Message(channel=channel_id, ts=self.next_ts(), text=text, blocks=[], user=user_id)
        self._history.setdefault(channel_id, []).append(message)
        return message

    def append_slackbot_notice(self, channel_id: str, user_id: str, text: str) -> Message:
        """An ephemeral message from Slackbot, as the client shows command failures."""
        message = Message(
            channel=channel_id,
            ts=self.next_ts(),
            text=text,
            blocks=[],
            user="USLACKBOT",
            ephemeral_to=user_id,
        )
        self._ephemeral.append(message)
        return message

    def message(self, channel_id: str, ts: str) -> Message | None:
        """The live (not deleted) in-channel message with this ts."""
        for message in self._history.get(channel_id, []):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def messages(self, channel_id: str) -> list[Message]:
        """Live in-channel messages, oldest first (threads included, as posted)."""
        return [m for m in self._history.get(channel_id, []) if not m.deleted]

    def dm_messages(self, user_id: str) -> list[Message]:
        """Live messages in the DM between the bot and `user_id` (none if never opened)."""
        channel_id = self._dm_by_user.get(user_id)
        return self.messages(channel_id) if channel_id else []

    def ephemeral_messages(self, user_id: str, channel_id: str | None = None) -> list[Message]:
        return [
            m
            for m in self._ephemeral
            if m.ephemeral_to == user_id
            and not m.deleted
            and (channel_id is None or m.channel == channel_id)
        ]

    def delete_message(self, message: Message) -> None:
        message.deleted = True
        if message.is_ephemeral:
            self._ephemeral = [m for m in self._ephemeral if m is not message]

    def is_live(self, message: Message) -> bool:
        if message.is_ephemeral:
            return any(m is message for m in self._ephemeral)
        return not message.deleted and self.message(message.channel, message.ts) is message

    # -- views ----------------------------------------------------------------------

    def open_views(self, user_id: str) -> list[StoredView]:
        """The user's modal stack, root first; the last one is the one on screen."""
        return [self.views[view_id] for view_id in self._modal_stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> StoredView | None:
        view_id = self._home_view_by_user.get(user_id)
        return self.views.get(view_id) if view_id else None

    def store_view(
        self,
        user_id: str,
        payload: dict[str, Any],
        *,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> StoredView:
        view_id = self.new_id("V")
        view = StoredView(
            id=view_id,
            user_id=user_id,
            payload=payload,
            hash=self.new_hash(),
            root_view_id=root_view_id or view_id,
            previous_view_id=previous_view_id,
        )
        self.views[view_id] = view
        return view

    def set_modal_stack(self, user_id: str, stack: list[StoredView]) -> None:
        """Replace the user's modal stack; views dropped from it are closed."""
        keep = {view.id for view in stack}
        for view in self.open_views(user_id):
            if view.id not in keep:
                view.is_open = False
        self._modal_stacks[user_id] = [view.id for view in stack]

    def set_home_view(self, user_id: str, view: StoredView) -> None:
        self._home_view_by_user[user_id] = view.id

    def live_view_by_external_id(self, external_id: str) -> StoredView | None:
        for view in self.views.values():
            if view.is_open and view.external_id == external_id:
                return view
        return None

    # -- triggers -------------------------------------------------------------------

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as Slack puts in an interaction payload for `user_id`."""
        trigger_id = f"{int(self.clock())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = IssuedTrigger(user_id=user_id, issued_at=self.clock())
        return trigger_id

    def exchange_trigger(self, trigger_id: str) -> str:
        """Use a trigger_id once, within its 3 s; returns the user it belongs to."""
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackApiFailure("invalid_trigger_id")
        if trigger.used:
            raise SlackApiFailure("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL_SECONDS:
            raise SlackApiFailure("expired_trigger_id")
        trigger.used = True
        return trigger.user_id
