"""The supervisors' channel, drawn: a verification's live message and its thread's alerts.

Pure builders from payloads (plain facts: masked destinations, never a code). Everything a
person typed is escaped; the only mentions are the agent, the actor and, in alerts and
settings replies, the supervisors' user group (so they are notified).
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.outbox import AlertKind, LiveReport, SupervisorAlert
from bot.tickets import DESTINATION_NOT_ON_RECORD
from commands.blocks import escape, slack_time
from commands.ids import ActionId, ButtonLabel

_HEADLINES = {
    "awaiting_send": "📝 *Opened, no code sent*",
    "sending": "📤 *Sending a code*",
    "sent": "📨 *Code sent*",
    "unconfirmed": "❔ *Code sent, unconfirmed* (the provider never answered)",
    "delivered": "📬 *Code delivered*",
    "undelivered": "⚠️ *Code not delivered*",
    "failed": "⚠️ *Code not sent*",
    "checking": "🔢 *Checking the code*",
    "verified": "✅ *Verified*, not closed yet",
    "locked": "🔒 *Locked* after too many wrong codes",
    "expired": "⌛ *Code expired* unchecked",
    "incomplete": "❌ *Incomplete*",
}


def live_headline(report: LiveReport) -> str:
    if report.stage == "completed":
        return (
            "✅ *Completed* (code verified)"
            if report.verified
            else "⚠️ *Completed without a verified code*"
        )
    if report.stage == "voided":
        who = f" by <@{report.voided_by}>" if report.voided_by else ""
        return f"🚫 *Voided*{who}"
    return _HEADLINES.get(report.stage, f"*{escape(report.stage)}*")


def live_message(report: LiveReport) -> list[Block]:
    """One verification as the supervisors see it now."""
    contact = escape(report.contact_name)
    company = escape(report.company or "no company")
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=f"{live_headline(report)}: {contact} ({company})")
        ),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Agent*\n<@{report.agent_user_id}>"),
                MarkdownTextObject(text=f"*Method*\n{_method(report)}"),
                MarkdownTextObject(text=f"*Check*\n{escape(report.check)}"),
                MarkdownTextObject(
                    text=f"*Attempts*\n{report.failed_checks} of {report.max_attempts} wrong · "
                    f"{report.sends} of {report.max_sends} codes sent"
                ),
                MarkdownTextObject(text=f"*Ticket*\n{_ticket(report)}"),
                MarkdownTextObject(text=f"*Outcome*\n{_outcome(report)}"),
            ]
        ),
    ]
    if report.destination_edited:
        reason = escape(report.edit_reason or "none given")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*{DESTINATION_NOT_ON_RECORD}*. Reason: {reason}")
            )
        )
    if report.delivery_note:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Provider: {escape(report.delivery_note)}")]
            )
        )
    times = [
        f"{label} {slack_time(moment)}"
        for label, moment in (
            ("opened", report.opened_at),
            ("code sent", report.code_sent_at),
            ("verified", report.verified_at),
            ("closed", report.closed_at),
        )
        if moment is not None
    ]
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=" · ".join(times) + f" · ref `{report.verification_id[:8]}`"
                )
            ]
        )
    )
    if report.open:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=PlainTextObject(text=ButtonLabel.VOID),
                        action_id=ActionId.VOID_VERIFICATION,
                        value=report.verification_id,
                        style="danger",
                        confirm=ConfirmObject(
                            title="Void this verification?",
                            text="The agent's card stops working and its codes are voided. "
                            "You will be asked why; it is audited.",
                            confirm="Void",
                            deny="Cancel",
                        ),
                    )
                ]
            )
        )
    return blocks


def live_fallback_text(report: LiveReport) -> str:
    outcome = report.outcome or report.stage
    return f"Verification {outcome}: {escape(report.contact_name)} ({escape(report.check)})"


def _method(report: LiveReport) -> str:
    if report.method is None:
        return "no code sent"
    label = "SMS" if report.method == "sms" else "Email"
    return f"{label} to {escape(report.masked_destination or '')}"


def _ticket(report: LiveReport) -> str:
    if report.ticket_number is None:
        return "none"
    number = escape(report.ticket_number)
    if report.ticket_url and report.ticket_url.startswith(("https://", "http://")):
        url = report.ticket_url.replace("|", "%7C").replace(">", "%3E")
        return f"<{url}|#{number}>"
    return f"#{number}"


def _outcome(report: LiveReport) -> str:
    if report.outcome is None:
        return "open"
    return report.outcome.capitalize()


# --- alerts, as thread replies ------------------------------------------------------------


def alert_text(alert: SupervisorAlert, *, mention: str | None) -> str:
    """One risk event in words; the supervisors' group is mentioned so it notifies."""
    who = f"<!subteam^{mention}> " if mention else ""
    contact = f"{escape(alert.contact_name)} ({escape(alert.company or 'no company')})"
    agent = f"<@{alert.agent_user_id}>" if alert.agent_user_id else "the agent"
    reason = escape(alert.reason or "none given")
    where = escape(alert.masked_destination or "?")
    texts = {
        AlertKind.LOCKOUT: f"🔒 *Locked out*: {contact} after {alert.failed_checks} wrong "
        f"codes (agent {agent}). Do not verify this caller without a supervisor.",
        AlertKind.DESTINATION_NOT_ON_RECORD: f"⚠️ *{DESTINATION_NOT_ON_RECORD}*: {agent} sent "
        f"the code for {contact} to {where}, typed in instead of the record. Reason: {reason}",
        AlertKind.COMPLETED_WITHOUT_CODE: f"⚠️ *Completed without a verified code*: {agent} "
        f"marked {contact} Completed ({reason}).",
        AlertKind.DELIVERY_FAILED: f"📵 *Delivery failed*: the code for {contact} to {where} "
        f"did not arrive: {reason}",
        AlertKind.NOTE_FAILING: f"📝 *Ticket note failing* for {contact}: {reason}. PIN Verify "
        "keeps retrying; add the note by hand if the ticket must show it now.",
        AlertKind.REPEATED_FAILURES: f"🚨 *Repeated failures*: {alert.contact_failures} wrong "
        f"codes for {contact} across {alert.contact_verifications} verifications in 24 "
        f"hours (latest by {agent}). Possible vishing: check with the contact directly.",
        AlertKind.VOIDED: f"🚫 *Voided* by <@{alert.actor_user_id}>: {reason}",
    }
    return who + texts[alert.alert]


def thread_parent_text(purpose: str) -> str:
    if purpose == "settings":
        return (
            "⚙️ *PIN Verify settings changes*: every change an admin makes to settings or "
            "templates is a reply in this thread."
        )
    return f"PIN Verify: {escape(purpose)}"
