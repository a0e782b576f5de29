"""Every action_id, block_id and callback_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    VERIFY = "/verify"


class ActionId(StrEnum):
    SEND_SMS = "send_sms"
    SEND_EMAIL = "send_email"
    # Offered when the provider reports the code undelivered: the other channel, one click.
    SEND_EMAIL_INSTEAD = "send_email_instead"
    SEND_SMS_INSTEAD = "send_sms_instead"
    CHECK_CODE = "check_code"
    RESEND = "resend"
    COMPLETED = "mark_completed"
    INCOMPLETE = "mark_incomplete"
    PICK_CONTACT = "pick_contact"
    CODE_INPUT = "code_input"
    TAG_TICKET = "tag_ticket"
    CREATE_TICKET = "create_ticket"
    TICKET_INPUT = "ticket_input"
    TICKET_SUMMARY_INPUT = "ticket_summary_input"


class BlockId(StrEnum):
    CARD_ACTIONS = "card_actions"
    # The code input's block_id gets the attempt appended, so Slack shows an empty box after
    # every check instead of keeping the last (wrong) entry.
    CODE_ENTRY_PREFIX = "code_entry"
    PICK_PREFIX = "pick"
    # Like the code box: the send number and tagged ticket make each redraw a fresh, empty box.
    TICKET_ENTRY_PREFIX = "ticket_entry"
    TICKET_ACTIONS = "ticket_actions"
    TICKET_SUMMARY = "ticket_summary"


class CallbackId(StrEnum):
    CREATE_TICKET = "create_ticket_modal"


class ButtonLabel(StrEnum):
    """Button texts are part of the interface contract (DESIGN.md): agents are trained on them."""

    SEND_SMS = "Send SMS"
    SEND_EMAIL = "Send email"
    SEND_EMAIL_INSTEAD = "Send email instead"
    SEND_SMS_INSTEAD = "Send SMS instead"
    CHECK_CODE = "Check code"
    RESEND = "Resend"
    COMPLETED = "Completed"
    INCOMPLETE = "Incomplete"
    TAG_TICKET = "Tag ticket"
    CREATE_TICKET = "Create ticket"
