"""Tickets on a verification: find one by number, tag it (checked against the PSA), create one.

PSA calls happen outside transactions; the tag itself is one transaction with its audit event.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.audit import AuditKind
from bot.changes import NoWatcher, VerificationWatcher
from bot.clock import Clock
from bot.contacts import crm_problem
from bot.errors import RefusalCode, TicketProblem, VerificationRefused
from bot.ownership import require_agent, require_found, require_open
from bot.workspace import Policy
from providers.crm import ContactDirectory, ContactRecord, CrmError, TicketRecord
from storage import repositories as repo
from storage.db import Database
from storage.models import Verification

MAX_SUMMARY = 200


@dataclass(frozen=True)
class TicketMatch:
    ticket: TicketRecord
    contact: ContactRecord


def require_ticket(verification: Verification, policy: Policy, *, tickets_enabled: bool) -> None:
    """The "Require ticket for PIN verification" rule, enforced where codes are sent."""
    if not policy.require_ticket or verification.ticket_ref is not None:
        return
    if not tickets_enabled:
        raise VerificationRefused(
            "This workspace requires a ticket before a code is sent, but the contact directory "
            "has no tickets. Ask an admin to connect the PSA or turn off the ticket requirement.",
            code=RefusalCode.TICKET_REQUIRED,
        )
    raise VerificationRefused(
        "A ticket is required before sending a code: tag the caller's ticket by number or "
        "press Create ticket, then send.",
        code=RefusalCode.TICKET_REQUIRED,
    )


class TicketService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        contacts: ContactDirectory,
        watcher: VerificationWatcher | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._contacts = contacts
        # A tagged ticket shows on the supervisors' live message (bot/supervision).
        self._watcher: VerificationWatcher = watcher or NoWatcher()

    @property
    def enabled(self) -> bool:
        return self._contacts.supports_tickets

    @property
    def label(self) -> str:
        return self._contacts.label

    async def find_for_lookup(self, number: str) -> TicketMatch:
        """`/verify #number`: the ticket and its contact, or a TicketProblem saying why not."""
        if not self.enabled:
            raise TicketProblem(
                f"Ticket lookups need a PSA connection, and {self.label} has no tickets "
                f"(#{number}). Look the caller up by phone, email or name instead."
            )
        try:
            ticket = await self._contacts.get_ticket(number)
            if ticket is None:
                raise TicketProblem(
                    f"No ticket #{number} in {self.label}. Check the number, or look the caller "
                    "up by phone, email or name."
                )
            if ticket.contact_ref is None:
                raise TicketProblem(
                    f"Ticket #{ticket.number} has no contact in {self.label}: set the contact on "
                    "the ticket, or look the caller up by phone, email or name."
                )
            contact = await self._contacts.get(ticket.contact_ref)
        except CrmError as exc:
            raise TicketProblem(crm_problem(self.label, exc)) from exc
        if contact is None:
            raise TicketProblem(
                f"Ticket #{ticket.number}'s contact no longer exists in {self.label}: fix the "
                "ticket's contact, or look the caller up by phone, email or name."
            )
        return TicketMatch(ticket=ticket, contact=contact)

    async def tag_by_number(
        self, *, verification_id: str, actor_user_id: str, number: str
    ) -> TicketRecord:
        """Tag the ticket the agent typed, after checking it exists and is the company's."""
        verification = await self._open_verification(verification_id, actor_user_id)
        self._require_enabled()
        try:
            ticket = await self._contacts.get_ticket(number)
        except CrmError as exc:
            raise VerificationRefused(
                crm_problem(self.label, exc), code=RefusalCode.PSA_ERROR
            ) from exc
        if ticket is None:
            raise VerificationRefused(
                f"No ticket #{number} in {self.label}: check the number, or press Create ticket.",
                code=RefusalCode.UNKNOWN_TICKET,
            )
        if (
            verification.company_ref is not None
            and ticket.company_ref is not None
            and ticket.company_ref != verification.company_ref
        ):
            raise VerificationRefused(
                f"Ticket #{ticket.number} belongs to another company, not "
                f"{verification.company or 'the contact’s company'}: tag one of "
                f"{verification.contact_name}'s company's tickets, or press Create ticket.",
                code=RefusalCode.TICKET_OTHER_COMPANY,
            )
        await self.attach(
            verification_id=verification_id, actor_user_id=actor_user_id, ticket=ticket
        )
        return ticket

    async def create(
        self, *, verification_id: str, actor_user_id: str, summary: str
    ) -> TicketRecord:
        """Create a ticket for the verification's contact in the PSA, and tag it."""
        text = " ".join(summary.split())
        if not text:
            raise VerificationRefused(
                "Type a summary for the new ticket.", code=RefusalCode.BAD_SUMMARY
            )
        if len(text) > MAX_SUMMARY:
            raise VerificationRefused(
                f"Keep the summary under {MAX_SUMMARY} characters.", code=RefusalCode.BAD_SUMMARY
            )
        verification = await self._open_verification(verification_id, actor_user_id)
        self._require_enabled()
        contact = ContactRecord(
            ref=verification.contact_ref,
            name=verification.contact_name,
            company=verification.company,
            phone_e164=verification.phone_e164,
            email=verification.email,
            active=verification.contact_active,
            company_ref=verification.company_ref,
        )
        try:
            ticket = await self._contacts.create_ticket(contact=contact, summary=text)
        except CrmError as exc:
            raise VerificationRefused(
                f"Could not create the ticket: {crm_problem(self.label, exc)}",
                code=RefusalCode.PSA_ERROR,
            ) from exc
        await self.attach(
            verification_id=verification_id,
            actor_user_id=actor_user_id,
            ticket=ticket,
            source="created",
        )
        return ticket

    async def attach(
        self,
        *,
        verification_id: str,
        actor_user_id: str,
        ticket: TicketRecord,
        source: str = "tagged",
    ) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            verification = _require_mine_and_open(
                await repo.get_verification(
                    session=session, verification_id=verification_id, for_update=True
                ),
                actor_user_id,
            )
            if verification.ticket_ref == ticket.ref[:64]:
                return
            if verification.ticket_ref is not None and verification.sends_count > 0:
                # The "PIN sent" note is already on the first ticket: moving the verification
                # would put its result on a ticket no code was ever sent for.
                raise VerificationRefused(
                    f"This verification already sent a code for ticket "
                    f"#{verification.ticket_number}, so it stays on that ticket. To verify for "
                    f"ticket #{ticket.number}, mark this one Incomplete and run "
                    f"/verify #{ticket.number}.",
                    code=RefusalCode.TICKET_LOCKED,
                )
            verification.ticket_ref = ticket.ref[:64]
            verification.ticket_number = ticket.number[:64]
            verification.ticket_summary = ticket.summary[:255]
            verification.ticket_url = ticket.url[:500] if ticket.url else None
            verification.ticket_tagged_by = actor_user_id
            verification.ticket_tagged_at = now
            repo.append_audit_event(
                session=session,
                team_id=verification.team_id,
                verification_id=verification_id,
                actor_user_id=actor_user_id,
                kind=AuditKind.TICKET_TAGGED,
                at=now,
                detail={"ticket": ticket.number, "ticket_ref": ticket.ref, "source": source},
            )
            await self._watcher.changed(
                session,
                verification,
                event=AuditKind.TICKET_TAGGED,
                now=now,
                actor_user_id=actor_user_id,
            )

    async def _open_verification(self, verification_id: str, actor_user_id: str) -> Verification:
        async with self._db.transaction() as session:
            return _require_mine_and_open(
                await repo.get_verification(session=session, verification_id=verification_id),
                actor_user_id,
            )

    def _require_enabled(self) -> None:
        if not self.enabled:
            raise VerificationRefused(
                f"{self.label} has no tickets; connect a PSA to tag or create tickets.",
                code=RefusalCode.NO_TICKETS,
            )


def _require_mine_and_open(verification: Verification | None, actor_user_id: str) -> Verification:
    found = require_found(verification)
    require_agent(found, actor_user_id)
    require_open(found)
    return found
