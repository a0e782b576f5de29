"""Assembles a verification's snapshot (what cards and reports show) from its stored rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import Channel
from bot.masking import mask_destination, mask_email, mask_phone
from bot.tickets import ticket_snapshot
from bot.verification.destinations import destination_edited
from bot.verification.history import contact_history
from bot.verification.snapshots import SendSnapshot, VerificationSnapshot
from bot.verification.states import Outcome, SendStatus, VerificationState
from bot.workspace import Policy
from storage import repositories as repo
from storage.models import Verification


async def build_snapshot(
    session: AsyncSession,
    *,
    verification: Verification,
    policy: Policy,
    now: datetime,
    tickets_enabled: bool,
    with_history: bool = True,
) -> VerificationSnapshot:
    """`with_history`: the contact's recent history too (the card shows it; reports do not)."""
    latest = await repo.latest_code_send(session=session, verification_id=verification.id)
    send_view = None
    expired = False
    if latest is not None:
        channel = Channel(latest.channel)
        send_view = SendSnapshot(
            seq=latest.seq,
            channel=channel,
            masked_destination=mask_destination(latest.channel, latest.destination),
            status=SendStatus(latest.status),
            provider=latest.provider,
            created_at=latest.created_at,
            sent_at=latest.sent_at,
            expires_at=latest.expires_at,
            error_message=latest.error_message,
            delivery_status=latest.delivery_status,
            delivery_error=latest.delivery_error,
        )
        expired = latest.status == SendStatus.EXPIRED or (
            latest.status == SendStatus.SENT and now >= latest.expires_at
        )
    return VerificationSnapshot(
        id=verification.id,
        team_id=verification.team_id,
        agent_user_id=verification.agent_user_id,
        agent_name=verification.agent_name,
        contact_name=verification.contact_name,
        company=verification.company,
        masked_phone=mask_phone(verification.phone_e164) if verification.phone_e164 else None,
        masked_email=mask_email(verification.email) if verification.email else None,
        state=VerificationState(verification.state),
        last_check=verification.last_check,
        failed_checks=verification.failed_checks,
        max_attempts=verification.max_attempts,
        sends_left=max(policy.max_sends - verification.sends_count, 0),
        next_seq=verification.sends_count + 1,
        outcome=Outcome(verification.outcome) if verification.outcome else None,
        created_at=verification.created_at,
        verified_at=verification.verified_at,
        closed_at=verification.closed_at,
        card_channel=verification.card_channel,
        card_ts=verification.card_ts,
        latest_send=send_view,
        code_expired=expired,
        contact_active=verification.contact_active,
        ticket=await ticket_snapshot(session=session, verification=verification),
        tickets_enabled=tickets_enabled,
        require_ticket=policy.require_ticket,
        # Once a code went out, the flag follows the channel it went by: an edited email
        # does not taint a verification done by SMS to the number on record.
        destination_edited=destination_edited(
            verification, latest.channel if latest is not None else None
        ),
        edit_reason=verification.edit_reason,
        phone_edited=verification.phone_edited,
        email_edited=verification.email_edited,
        edits_allowed=policy.allow_destination_edits,
        history=None
        if verification.outcome is not None or not with_history
        else await contact_history(
            session, verification=verification, failure_cap=policy.contact_failure_cap, now=now
        ),
    )
