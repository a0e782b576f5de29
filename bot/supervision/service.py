"""What supervisors ask for from Slack: their figures (App Home) and voiding a verification
from its live message. Every request's role is checked here, on the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.errors import SettingsInvalid
from bot.supervision.figures import (
    WINDOWS,
    OpenVerification,
    SupervisorFigures,
    figures_from,
)
from bot.verification import VerificationService, VerificationSnapshot
from bot.workspace import Roles
from storage import repositories as repo
from storage.db import Database

OPEN_SHOWN = 10
MAX_VOID_REASON = 300


@dataclass(frozen=True)
class Voided:
    snapshot: VerificationSnapshot
    already_closed: bool


class SupervisionService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        roles: Roles,
        verifications: VerificationService,
        timezone: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._roles = roles
        self._verifications = verifications
        self._timezone = timezone

    async def is_supervisor(self, *, team_id: str, user_id: str) -> bool:
        return await self._roles.is_supervisor(team_id=team_id, user_id=user_id)

    async def figures(self, *, team_id: str, user_id: str, window: str) -> SupervisorFigures:
        """The supervisors' Home figures (raises NotAllowed for anyone else)."""
        await self._roles.require_supervisor(
            team_id=team_id, user_id=user_id, action="supervisor figures"
        )
        chosen = window if window in WINDOWS else "7 days"
        now = self._clock.now()
        async with self._db.transaction() as session:
            rows = await repo.figure_rows(
                session=session,
                team_id=team_id,
                since=now - timedelta(days=31),
                until=now + timedelta(seconds=1),
            )
            open_rows = await repo.open_verifications(
                session=session, team_id=team_id, limit=OPEN_SHOWN
            )
            open_count = await repo.count_open_verifications(session=session, team_id=team_id)
        totals, by_agent, by_company = figures_from(
            rows, now=now, timezone=self._timezone, window=chosen
        )
        return SupervisorFigures(
            window=chosen,
            totals=totals,
            by_agent=by_agent,
            by_company=by_company,
            open_now=[
                OpenVerification(
                    verification_id=row.id,
                    agent_user_id=row.agent_user_id,
                    contact_name=row.contact_name,
                    company=row.company,
                    state=row.state,
                    failed_checks=row.failed_checks,
                    created_at=row.created_at,
                )
                for row in open_rows
            ],
            open_count=open_count,
        )

    async def void(
        self, *, team_id: str, user_id: str, verification_id: str, reason: str | None
    ) -> Voided:
        """A supervisor voids an open verification; the reason is required and audited."""
        await self._roles.require_supervisor(
            team_id=team_id, user_id=user_id, action="void verification"
        )
        text = " ".join((reason or "").split())
        if not text:
            raise SettingsInvalid({"reason": "Say why you void it (the agent and the log see it)."})
        if len(text) > MAX_VOID_REASON:
            raise SettingsInvalid({"reason": f"At most {MAX_VOID_REASON} characters."})
        closed = await self._verifications.void(
            team_id=team_id, verification_id=verification_id, actor_user_id=user_id, reason=text
        )
        return Voided(snapshot=closed.snapshot, already_closed=closed.already_closed)
