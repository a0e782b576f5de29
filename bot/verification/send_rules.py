"""Why a code cannot be sent now: the rules checked before a send is reserved.

Each check raises `VerificationRefused` with the message the agent sees; they run inside the
reserving transaction, with the verification row locked.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Channel, sms_refusal
from bot.errors import RefusalCode, VerificationRefused
from bot.tickets import require_ticket
from bot.verification.states import VerificationState
from bot.workspace import Policy
from storage import repositories as repo
from storage.models import Verification

log = logging.getLogger(__name__)

CONTACT_FAILURE_WINDOW = timedelta(hours=24)
SEND_BUDGET_WINDOW = timedelta(hours=1)


async def require_sendable(
    session: AsyncSession,
    *,
    verification: Verification,
    channel: Channel,
    policy: Policy,
    now: datetime,
    tickets_enabled: bool,
    default_region: str,
) -> str:
    """Refuse a send this verification, contact or destination does not allow; returns the
    destination on record for `channel`."""
    require_active_contact(verification)
    require_ticket(verification, policy, tickets_enabled=tickets_enabled)
    if verification.state == VerificationState.LOCKED:
        raise VerificationRefused(
            "This verification is locked after too many wrong codes; no more codes can "
            "be sent. Mark it Incomplete and escalate.",
            code=RefusalCode.LOCKED,
        )
    if verification.state == VerificationState.VERIFIED:
        raise VerificationRefused(
            "The caller is already verified; mark the verification Completed.",
            code=RefusalCode.VERIFIED,
        )
    if verification.sends_count >= policy.max_sends:
        raise VerificationRefused(
            f"Send limit reached ({policy.max_sends} codes for one verification). "
            "Mark it Incomplete and start again if you must.",
            code=RefusalCode.SEND_BUDGET,
        )
    failures = await repo.recent_failures_for_contact(
        session=session,
        contact_ref=verification.contact_ref,
        since=now - CONTACT_FAILURE_WINDOW,
    )
    if failures >= policy.contact_failure_cap:
        raise VerificationRefused(
            f"{failures} wrong codes for this contact in the last 24 hours: sending is "
            "paused for them. Ask a supervisor.",
            code=RefusalCode.CONTACT_CAP,
        )
    destination = verification.phone_e164 if channel is Channel.SMS else verification.email
    if not destination:
        other = "email" if channel is Channel.SMS else "SMS"
        raise VerificationRefused(
            f"The contact has no {channel.label} destination on record; try {other}.",
            code=RefusalCode.NO_DESTINATION,
        )
    if channel is Channel.SMS:
        refusal = sms_refusal(
            destination,
            default_region=default_region,
            allowed_regions=policy.sms_allowed_countries,
        )
        if refusal is not None:
            raise VerificationRefused(refusal, code=RefusalCode.SMS_NOT_ALLOWED)
    return destination


async def require_send_budget(
    session: AsyncSession,
    *,
    verification: Verification,
    actor: str,
    destination: str,
    policy: Policy,
    now: datetime,
) -> None:
    """Rolling-hour caps per destination, agent and workspace: a stolen Slack session or
    a script cannot pump SMS through us, and one caller cannot be flooded."""
    since = now - SEND_BUDGET_WINDOW
    budgets = (
        ({"destination": destination}, policy.destination_sends_per_hour, "this destination"),
        ({"agent_user_id": actor}, policy.agent_sends_per_hour, "you"),
        ({"team_id": verification.team_id}, policy.workspace_sends_per_hour, "this workspace"),
    )
    for scope, limit, who in budgets:
        sent = await repo.count_recent_sends(session=session, since=since, **scope)
        if sent >= limit:
            log.warning("send budget reached", extra={"scope": next(iter(scope))})
            raise VerificationRefused(
                f"Send limit reached: {sent} codes to {who} in the last hour (limit "
                f"{limit}). Wait, or ask a supervisor.",
                code=RefusalCode.SEND_BUDGET,
            )


def require_active_contact(verification: Verification) -> None:
    if not verification.contact_active:
        raise VerificationRefused(
            f"{verification.contact_name} is marked inactive in the PSA: codes cannot be sent "
            "to inactive contacts. Check that you have the right person, or ask an admin to "
            "reactivate the contact.",
            code=RefusalCode.INACTIVE_CONTACT,
        )
