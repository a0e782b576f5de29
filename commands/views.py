"""Pure Block Kit builders: data in, slack_sdk blocks out, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.delivery import provider_label
from bot.masking import mask_email, mask_phone
from bot.snapshots import DESTINATION_NOT_ON_RECORD, Channel, SendSnapshot, VerificationSnapshot
from commands.ids import ActionId, BlockId, ButtonLabel, CallbackId
from providers.crm import ContactRecord

MAX_PICKS = 10


def escape(text: str) -> str:
    """Escape Slack's control characters so user text cannot become `<!channel>` or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_time(moment: datetime) -> str:
    """A time Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = moment.strftime("%H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{time}}|{fallback}>"


def as_dicts(blocks: Sequence[Block]) -> list[dict[str, object]]:
    return [block.to_dict() for block in blocks]


@dataclass(frozen=True)
class CardButton:
    """What a card button carries: an opaque id and the send number the card was drawn at."""

    verification_id: str
    seq: int
    channel: Channel | None = None

    def encode(self) -> str:
        return f"{self.verification_id}|{self.seq}|{self.channel.value if self.channel else ''}"


# --- the verification card ---------------------------------------------------------------------


def verification_card(snapshot: VerificationSnapshot, *, notice: str | None = None) -> list[Block]:
    """The agent's card for one verification, in whatever state it is."""
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Verify caller: {snapshot.contact_name}"[:150])),
        SectionBlock(fields=_contact_fields(snapshot)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Opened by <@{snapshot.agent_user_id}> at "
                    f"{slack_time(snapshot.created_at)} · ref `{snapshot.id[:8]}`"
                )
            ]
        ),
    ]
    if snapshot.destination_edited:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=edited_destination_text(snapshot))])
        )
    blocks.append(DividerBlock())
    blocks.extend(_ticket_blocks(snapshot))
    blocks.extend(_state_blocks(snapshot))
    blocks.extend(_edit_menu(snapshot))
    if notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(notice))]))
    return blocks


MOVED_TEXT = "This verification continues in the newer card below."


def moved_card() -> list[Block]:
    """What an old card becomes when the same verification is reopened further down."""
    return [ContextBlock(elements=[MarkdownTextObject(text=f"↓ {MOVED_TEXT}")])]


def card_fallback_text(snapshot: VerificationSnapshot) -> str:
    # The fallback text is mrkdwn in notifications: a name must not become a mention.
    return f"Verify caller {escape(snapshot.contact_name)}: {_status_text(snapshot)}"


def edited_destination_text(snapshot: VerificationSnapshot) -> str:
    edited = " and ".join(
        name
        for name, flag in (("phone", snapshot.phone_edited), ("email", snapshot.email_edited))
        if flag
    )
    reason = escape(snapshot.edit_reason) if snapshot.edit_reason else "none given"
    return f"*{DESTINATION_NOT_ON_RECORD}*: {edited} typed in by the agent. Reason: {reason}"


def _contact_fields(snapshot: VerificationSnapshot) -> list[MarkdownTextObject]:
    phone = snapshot.masked_phone or "none on record"
    email = snapshot.masked_email or "none on record"
    return [
        MarkdownTextObject(text=f"*Company*\n{escape(snapshot.company) or '—'}"),
        MarkdownTextObject(text=f"*Status*\n{_status_text(snapshot)}"),
        MarkdownTextObject(text=f"*Phone*\n{phone}{' ⚠ edited' if snapshot.phone_edited else ''}"),
        MarkdownTextObject(text=f"*Email*\n{email}{' ⚠ edited' if snapshot.email_edited else ''}"),
    ]


def _status_text(snapshot: VerificationSnapshot) -> str:
    if snapshot.closed:
        return f"Closed: {str(snapshot.outcome).capitalize()} ({snapshot.check_summary})"
    if not snapshot.contact_active:
        return "⛔ Inactive contact"
    if snapshot.state == "verified":
        return "✅ Verified"
    if snapshot.state == "locked":
        return "🔒 Locked"
    send = snapshot.latest_send
    if send is None:
        return "Ready to send a code"
    if send.status == "sending":
        return f"Sending {send.channel.label}…"
    if send.status == "failed":
        return f"⚠️ {send.channel.label} not sent"
    if send.undelivered:
        return f"⚠️ {send.channel.label} not delivered"
    if snapshot.code_expired:
        return "⌛ Code expired"
    return "⏳ Waiting for the caller's code"


