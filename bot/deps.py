"""The one object listeners receive: the services the composition root wired together.

Only services (and the settings): listeners never reach the database, the clock, the outbox
or a provider themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.audit import AuditService
from bot.contacts import ContactService
from bot.locks import KeyedLocks
from bot.settings import Settings
from bot.supervision import SupervisionService
from bot.templates import TemplateService
from bot.tickets import TicketService
from bot.verification import DestinationEditor, VerificationService
from bot.workspace import Roles, WorkspaceService

CONTEXT_KEY = "deps"


@dataclass(frozen=True)
class Deps:
    settings: Settings
    contacts: ContactService
    verifications: VerificationService
    tickets: TicketService
    roles: Roles
    workspace: WorkspaceService
    templates: TemplateService
    destinations: DestinationEditor
    supervision: SupervisionService
    audit: AuditService
    card_locks: KeyedLocks = field(default_factory=KeyedLocks)


def deps_from(context: Mapping[str, Any]) -> Deps:
    """Typed access to what the middleware put in Bolt's context."""
    deps = context.get(CONTEXT_KEY)
    if not isinstance(deps, Deps):
        raise RuntimeError("the deps middleware did not run")
    return deps
