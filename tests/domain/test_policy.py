from __future__ import annotations

from datetime import UTC, datetime

from bot.settings import load_settings
from bot.workspace.policy import Policy, load_policy
from storage.db import Database
from storage.models import WorkspacePolicy


async def test_saved_workspace_choices_override_environment_defaults(db: Database) -> None:
    defaults = Policy.from_settings(load_settings({"PINVERIFY_DEFAULT_REGION": "GB"}))
    async with db.transaction() as session:
        assert await load_policy(session=session, team_id="T0TEAM", defaults=defaults) == defaults
        session.add(
            WorkspacePolicy(
                team_id="T0TEAM",
                code_length=8,
                require_ticket=True,
                code_in_ticket_note="omit",
                allow_destination_edits=False,
                sms_allowed_countries="GB,IE",
                updated_at=datetime.now(UTC),
            )
        )
    async with db.transaction() as session:
        policy = await load_policy(session=session, team_id="T0TEAM", defaults=defaults)
    assert policy.code_length == 8
    assert policy.require_ticket is True
    assert policy.code_in_ticket_note == "omit"
    assert policy.allow_destination_edits is False
    assert policy.sms_allowed_countries == ("GB", "IE")
    # Columns left NULL keep the environment's defaults.
    assert policy.code_ttl_seconds == defaults.code_ttl_seconds
    assert policy.show_code_to_agent is False
    assert policy.sms_provider == "console"