def _state_blocks(snapshot: VerificationSnapshot) -> list[Block]:
    if snapshot.closed:
        assert snapshot.closed_at is not None
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Closed as {str(snapshot.outcome).capitalize()}* at "
                    f"{slack_time(snapshot.closed_at)}: {snapshot.check_summary}."
                )
            )
        ]
    if snapshot.state == "verified":
        assert snapshot.verified_at is not None
        return [
            _send_summary(snapshot),
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"✅ *Code verified* at {slack_time(snapshot.verified_at)}. "
                    "Mark the verification Completed to record it."
                )
            ),
            _actions(snapshot, [_completed(snapshot), _incomplete(snapshot)]),
        ]
    if not snapshot.contact_active and snapshot.latest_send is None:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text="⛔ *This contact is inactive* in the PSA: codes cannot be sent to them. "
                    "Check you have the right person; mark the verification Incomplete."
                )
            ),
            _actions(snapshot, [_incomplete(snapshot, primary=True)]),
        ]
    if snapshot.state == "locked":
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"🔒 *Locked* after {snapshot.failed_checks} wrong codes. "
                    "Do not verify this caller; no more codes can be sent."
                )
            ),
            _actions(snapshot, [_incomplete(snapshot, primary=True), _completed(snapshot)]),
        ]
    send = snapshot.latest_send
    if send is None:
        return [_actions(snapshot, _send_buttons(snapshot))]
    if send.status == "failed":
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"⚠️ *Could not send the {send.channel.label}* to "
                    f"{send.masked_destination}: {escape(send.error_message or 'unknown error')}"
                )
            ),
            _actions(snapshot, [*_send_buttons(snapshot), _incomplete(snapshot)]),
        ]
    if send.status == "sending":
        return [
            _send_summary(snapshot),
            _actions(snapshot, [_completed(snapshot), _incomplete(snapshot)]),
        ]
    if send.undelivered:
        reason = send.delivery_error or "the provider gave no reason"
        return [
            _send_summary(snapshot),
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"⚠️ *{provider_label(send.provider)} could not deliver the "
                    f"{send.channel.label}* to {send.masked_destination}: {escape(reason)}."
                )
            ),
            _actions(
                snapshot,
                [*_instead(snapshot, send), *_resend(snapshot)[:1], _incomplete(snapshot)],
            ),
        ]
    if snapshot.code_expired:
        return [
            _send_summary(snapshot),
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"⌛ The code expired at {slack_time(send.expires_at)}. "
                    "Press Resend to send a new one."
                )
            ),
            _actions(snapshot, [*_resend(snapshot), _completed(snapshot), _incomplete(snapshot)]),
        ]
    return [
        _send_summary(snapshot),
        InputBlock(
            block_id=f"{BlockId.CODE_ENTRY_PREFIX}:{send.seq}:{snapshot.failed_checks}",
            label=PlainTextObject(text="Code the caller reads back"),
            element=PlainTextInputElement(
                action_id=ActionId.CODE_INPUT,
                placeholder=PlainTextObject(text="e.g. 482913"),
                max_length=32,
            ),
            optional=True,
        ),
        _actions(
            snapshot,
            [
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.CHECK_CODE),
                    action_id=ActionId.CHECK_CODE,
                    value=CardButton(snapshot.id, snapshot.next_seq).encode(),
                    style="primary",
                ),
                *_resend(snapshot),
                _completed(snapshot),
                _incomplete(snapshot),
            ],
        ),
    ]


def _ticket_blocks(snapshot: VerificationSnapshot) -> list[Block]:
    """The tagged ticket and its note status; Tag ticket / Create ticket while open."""
    blocks: list[Block] = []
    ticket = snapshot.ticket
    if ticket is not None:
        number = f"#{escape(ticket.number)}"
        url = (ticket.url or "").replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
        shown = f"<{url}|{number}>" if url.startswith(("https://", "http://")) else number
        line = f"🎫 *Ticket* {shown}: {escape(ticket.summary) or 'no summary'}"
        if ticket.note_status:
            line += f"\nTicket note: {escape(ticket.note_status)}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line[:3000])]))
    elif snapshot.require_ticket and not snapshot.closed:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="🎫 *A ticket is required* before sending a code: tag the caller's "
                        "ticket by number or create one."
                    )
                ]
            )
        )
    if snapshot.tickets_enabled and not snapshot.closed:
        tagged = ticket.number if ticket else ""
        blocks.append(
            InputBlock(
                block_id=f"{BlockId.TICKET_ENTRY_PREFIX}:{snapshot.next_seq}:{tagged}"[:255],
                label=PlainTextObject(text="Ticket number"),
                element=PlainTextInputElement(
                    action_id=ActionId.TICKET_INPUT,
                    placeholder=PlainTextObject(text="e.g. 12345"),
                    max_length=40,
                ),
                optional=True,
            )
        )
        value = CardButton(snapshot.id, snapshot.next_seq).encode()
        blocks.append(
            ActionsBlock(
                block_id=f"{BlockId.TICKET_ACTIONS}:{snapshot.next_seq}",
                elements=[
                    ButtonElement(
                        text=PlainTextObject(text=ButtonLabel.TAG_TICKET),
                        action_id=ActionId.TAG_TICKET,
                        value=value,
                    ),
                    ButtonElement(
                        text=PlainTextObject(text=ButtonLabel.CREATE_TICKET),
                        action_id=ActionId.CREATE_TICKET,
                        value=value,
                    ),
                ],
            )
        )
    return blocks


