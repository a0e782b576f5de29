"""The agent's verification card: pure Block Kit builders, one snapshot in, blocks out."""

from __future__ import annotations

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

from bot.delivery import Channel, provider_label
from bot.tickets import DESTINATION_NOT_ON_RECORD
from bot.verification import SendSnapshot, SendStatus, VerificationSnapshot, VerificationState
from commands.blocks import CardButton, escape, slack_time
from commands.card.history_views import history_blocks
from commands.card.ticket_views import ticket_blocks
from commands.ids import ActionId, BlockId, ButtonLabel


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
    blocks.extend(history_blocks(snapshot))
    blocks.append(DividerBlock())
    blocks.extend(ticket_blocks(snapshot))
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
    if snapshot.state == VerificationState.VERIFIED:
        return "✅ Verified"
    if snapshot.state == VerificationState.LOCKED:
        return "🔒 Locked"
    send = snapshot.latest_send
    if send is None:
        return "Ready to send a code"
    if send.status == SendStatus.SENDING:
        return f"Sending {send.channel.label}…"
    if send.status == SendStatus.FAILED:
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
    if snapshot.state == VerificationState.VERIFIED:
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
    if snapshot.state == VerificationState.LOCKED:
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
    if send.status == SendStatus.FAILED:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"⚠️ *Could not send the {send.channel.label}* to "
                    f"{send.masked_destination}: {escape(send.error_message or 'unknown error')}"
                )
            ),
            _actions(snapshot, [*_send_buttons(snapshot), _incomplete(snapshot)]),
        ]
    if send.status == SendStatus.SENDING:
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
    if snapshot.failed_checks and snapshot.state == VerificationState.CODE_SENT:
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
    editable = (
        snapshot.state in (VerificationState.AWAITING_SEND, VerificationState.CODE_SENT)
        and not snapshot.closed
    )
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
    if snapshot.state != VerificationState.VERIFIED:
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
        style="primary" if snapshot.state == VerificationState.VERIFIED else None,
        confirm=confirm,
    )


def _incomplete(snapshot: VerificationSnapshot, *, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=ButtonLabel.INCOMPLETE),
        action_id=ActionId.INCOMPLETE,
        value=CardButton(snapshot.id, snapshot.next_seq).encode(),
        style="danger" if not primary else "primary",
    )
