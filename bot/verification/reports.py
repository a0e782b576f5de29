"""What a verification reports outward: the ticket notes' facts and the supervisors' report.

Built here, where the verification's rules live (which destination counts as edited, what the
check came to); the tickets feature turns facts into note text and the outbox carries the
report. Destinations are masked; the code appears only in a send note, and only when the
workspace's policy says `include`.
"""

from __future__ import annotations

from datetime import datetime

from bot.delivery import Channel
from bot.masking import mask_destination
from bot.outbox import SupervisorReport
from bot.tickets import CloseNoteFacts, SendNoteFacts
from bot.verification.destinations import destination_edited
from bot.verification.snapshots import VerificationSnapshot
from bot.verification.states import Outcome, VerificationState
from bot.workspace import Policy
from storage.models import CodeSend, Verification


def agent_label(verification: Verification) -> str:
    return verification.agent_name or verification.agent_user_id


def send_note_facts(
    verification: Verification, send: CodeSend, *, code: str, policy: Policy, at: datetime
) -> SendNoteFacts:
    return SendNoteFacts(
        method=Channel(send.channel).label,
        masked_destination=mask_destination(send.channel, send.destination),
        agent=agent_label(verification),
        code=code if policy.code_in_ticket_note == "include" else None,
        seq=send.seq,
        sent_at=at,
        verification_ref=verification.id[:8],
        destination_edited=destination_edited(verification, send.channel),
        edit_reason=verification.edit_reason,
    )


def close_note_facts(
    verification: Verification, snapshot: VerificationSnapshot, *, closed_at: datetime
) -> CloseNoteFacts:
    send = snapshot.latest_send
    return CloseNoteFacts(
        outcome=str(snapshot.outcome),
        check=snapshot.check_summary,
        verified=snapshot.state == VerificationState.VERIFIED,
        failed_checks=snapshot.failed_checks,
        max_attempts=snapshot.max_attempts,
        codes_sent=verification.sends_count,
        agent=agent_label(verification),
        method=send.channel.label if send else None,
        masked_destination=send.masked_destination if send else None,
        destination_edited=destination_edited(verification, send.channel if send else None),
        edit_reason=verification.edit_reason,
        opened_at=snapshot.created_at,
        code_sent_at=send.sent_at if send else None,
        verified_at=snapshot.verified_at,
        closed_at=snapshot.closed_at or closed_at,
        verification_ref=verification.id[:8],
    )


def supervisor_report(snapshot: VerificationSnapshot, *, channel: str) -> SupervisorReport:
    """The frozen facts of a closed verification, as the supervisors' post will show them."""
    assert snapshot.outcome is not None, "only a closed verification is reported"
    send = snapshot.latest_send
    return SupervisorReport(
        channel=channel,
        verification_id=snapshot.id,
        contact_name=snapshot.contact_name,
        company=snapshot.company,
        agent_user_id=snapshot.agent_user_id,
        method=send.channel.value if send else None,
        masked_destination=send.masked_destination if send else None,
        check=snapshot.check_summary,
        verified=snapshot.state == VerificationState.VERIFIED,
        failed_checks=snapshot.failed_checks,
        outcome=Outcome(snapshot.outcome).value,
        opened_at=snapshot.created_at,
        code_sent_at=send.sent_at if send else None,
        verified_at=snapshot.verified_at,
        closed_at=snapshot.closed_at,
        destination_edited=snapshot.destination_edited,
        edit_reason=snapshot.edit_reason,
    )