def create_ticket_modal(snapshot: VerificationSnapshot, *, psa_label: str) -> View:
    """Create ticket: one summary input; the verification id rides in private_metadata."""
    return View(
        type="modal",
        callback_id=CallbackId.CREATE_TICKET,
        private_metadata=snapshot.id,
        title=PlainTextObject(text="Create ticket"),
        submit=PlainTextObject(text="Create"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"A new ticket in {escape(psa_label)} for "
                    f"*{escape(snapshot.contact_name)}* "
                    f"({escape(snapshot.company) or 'no company'}), tagged on this verification."
                )
            ),
            InputBlock(
                block_id=BlockId.TICKET_SUMMARY,
                label=PlainTextObject(text="Summary"),
                element=PlainTextInputElement(
                    action_id=ActionId.TICKET_SUMMARY_INPUT,
                    placeholder=PlainTextObject(text="e.g. Password reset request"),
                    max_length=200,
                ),
            ),
        ],
    )


def note_failing_text(report: Mapping[str, object]) -> str:
    """A ticket note keeps failing: told once to the agent and the supervisors (no code)."""
    contact = escape(str(report.get("contact_name") or "the caller"))
    ticket = escape(str(report.get("ticket_number") or "?"))
    error = escape(str(report.get("error") or "unknown error"))
    who = f" (agent <@{report['agent_user_id']}>)" if report.get("agent_user_id") else ""
    return (
        f"⚠️ The PIN Verify note for {contact} on ticket #{ticket}{who} has failed "
        f"{report.get('failures')} times: {error}\nPIN Verify keeps retrying and will not drop "
        "it; if the ticket must show the verification now, add the note by hand."
    )


def _send_summary(snapshot: VerificationSnapshot) -> SectionBlock:
    send = snapshot.latest_send
    assert send is not None
    if send.sent_at is None:
        text = f"📨 Sending a code by *{send.channel.label}* to {send.masked_destination}…"
    else:
        text = (
            f"📨 Code #{send.seq} sent by *{send.channel.label}* to {send.masked_destination} at "
            f"{slack_time(send.sent_at)} · expires {slack_time(send.expires_at)}"
        )
    if send.sent_at is not None and send.delivery_status:
        text += f"\n{_delivery_line(send)}"
    if snapshot.failed_checks and snapshot.state == "code_sent":
        text += f"\n{snapshot.attempts_left} of {snapshot.max_attempts} attempts left."
    return SectionBlock(text=MarkdownTextObject(text=text))


_DELIVERY_WORDS = {
    "queued": "⏳ queued at {provider}",
    "sent": "📤 sent on by {provider}, not yet delivered",
    "delivered": "✅ delivered",
    "undelivered": "⚠️ not delivered",
    "failed": "⚠️ failed at {provider}",
}


def _delivery_line(send: SendSnapshot) -> str:
    provider = provider_label(send.provider)
    if send.delivery_status == "unconfirmed":
        return (
            f"*Delivery:* ❔ unconfirmed — {escape(send.delivery_error or '')} The code works if "
            "it arrived; ask the caller."
        )
    if send.provider == "smtp" and send.delivery_status == "sent":
        # SMTP has no delivery reports: the mail server's acceptance is all there will be.
        return "*Delivery:* 📤 accepted by the mail server"
    words = _DELIVERY_WORDS.get(str(send.delivery_status), str(send.delivery_status))
    return f"*Delivery:* {words.format(provider=provider)}"


