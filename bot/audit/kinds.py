"""Every kind of audit event PIN Verify writes (stored as the string values)."""

from __future__ import annotations

from enum import StrEnum


class AuditKind(StrEnum):
    # a verification's life (bot/verification)
    VERIFICATION_OPENED = "verification_opened"
    VERIFICATION_REOPENED = "verification_reopened"
    CODE_SEND_REQUESTED = "code_send_requested"  # with the SMS's encoding and segments
    CODE_SENT = "code_sent"
    CODE_SEND_UNCONFIRMED = "code_send_unconfirmed"  # timed out after the request left
    CODE_SEND_FAILED = "code_send_failed"
    CODE_DELIVERY_STATUS = "code_delivery_status"  # a vendor's delivery report
    CODE_VERIFIED = "code_verified"
    CODE_CHECK_FAILED = "code_check_failed"
    CODE_CHECK_REFUSED = "code_check_refused"  # checked while locked
    CODE_EXPIRED = "code_expired"
    VERIFICATION_LOCKED = "verification_locked"
    VERIFICATION_CLOSED = "verification_closed"
    VERIFICATION_VOIDED = "verification_voided"  # by a supervisor, with a reason
    DESTINATION_EDITED = "destination_edited"
    DESTINATION_EDIT_REFUSED = "destination_edit_refused"
    # tickets (bot/tickets)
    TICKET_TAGGED = "ticket_tagged"
    # admins (bot/workspace, bot/templates)
    SETTING_CHANGED = "setting_changed"
    TEMPLATES_CHANGED = "templates_changed"
    TEMPLATES_RESET = "templates_reset"
    TEMPLATE_TEST_SENT = "template_test_sent"
    TEMPLATE_TEST_FAILED = "template_test_failed"
    # refusals (bot/workspace/roles)
    ACCESS_REFUSED = "access_refused"
    # the audit trail itself (bot/audit)
    AUDIT_EXPORTED = "audit_exported"  # who downloaded which period, from App Home
    AUDIT_PURGED = "audit_purged"  # a retention purge, with its signed checkpoint
