"""Every problem the domain reports to a person, in one tree, and the refusal codes.

Each carries `message`: the words the person who asked sees (an agent, an admin, whoever
ran the CLI). The edge (commands/) decides where to show it; it never rewrites it.

    PinVerifyError                     base: `message` for the person who asked
    ├── ConfigurationError             a setting is missing or malformed (start-up, CLI)
    ├── VerificationRefused            an action on a verification is not allowed now;
    │                                  `code` (RefusalCode) says which rule refused it
    ├── NotAllowed                     the user's role does not allow the action
    │   └── RoleCheckFailed            Slack could not tell the role: refused, transiently
    ├── LookupProblem                  /verify text that cannot be looked up
    │   └── TicketRefProblem           not a ticket number (also a ValueError)
    ├── TicketProblem                  /verify #ticket found no usable ticket or contact
    ├── ContactsUnavailable            the CRM/PSA failed while looking a contact up
    ├── DestinationInvalid             an agent's typed destination or reason (`field`)
    ├── SettingsInvalid                an admin's Settings form (`errors` per field)
    ├── TemplateTestRefused            no template test send now
    └── (bot/templates) TemplatesInvalid, TemplateRefused: carry the template checks

Signals that are not user-facing problems live with their protocol instead:
`bot.outbox.relay.DeliveryDeferred` (try a delivery again later) and `providers.errors`
(what a vendor said, in our taxonomy).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class RefusalCode(StrEnum):
    """Why a verification action was refused: the edge branches on these, never on text."""

    # who and when (every action)
    NOT_FOUND = "not_found"
    NOT_AGENT = "not_agent"
    CLOSED = "closed"
    STALE = "stale"  # the card was drawn before a newer send
    # the verification's state
    LOCKED = "locked"
    VERIFIED = "verified"
    NO_CODE = "no_code"
    # sending
    INACTIVE_CONTACT = "inactive_contact"
    TICKET_REQUIRED = "ticket_required"
    SEND_BUDGET = "send_budget"
    CONTACT_CAP = "contact_cap"
    NO_DESTINATION = "no_destination"
    SMS_NOT_ALLOWED = "sms_not_allowed"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    # destination edits
    EDITS_DISABLED = "edits_disabled"
    # tickets
    NO_TICKETS = "no_tickets"
    BAD_TICKET_NUMBER = "bad_ticket_number"
    UNKNOWN_TICKET = "unknown_ticket"
    TICKET_OTHER_COMPANY = "ticket_other_company"
    TICKET_LOCKED = "ticket_locked"
    BAD_SUMMARY = "bad_summary"
    PSA_ERROR = "psa_error"

    @property
    def about_someone_else(self) -> bool:
        """The card is not this user's (or is gone): never redraw it for them."""
        return self in (RefusalCode.NOT_AGENT, RefusalCode.NOT_FOUND)


class PinVerifyError(Exception):
    """A problem to tell the person who asked; `message` is in words for them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(PinVerifyError):
    """A setting is missing or malformed; the message names the variable."""


class VerificationRefused(PinVerifyError):
    """The action is not allowed now; `message` tells the agent why and what to do instead."""

    def __init__(self, message: str, *, code: RefusalCode) -> None:
        super().__init__(message)
        self.code = code


class NotAllowed(PinVerifyError):
    """The user may not do this; `message` says why, in words for them."""


class RoleCheckFailed(NotAllowed):
    """Slack could not tell us the user's role: refuse (fail closed), but say it is transient."""


class LookupProblem(PinVerifyError):
    """The text cannot be looked up; the message says how to fix it."""

    def __str__(self) -> str:
        return self.message


class TicketRefProblem(LookupProblem, ValueError):
    """Not a ticket number; the message says what one looks like."""


class TicketProblem(PinVerifyError):
    """A ticket lookup for /verify failed; `message` tells the agent what to do."""


class ContactsUnavailable(PinVerifyError):
    """The contact directory (CRM/PSA) failed; `message` names it and what to do."""


class DestinationInvalid(PinVerifyError):
    """The typed destination or reason is not acceptable; `field` says which input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SettingsInvalid(PinVerifyError):
    """Some fields are wrong; `errors` maps the form field to what to fix."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class TemplateTestRefused(PinVerifyError):
    """No test send now; `message` says why."""