def _instead(snapshot: VerificationSnapshot, send: SendSnapshot) -> list[ButtonElement]:
    """One click to the other channel after a report that the code did not arrive."""
    if not snapshot.sends_left:
        return []
    if send.channel is Channel.SMS and snapshot.masked_email:
        label, action, other = (
            ButtonLabel.SEND_EMAIL_INSTEAD,
            ActionId.SEND_EMAIL_INSTEAD,
            Channel.EMAIL,
        )
    elif send.channel is Channel.EMAIL and snapshot.masked_phone:
        label, action, other = ButtonLabel.SEND_SMS_INSTEAD, ActionId.SEND_SMS_INSTEAD, Channel.SMS
    else:
        return []
    return [
        ButtonElement(
            text=PlainTextObject(text=label),
            action_id=action,
            value=CardButton(snapshot.id, snapshot.next_seq, other).encode(),
            style="primary",
        )
    ]


def _actions(snapshot: VerificationSnapshot, buttons: list[ButtonElement]) -> ActionsBlock:
    # The send number in the block_id makes every redraw a distinct block for Slack's client.
    return ActionsBlock(block_id=f"{BlockId.CARD_ACTIONS}:{snapshot.next_seq}", elements=buttons)


def _send_buttons(snapshot: VerificationSnapshot) -> list[ButtonElement]:
    buttons = []
    if snapshot.masked_phone and snapshot.sends_left:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text=ButtonLabel.SEND_SMS),
                action_id=ActionId.SEND_SMS,
                value=CardButton(snapshot.id, snapshot.next_seq, Channel.SMS).encode(),
                style="primary",
            )
        )
    if snapshot.masked_email and snapshot.sends_left:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text=ButtonLabel.SEND_EMAIL),
                action_id=ActionId.SEND_EMAIL,
                value=CardButton(snapshot.id, snapshot.next_seq, Channel.EMAIL).encode(),
            )
        )
    return buttons


EDIT_MENU_TEXT = "Caller cannot get the code at the number or email on record?"


def _edit_menu(snapshot: VerificationSnapshot) -> list[Block]:
    """Discouraged, so tucked in a menu; offered only while the policy allows edits and a
    code can still be sent."""
    editable = snapshot.state in ("awaiting_send", "code_sent") and not snapshot.closed
    if not snapshot.edits_allowed or not snapshot.sends_left or not editable:
        return []
    return [
        SectionBlock(
            block_id=f"{BlockId.EDIT_DESTINATION}:{snapshot.next_seq}",
            text=MarkdownTextObject(text=EDIT_MENU_TEXT),
            accessory=OverflowMenuElement(
                action_id=ActionId.EDIT_DESTINATION,
                options=[
                    Option(
                        text=PlainTextObject(text=label),
                        value=CardButton(snapshot.id, snapshot.next_seq, channel).encode(),
                    )
                    for label, channel in (
                        (ButtonLabel.EDIT_PHONE, Channel.SMS),
                        (ButtonLabel.EDIT_EMAIL, Channel.EMAIL),
                    )
                ],
            ),
        )
    ]


def _resend(snapshot: VerificationSnapshot) -> list[ButtonElement]:
    send = snapshot.latest_send
    if send is None or not snapshot.sends_left:
        return []
    buttons = [
        ButtonElement(
            text=PlainTextObject(text=ButtonLabel.RESEND),
            action_id=ActionId.RESEND,
            value=CardButton(snapshot.id, snapshot.next_seq, send.channel).encode(),
        )
    ]
    other = Channel.EMAIL if send.channel is Channel.SMS else Channel.SMS
    if snapshot.masked_email if other is Channel.EMAIL else snapshot.masked_phone:
        label, action = (
            (ButtonLabel.SEND_EMAIL, ActionId.SEND_EMAIL)
            if other is Channel.EMAIL
            else (ButtonLabel.SEND_SMS, ActionId.SEND_SMS)
        )
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text=label),
                action_id=action,
                value=CardButton(snapshot.id, snapshot.next_seq, other).encode(),
            )
        )
    return buttons


def _completed(snapshot: VerificationSnapshot) -> ButtonElement:
    confirm = None
    if snapshot.state != "verified":
        confirm = ConfirmObject(
            title=PlainTextObject(text="Complete without a verified code?"),
            text=MarkdownTextObject(
                text=f"The caller has *not* read back a valid code ({snapshot.check_summary}). "
                "Completing records that you verified them another way."
            ),
            confirm=PlainTextObject(text="Mark completed"),
            deny=PlainTextObject(text="Go back"),
            style="danger",
        )
    return ButtonElement(
        text=PlainTextObject(text=ButtonLabel.COMPLETED),
        action_id=ActionId.COMPLETED,
        value=CardButton(snapshot.id, snapshot.next_seq).encode(),
        style="primary" if snapshot.state == "verified" else None,
        confirm=confirm,
    )


