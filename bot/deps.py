"""The one object listeners receive: everything the composition root wired together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.contacts.service import ContactService
from bot.locks import KeyedLocks
from bot.outbox.relay import OutboxRelay
from bot.settings import Settings
from bot.templates.service import TemplateService
from bot.tickets.service import TicketService
from bot.verification.destinations import DestinationEditor
from bot.verification.service import VerificationService
from bot.workspace.roles import Roles
from storage.db import Database

CONTEXT_KEY = "deps"


@dataclass(frozen=True)
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    contacts: ContactService
    verifications: VerificationService
    relay: OutboxRelay
    tickets: TicketService
    roles: Roles
    templates: TemplateService
    destinations: DestinationEditor
    card_locks: KeyedLocks = field(default_factory=KeyedLocks)
    # The provider names the server has credentials for: what Settings may choose from.
    sms_provider_names: tuple[str, ...] = ("console",)
    email_provider_names: tuple[str, ...] = ("console",)


def deps_from(context: Mapping[str, Any]) -> Deps:
    """Typed access to what the middleware put in Bolt's context."""
    deps = context.get(CONTEXT_KEY)
    if not isinstance(deps, Deps):
        raise RuntimeError("the deps middleware did not run")
    return deps
