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
    # App Home (admins)
    EDIT_TEMPLATES = "home_edit_templates"
    OPEN_SETTINGS = "home_open_settings"
    # The verification card's destination edits (the channel rides in the button value too)
    EDIT_DESTINATION = "edit_destination"
    DESTINATION_INPUT = "destination_input"
    EDIT_REASON_INPUT = "edit_reason_input"
    # The PIN templates modal
    TEMPLATE_INPUT = "template_input"
    TEMPLATES_PREVIEW = "templates_preview"
    TEMPLATES_TEST_SMS = "templates_test_sms"
    TEMPLATES_TEST_EMAIL = "templates_test_email"
    TEMPLATES_RESET = "templates_reset"
    # The supervisors' channel and their Home
    VOID_VERIFICATION = "void_verification"
    VOID_REASON_INPUT = "void_reason_input"
    FIGURES_WINDOW = "home_figures_window"
    DOWNLOAD_AUDIT = "home_download_audit"


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
    # Template inputs get the modal's revision appended ("tpl_sms.2"): after a reset Slack
    # must show the new initial values instead of keeping what was typed.
    TEMPLATE_SMS = "tpl_sms"
    TEMPLATE_EMAIL_SUBJECT = "tpl_email_subject"
    TEMPLATE_EMAIL_BODY = "tpl_email_body"
    TEMPLATE_EMAIL_HTML = "tpl_email_html"
    TEMPLATE_ACTIONS = "tpl_actions"
    DESTINATION_VALUE = "destination_value"
    EDIT_REASON = "edit_reason"
    EDIT_DESTINATION = "edit_destination"
    VOID_REASON = "void_reason"
    FIGURES = "home_figures"


class CallbackId(StrEnum):
    CREATE_TICKET = "create_ticket_modal"
    EDIT_TEMPLATES = "edit_templates"
    EDIT_DESTINATION = "edit_destination"
    SETTINGS = "workspace_settings"
    VOID_VERIFICATION = "void_verification_modal"


class SettingsField(StrEnum):
    """Block ids (and action ids) of the Settings modal's inputs, one per setting; the names
    are SettingsForm's fields."""

    REQUIRE_TICKET = "set_require_ticket"
    CODE_LENGTH = "set_code_length"
    CODE_TTL_MINUTES = "set_code_ttl_minutes"
    MAX_ATTEMPTS = "set_max_attempts"
    ALLOW_DESTINATION_EDITS = "set_allow_destination_edits"
    REQUIRE_EDIT_REASON = "set_require_edit_reason"
    CODE_IN_TICKET_NOTE = "set_code_in_ticket_note"
    SHOW_CODE_TO_AGENT = "set_show_code_to_agent"
    SUPERVISOR_CHANNEL = "set_supervisor_channel"
    AGENT_USERGROUP = "set_agent_usergroup"
    SMS_PROVIDER = "set_sms_provider"
    EMAIL_PROVIDER = "set_email_provider"
    SMS_ALLOWED_COUNTRIES = "set_sms_allowed_countries"
    SUPERVISOR_USERGROUP = "set_supervisor_usergroup"
    DIGEST = "set_digest"

    @property
    def form_field(self) -> str:
        return self.value.removeprefix("set_")


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
    EDIT_PHONE = "Edit number"
    EDIT_EMAIL = "Edit email"
    PREVIEW = "Preview"
    SEND_TEST_SMS = "Send me a test SMS"
    SEND_TEST_EMAIL = "Send me a test email"
    RESET_TEMPLATES = "Reset to default"
    EDIT_TEMPLATES = "Edit PIN templates"
    SETTINGS = "Settings"
    VOID = "Void"
    DOWNLOAD_AUDIT = "Download audit log"
