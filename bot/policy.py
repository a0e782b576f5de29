"""The rules a workspace verifies under: environment defaults, overridden per workspace."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage import repositories as repo


@dataclass(frozen=True)
class Policy:
    code_length: int
    code_ttl_seconds: int
    max_attempts: int
    max_sends: int
    contact_failure_cap: int
    supervisor_channel: str | None
    destination_sends_per_hour: int
    agent_sends_per_hour: int
    workspace_sends_per_hour: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            code_length=settings.pinverify_code_length,
            code_ttl_seconds=settings.pinverify_code_ttl_seconds,
            max_attempts=settings.pinverify_max_attempts,
            max_sends=settings.pinverify_max_sends,
            contact_failure_cap=settings.pinverify_contact_failure_cap,
            supervisor_channel=settings.pinverify_supervisor_channel,
            destination_sends_per_hour=settings.pinverify_destination_sends_per_hour,
            agent_sends_per_hour=settings.pinverify_agent_sends_per_hour,
            workspace_sends_per_hour=settings.pinverify_workspace_sends_per_hour,
        )


async def load_policy(*, session: AsyncSession, team_id: str, defaults: Policy) -> Policy:
    """The workspace's saved choices where it made them, the defaults elsewhere."""
    saved = await repo.get_workspace_policy(session=session, team_id=team_id)
    if saved is None:
        return defaults
    return replace(
        defaults,
        code_length=saved.code_length or defaults.code_length,
        code_ttl_seconds=saved.code_ttl_seconds or defaults.code_ttl_seconds,
        max_attempts=saved.max_attempts or defaults.max_attempts,
        supervisor_channel=saved.supervisor_channel or defaults.supervisor_channel,
    )
