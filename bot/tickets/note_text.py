"""The text of ticket notes: pure functions of the facts, so every word is unit-tested.

Notes are internal (never shown to the end user) but live in the PSA for years: destinations
are masked, and the code appears only when the workspace's policy says `include`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DESTINATION_NOT_ON_RECORD = "⚠ sent to a destination not on record"

# Channel and assurance in every note (security-checklist §0): a reviewer reading the ticket
# must see that email is weaker than SMS, and that neither proves identity.
ASSURANCE = {
    "SMS": "proves control of the phone on record",
    "email": "proves control of the mailbox on record (weaker than SMS)",
}


@dataclass(frozen=True)
class SendNoteFacts:
    method: str  # "SMS" | "email"
    masked_destination: str
    agent: str
    code: str | None  # None when the policy omits codes from notes
    seq: int
    sent_at: datetime
    verification_ref: str
    # Sent to a destination the agent typed in (issue 5's edits), with the agent's reason.
    destination_edited: bool = False
    edit_reason: str | None = None


@dataclass(frozen=True)
class CloseNoteFacts:
    outcome: str  # "completed" | "incomplete"
    check: str  # e.g. "code verified", "locked after 5 wrong codes"
    verified: bool
    failed_checks: int
    max_attempts: int
    codes_sent: int
    agent: str
    method: str | None  # None when no code was sent
    masked_destination: str | None
    destination_edited: bool
    opened_at: datetime
    code_sent_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime
    verification_ref: str
    edit_reason: str | None = None


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def send_note(facts: SendNoteFacts) -> str:
    """On each successful send: "PIN sent by <method> to <masked destination> by <agent>"."""
    lines = [f"PIN sent by {facts.method} to {facts.masked_destination} by {facts.agent}."]
    if facts.destination_edited:
        lines.append(edit_line(facts.edit_reason))
    if facts.code is not None:
        lines.append(f"Code: {facts.code}")
    else:
        lines.append("Code: not recorded (policy: codes are omitted from ticket notes)")
    lines.append(f"Code #{facts.seq}, sent {utc(facts.sent_at)}.")
    lines.append(f"PIN Verify verification {facts.verification_ref}.")
    return "\n".join(lines)


def close_note(facts: CloseNoteFacts) -> str:
    """On Completed / Incomplete: outcome, check, attempts, agent, method, edit flag, times."""
    outcome = facts.outcome.capitalize()
    lines = [f"PIN verification {outcome}: {facts.check}."]
    if facts.outcome == "completed" and not facts.verified:
        lines.append(
            "Warning: completed WITHOUT a verified code; the agent vouched for the caller."
        )
    lines.extend(
        [
            f"Outcome: {outcome}",
            f"Check result: {facts.check}",
            f"Attempts: {facts.failed_checks} wrong of {facts.max_attempts} allowed; "
            f"{facts.codes_sent} send{'s' if facts.codes_sent != 1 else ''}",
            f"Agent: {facts.agent}",
        ]
    )
    if facts.method and facts.masked_destination:
        assurance = ASSURANCE.get(facts.method, "")
        lines.append(
            f"Method: {facts.method} to {facts.masked_destination}"
            + (f" ({assurance})" if assurance else "")
        )
    else:
        lines.append("Method: no code sent")
    if facts.destination_edited:
        lines.append(f"Destination edited: YES, {edit_line(facts.edit_reason)}")
    else:
        lines.append("Destination edited: no")
    times = [f"opened {utc(facts.opened_at)}"]
    if facts.code_sent_at:
        times.append(f"code sent {utc(facts.code_sent_at)}")
    if facts.verified_at:
        times.append(f"verified {utc(facts.verified_at)}")
    times.append(f"closed {utc(facts.closed_at)}")
    lines.append("Times: " + "; ".join(times))
    lines.append(f"PIN Verify verification {facts.verification_ref}.")
    return "\n".join(lines)


def edit_line(reason: str | None) -> str:
    return f"{DESTINATION_NOT_ON_RECORD} (reason: {reason or 'none given'})"
