"""Reserving a send, in the transaction that holds the verification row: every rule that can
refuse it, the code and its HMAC, the message in the workspace's templates, the audit row.

The reserved row ("sending", unique per verification and send number) is what makes a double
click or a Slack retry find the first send instead of making a second. The provider is called
only after this transaction commits, so a slow gateway holds no lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind, send_detail
from bot.delivery import Channel, Providers
from bot.errors import RefusalCode, VerificationRefused
from bot.templates import (
    MessageContext,
    MessageRenderer,
    MessageTemplates,
    load_templates,
    render_outgoing,
)
from bot.verification.codes import generate_code, hash_code
from bot.verification.send_records import edited_destination_detail
from bot.verification.send_rules import require_send_budget, require_sendable
from bot.workspace import Policy
from providers.email import EmailMessage
from providers.sms import SmsMessage
from storage import repositories as repo
from storage.models import CodeSend, Verification


@dataclass(frozen=True)
class SendingKit:
    """What reserving a send needs from the composition root."""

    providers: Providers
    renderer: MessageRenderer
    templates: MessageTemplates  # the shipped defaults; a workspace's own override them
    secret_key: bytes
    organisation: str
    tickets_enabled: bool
    default_region: str


@dataclass(frozen=True)
class Reservation:
    send: CodeSend
    code: str  # kept in memory only, for the provider call (and the agent, if policy allows)
    outgoing: SmsMessage | EmailMessage
    show_code: bool


async def reserve_send(
    session: AsyncSession,
    *,
    verification: Verification,
    policy: Policy,
    actor: str,
    channel: Channel,
    seq: int,
    kit: SendingKit,
    now: datetime,
) -> Reservation:
    """Raises VerificationRefused when any rule refuses; the caller has checked ownership."""
    if seq != verification.sends_count + 1:
        raise VerificationRefused(
            "This card is out of date: use the buttons on the latest card.",
            code=RefusalCode.STALE,
        )
    destination = await require_sendable(
        session,
        verification=verification,
        channel=channel,
        policy=policy,
        now=now,
        tickets_enabled=kit.tickets_enabled,
        default_region=kit.default_region,
    )
    provider = kit.providers.name_for(channel, sms=policy.sms_provider, email=policy.email_provider)
    await require_send_budget(
        session,
        verification=verification,
        actor=actor,
        destination=destination,
        policy=policy,
        now=now,
    )
    code = generate_code(policy.code_length)
    send = CodeSend(
        verification_id=verification.id,
        seq=seq,
        channel=channel.value,
        code_length=policy.code_length,
        destination=destination,
        code_hash=hash_code(
            key=kit.secret_key, verification_id=verification.id, seq=seq, code=code
        ),
        provider=provider,
        created_at=now,
        expires_at=now + timedelta(seconds=policy.code_ttl_seconds),
    )
    session.add(send)
    verification.sends_count = seq
    context = MessageContext(
        code=code,
        contact_name=verification.contact_name,
        company=verification.company,
        agent_name=verification.agent_name,
        organisation=kit.organisation,
        expiry_minutes=max(policy.code_ttl_seconds // 60, 1),
    )
    # The workspace's own templates, as saved when this send was reserved.
    templates = await load_templates(
        session=session, team_id=verification.team_id, defaults=kit.templates
    )
    outgoing, rendering = render_outgoing(kit.renderer, templates, send, context)
    repo.append_audit_event(
        session=session,
        team_id=verification.team_id,
        verification_id=verification.id,
        actor_user_id=actor,
        kind=AuditKind.CODE_SEND_REQUESTED,
        at=now,
        detail=send_detail(send, **rendering, **edited_destination_detail(verification, channel)),
    )
    await session.flush()
    return Reservation(send=send, code=code, outgoing=outgoing, show_code=policy.show_code_to_agent)
