"""The workspace directory roles ask, answered by the Slack Web API (users.info and
usergroups.users.list): the Slack side of `bot.workspace.roles.WorkspaceDirectory`."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.workspace import DirectoryUnavailable

SLACK_TROUBLE = (SlackApiError, aiohttp.ClientError, TimeoutError)


class SlackWorkspaceDirectory:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def is_workspace_admin(self, *, team_id: str, user_id: str) -> bool:
        try:
            answer = await self._client.users_info(user=user_id)
        except SLACK_TROUBLE as exc:
            raise DirectoryUnavailable(_reason(exc)) from exc
        user = answer.get("user") or {}
        return not user.get("deleted") and any(
            bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner")
        )

    async def usergroup_members(self, *, team_id: str, usergroup: str) -> frozenset[str]:
        try:
            answer = await self._client.usergroups_users_list(usergroup=usergroup)
        except SLACK_TROUBLE as exc:
            raise DirectoryUnavailable(_reason(exc)) from exc
        return frozenset(str(user) for user in answer.get("users") or [])


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "error")
    return type(exc).__name__
