"""Every action_id, block_id and callback_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    VERIFY = "/verify"


class ActionId(StrEnum):
    SEND_SMS = "send_sms"
    SEND_EMAIL = "send_email"
    CHECK_CODE = "check_code"
    RESEND = "resend"
    COMPLETED = "mark_completed"
    INCOMPLETE = "mark_incomplete"
    PICK_CONTACT = "pick_contact"
    CODE_INPUT = "code_input"
    # App Home (admins)
    EDIT_TEMPLATES = "home_edit_templates"
    OPEN_SETTINGS = "home_open_settings"


class BlockId(StrEnum):
    CARD_ACTIONS = "card_actions"
    # The code input's block_id gets the attempt appended, so Slack shows an empty box after
    # every check instead of keeping the last (wrong) entry.
    CODE_ENTRY_PREFIX = "code_entry"
    PICK_PREFIX = "pick"


class ButtonLabel(StrEnum):
    """Button texts are part of the interface contract (DESIGN.md): agents are trained on them."""

    SEND_SMS = "Send SMS"
    SEND_EMAIL = "Send email"
    CHECK_CODE = "Check code"
    RESEND = "Resend"
    COMPLETED = "Completed"
    INCOMPLETE = "Incomplete"