def _incomplete(snapshot: VerificationSnapshot, *, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=ButtonLabel.INCOMPLETE),
        action_id=ActionId.INCOMPLETE,
        value=CardButton(snapshot.id, snapshot.next_seq).encode(),
        style="danger" if not primary else "primary",
    )


# --- /verify replies ---------------------------------------------------------------------------


def pick_list(query_text: str, contacts: Sequence[ContactRecord]) -> list[Block]:
    """Several contacts match: the agent picks the caller (inactive ones are shown, not offered)."""
    shown = contacts[:MAX_PICKS]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{len(shown)}{'+' if len(contacts) > MAX_PICKS else ''} contacts match "
                f"“{escape(query_text)}”. Pick the caller:"
            )
        )
    ]
    for index, contact in enumerate(shown):
        details = " · ".join(
            part
            for part in (
                mask_phone(contact.phone_e164) if contact.phone_e164 else "",
                mask_email(contact.email) if contact.email else "",
            )
            if part
        )
        line = f"*{escape(contact.name)}* — {escape(contact.company) or 'no company'}\n{details}"
        if not contact.active:
            blocks.append(
                SectionBlock(
                    block_id=f"{BlockId.PICK_PREFIX}:{index}",
                    text=MarkdownTextObject(text=line + "\n_Inactive: codes cannot be sent._"),
                )
            )
            continue
        blocks.append(
            SectionBlock(
                block_id=f"{BlockId.PICK_PREFIX}:{index}",
                text=MarkdownTextObject(text=line),
                accessory=ButtonElement(
                    text=PlainTextObject(text=f"Verify {contact.name}"[:75]),
                    action_id=ActionId.PICK_CONTACT,
                    value=contact.ref,
                ),
            )
        )
    if len(contacts) > MAX_PICKS:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(text="More match: search by phone or email to narrow.")
                ]
            )
        )
    return blocks


def no_match_text(query_text: str) -> str:
    return (
        f"No contact matches “{escape(query_text)}”. Check the spelling, try the caller's phone "
        "number or email, or ask them for the email address on their account. Do not send a "
        "code to a number the caller gives you that is not on record."
    )


def card_opened_text(contact_name: str) -> str:
    return f"Opened the verification card for *{escape(contact_name)}* in your DM with PIN Verify."


# --- supervisors' channel ----------------------------------------------------------------------


def supervisor_post(report: Mapping[str, object]) -> list[Block]:
    """One closed verification as the supervisors see it: masked, no code, ever."""
    outcome = str(report["outcome"]).capitalize()
    verified = bool(report["verified"])
    if outcome == "Completed" and verified:
        headline = "✅ *Completed* (code verified)"
    elif outcome == "Completed":
        headline = "⚠️ *Completed without a verified code*"
    else:
        headline = "❌ *Incomplete*"
    contact = escape(str(report["contact_name"]))
    company = escape(str(report["company"] or "no company"))
    method = report["method"]
    method_text = (
        f"{'SMS' if method == 'sms' else 'Email'} to {report['masked_destination']}"
        if method
        else "no code sent"
    )
    times = [
        f"{label} {slack_time(datetime.fromisoformat(str(report[key])))}"
        for label, key in (
            ("opened", "opened_at"),
            ("code sent", "code_sent_at"),
            ("verified", "verified_at"),
            ("closed", "closed_at"),
        )
        if report.get(key)
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{headline}: {contact} ({company})")),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Agent*\n<@{report['agent_user_id']}>"),
                MarkdownTextObject(text=f"*Method*\n{method_text}"),
                MarkdownTextObject(text=f"*Check*\n{report['check']}"),
                MarkdownTextObject(text=f"*Outcome*\n{outcome}"),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=" · ".join(times) + f" · ref `{str(report['verification_id'])[:8]}`"
                )
            ]
        ),
    ]
    if report.get("destination_edited"):
        reason = escape(str(report.get("edit_reason") or "none given"))
        blocks.insert(
            1,
            SectionBlock(
                text=MarkdownTextObject(text=f"*{DESTINATION_NOT_ON_RECORD}*. Reason: {reason}")
            ),
        )
    return blocks


def supervisor_fallback_text(report: Mapping[str, object]) -> str:
    name = escape(str(report["contact_name"]))
    return f"Verification {report['outcome']}: {name} ({report['check']})"
