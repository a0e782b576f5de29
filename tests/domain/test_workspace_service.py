"""App Home reads through the workspace service: an agent's own verifications, per workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.settings import load_settings
from bot.workspace.policy import Policy
from bot.workspace.roles import Role, Roles
from bot.workspace.service import RECENT_LIMIT, WorkspaceService
from storage.db import Database
from storage.models import Verification

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _service(db: Database) -> WorkspaceService:
    settings = load_settings({})
    clock = ManualClock()
    return WorkspaceService(
        db=db,
        clock=clock,
        roles=Roles(directory=None, settings=settings, db=db, clock=clock),
        defaults=Policy.from_settings(settings),
        sms_providers=("console",),
        email_providers=("console",),
        tickets_supported=False,
    )


def _verification(number: int, team_id: str, agent: str, at: datetime) -> Verification:
    return Verification(
        id=f"v{team_id}{agent}{number:03d}",
        team_id=team_id,
        agent_user_id=agent,
        agent_name="Alice",
        contact_ref=f"c{team_id}{number}",
        contact_name=f"Caller {team_id} {number}",
        company="Acme",
        max_attempts=5,
        created_at=at,
    )


async def test_an_agent_in_two_workspaces_sees_a_full_list_in_each(db: Database) -> None:
    # Ten older verifications in T1, then ten newer ones in T2, by the same Slack user (an
    # Enterprise Grid user works in several workspaces): filtering by workspace after the
    # LIMIT used to leave T1's Home empty.
    async with db.transaction() as session:
        for number in range(RECENT_LIMIT):
            moment = START + timedelta(minutes=number)
            session.add(_verification(number, "T1", "UALICE", moment))
            session.add(_verification(number, "T2", "UALICE", moment + timedelta(days=1)))
            session.add(_verification(number, "T1", "UBOB", moment + timedelta(days=2)))
    service = _service(db)
    for team in ("T1", "T2"):
        home = await service.home(team_id=team, user_id="UALICE")
        assert home.role is Role.AGENT and home.policy is None
        assert len(home.recent) == RECENT_LIMIT
        assert {item.contact_name.split()[1] for item in home.recent} == {team}
    newest_first = [
        item.created_at for item in (await service.home(team_id="T1", user_id="UALICE")).recent
    ]
    assert newest_first == sorted(newest_first, reverse=True)
