"""Keyword-only queries, one module per aggregate; callers own the transaction
(`Database.transaction()`). Import the package: `from storage import repositories as repo`."""

from __future__ import annotations

from storage.repositories.audit import append_audit_event
from storage.repositories.console import add_console_message, latest_console_messages
from storage.repositories.contacts import (
    count_contacts,
    find_contacts_by_email,
    find_contacts_by_name,
    find_contacts_by_phone,
    get_contact,
    get_contact_by_external_id,
)
from storage.repositories.outbox import (
    add_outbox_message,
    claim_outbox_messages,
    list_verification_outbox,
    mark_outbox_delivered,
    schedule_outbox_retry,
    scrub_outbox_payload,
)
from storage.repositories.verifications import (
    close_verification,
    count_recent_sends,
    count_wrong_check,
    find_code_send_by_provider_message,
    find_open_verification,
    get_code_send,
    get_verification,
    latest_code_send,
    live_code_send,
    mark_verified,
    recent_failures_for_contact,
    recent_verifications_for_agent,
    void_code_sends,
)
from storage.repositories.workspace import (
    count_recent_audit_events,
    delete_message_templates,
    get_message_templates,
    get_workspace_policy,
    save_workspace_policy,
)

__all__ = [
    "add_console_message",
    "add_outbox_message",
    "append_audit_event",
    "claim_outbox_messages",
    "close_verification",
    "count_contacts",
    "count_recent_audit_events",
    "count_recent_sends",
    "count_wrong_check",
    "delete_message_templates",
    "find_code_send_by_provider_message",
    "find_contacts_by_email",
    "find_contacts_by_name",
    "find_contacts_by_phone",
    "find_open_verification",
    "get_code_send",
    "get_contact",
    "get_contact_by_external_id",
    "get_message_templates",
    "get_verification",
    "get_workspace_policy",
    "latest_code_send",
    "latest_console_messages",
    "list_verification_outbox",
    "live_code_send",
    "mark_outbox_delivered",
    "mark_verified",
    "recent_failures_for_contact",
    "recent_verifications_for_agent",
    "save_workspace_policy",
    "schedule_outbox_retry",
    "scrub_outbox_payload",
    "void_code_sends",
]
