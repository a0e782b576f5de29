"""The live message: which stage a verification is at, and the facts its message shows.

One message per verification in the supervisors' channel, posted at the first send (or at
the close, when no code was ever sent) and updated in place through every stage:

    sending → sent → delivered | undelivered | failed → checking (n of N wrong)
            → verified | locked | expired → completed | incomplete | voided

Everything here is plain facts (masked destinations, never a code); commands/posts draws it.
"""

from __future__ import annotations

from enum import StrEnum

from bot.outbox import LiveReport
from bot.verification import Outcome, SendStatus, VerificationSnapshot, VerificationState
from bot.workspace import Policy


class LiveStage(StrEnum):
    AWAITING_SEND = "awaiting_send"  # closed before any code was sent
    SENDING = "sending"
    SENT = "sent"  # the provider took it
    UNCONFIRMED = "unconfirmed"  # the provider never answered; it may have gone out
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # the carrier or mailbox refused it after the provider took it
    FAILED = "failed"  # the provider refused it
    CHECKING = "checking"  # wrong codes typed, attempts left
    VERIFIED = "verified"
    LOCKED = "locked"
    EXPIRED = "expired"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    VOIDED = "voided"


def live_stage(snapshot: VerificationSnapshot) -> LiveStage:
    """The furthest stage the verification has reached."""
    if snapshot.outcome is not None:
        return LiveStage(Outcome(snapshot.outcome).value)
    if snapshot.state == VerificationState.VERIFIED:
        return LiveStage.VERIFIED
    if snapshot.state == VerificationState.LOCKED:
        return LiveStage.LOCKED
    send = snapshot.latest_send
    if send is None:
        return LiveStage.AWAITING_SEND
    if send.status == SendStatus.SENDING:
        return LiveStage.SENDING
    if send.status == SendStatus.FAILED:
        return LiveStage.FAILED
    if send.undelivered:
        return LiveStage.UNDELIVERED
    if snapshot.code_expired:
        return LiveStage.EXPIRED
    if snapshot.failed_checks:
        return LiveStage.CHECKING
    if send.delivery_status == "delivered":
        return LiveStage.DELIVERED
    if send.delivery_status == "unconfirmed":
        return LiveStage.UNCONFIRMED
    return LiveStage.SENT


def live_report(
    snapshot: VerificationSnapshot,
    *,
    channel: str,
    policy: Policy,
    voided_by: str | None = None,
) -> LiveReport:
    send = snapshot.latest_send
    ticket = snapshot.ticket
    delivery_note = None
    if send is not None and (send.status == SendStatus.FAILED or send.undelivered):
        delivery_note = send.delivery_error or send.error_message
    return LiveReport(
        channel=channel,
        team_id=snapshot.team_id,
        verification_id=snapshot.id,
        contact_name=snapshot.contact_name,
        company=snapshot.company,
        agent_user_id=snapshot.agent_user_id,
        stage=live_stage(snapshot).value,
        method=send.channel.value if send else None,
        masked_destination=send.masked_destination if send else None,
        delivery_note=(delivery_note or None) and delivery_note[:300],
        failed_checks=snapshot.failed_checks,
        max_attempts=snapshot.max_attempts,
        sends=snapshot.next_seq - 1,
        max_sends=policy.max_sends,
        ticket_number=ticket.number if ticket else None,
        ticket_url=ticket.url if ticket else None,
        destination_edited=snapshot.destination_edited,
        edit_reason=snapshot.edit_reason,
        check=snapshot.check_summary,
        verified=snapshot.state == VerificationState.VERIFIED,
        outcome=Outcome(snapshot.outcome).value if snapshot.outcome else None,
        voided_by=voided_by,
        opened_at=snapshot.created_at,
        code_sent_at=send.sent_at if send else None,
        verified_at=snapshot.verified_at,
        closed_at=snapshot.closed_at,
    )


def live_key(verification_id: str) -> str:
    """The live row's dedupe key, and the marker its Slack message carries."""
    return f"supervisor_live:{verification_id}"
