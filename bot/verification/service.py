"""The verification service: open, send a code, check it, close. Slack-agnostic.

Every state change is one transaction that also appends an audit event (and, when something
must leave the building, an outbox row). Provider calls happen between transactions, never
inside one, so a slow SMS gateway holds no lock.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.changes import NoWatcher, VerificationWatcher
from bot.clock import Clock
from bot.delivery import Attempts, Channel, Providers, SendRetrier
from bot.errors import RefusalCode, VerificationRefused
from bot.ownership import require_agent, require_found, require_open
from bot.templates import (
    MessageRenderer,
    MessageTemplates,
)
from bot.verification.checking import decide_check
from bot.verification.closing import record_close
from bot.verification.reservation import Reservation, SendingKit, reserve_send
from bot.verification.send_records import (
    record_send_failure,
    record_send_success,
)
from bot.verification.snapshot_builder import build_snapshot
from bot.verification.snapshots import (
    CheckOutcome,
    CloseOutcome,
    SendOutcome,
    VerificationSnapshot,
)
from bot.verification.states import Outcome, SendStatus
from bot.workspace import Policy, load_policy
from providers.crm import ContactRecord
from providers.email import EmailMessage, EmailSender
from providers.errors import DeliveryError, TransientDeliveryError
from providers.sms import SmsMessage, SmsSender
from storage import repositories as repo
from storage.db import Database
from storage.models import CodeSend, Verification

log = logging.getLogger(__name__)

# Longer than any provider timeout: a send still "sending" after this was interrupted.
SEND_STALE_AFTER = timedelta(minutes=2)


class VerificationService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        sms: Mapping[str, SmsSender],
        email: Mapping[str, EmailSender],
        renderer: MessageRenderer,
        templates: MessageTemplates,
        secret_key: bytes,
        defaults: Policy,
        organisation: str,
        outbox_written: Callable[[], None] = lambda: None,
        tickets_enabled: bool = False,
        retrier: SendRetrier | None = None,
        default_region: str = "US",
        watcher: VerificationWatcher | None = None,
    ) -> None:
        self._db = db
        # Told of every change inside its transaction (supervision's live message, alerts).
        self._watcher: VerificationWatcher = watcher or NoWatcher()
        self._clock = clock
        # Every configured provider; each workspace's policy picks its own (bring your own).
        self._providers = Providers(sms=sms, email=email)
        self._sending = SendingKit(
            providers=self._providers,
            renderer=renderer,
            templates=templates,
            secret_key=secret_key,
            organisation=organisation,
            tickets_enabled=tickets_enabled,
            default_region=default_region,
        )
        self._retrier = retrier or SendRetrier()
        self._key = secret_key
        self._defaults = defaults
        self._outbox_written = outbox_written
        self._tickets_enabled = tickets_enabled

    # --- open -------------------------------------------------------------------------------

    async def open(
        self, *, team_id: str, agent_user_id: str, agent_name: str, contact: ContactRecord
    ) -> VerificationSnapshot:
        """Start verifying `contact`, or reopen this agent's open verification of them."""
        try:
            return await self._open(team_id, agent_user_id, agent_name, contact)
        except IntegrityError:
            # A concurrent open of the same contact by the same agent won; reopen that one.
            return await self._open(team_id, agent_user_id, agent_name, contact)

    async def _open(
        self, team_id: str, agent_user_id: str, agent_name: str, contact: ContactRecord
    ) -> VerificationSnapshot:
        now = self._clock.now()
        async with self._db.transaction() as session:
            policy = await load_policy(session=session, team_id=team_id, defaults=self._defaults)
            existing = await repo.find_open_verification(
                session=session, agent_user_id=agent_user_id, contact_ref=contact.ref
            )
            if existing is not None:
                repo.append_audit_event(
                    session=session,
                    team_id=team_id,
                    verification_id=existing.id,
                    actor_user_id=agent_user_id,
                    kind=AuditKind.VERIFICATION_REOPENED,
                    at=now,
                )
                return await self._snapshot(session, existing, policy)
            verification = Verification(
                id=uuid.uuid4().hex,
                team_id=team_id,
                agent_user_id=agent_user_id,
                agent_name=agent_name,
                contact_ref=contact.ref,
                contact_name=contact.name,
                company=contact.company,
                phone_e164=contact.phone_e164 if contact.active else None,
                email=contact.email if contact.active else None,
                max_attempts=policy.max_attempts,
                created_at=now,
                company_ref=contact.company_ref,
                contact_active=contact.active,
            )
            session.add(verification)
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                verification_id=verification.id,
                actor_user_id=agent_user_id,
                kind=AuditKind.VERIFICATION_OPENED,
                at=now,
                detail={"contact_ref": contact.ref, "contact_name": contact.name},
            )
            await session.flush()
            return await self._snapshot(session, verification, policy)

    async def attach_card(self, *, verification_id: str, channel: str, ts: str) -> None:
        async with self._db.transaction() as session:
            verification = await self._get(session, verification_id)
            verification.card_channel = channel
            verification.card_ts = ts

    async def snapshot(self, verification_id: str) -> VerificationSnapshot:
        async with self._db.transaction() as session:
            verification = await self._get(session, verification_id)
            policy = await self._policy(session, verification)
            return await self._snapshot(session, verification, policy)

    # --- send -------------------------------------------------------------------------------

    async def send_code(
        self, *, verification_id: str, actor_user_id: str, channel: Channel, seq: int
    ) -> SendOutcome:
        """Send code number `seq`; the same (verification, seq) twice sends one message.

        `seq` comes from the card the agent clicked, so a double click or a replayed request
        carries the same key and finds the first attempt instead of making a second.
        """
        try:
            reserved = await self._reserve_send(verification_id, actor_user_id, channel, seq)
        except IntegrityError:
            # Lost a race with an identical click on another connection: that one sends.
            reserved = None
        if reserved is None:
            interrupted = await self._fail_interrupted_send(verification_id, seq)
            return SendOutcome(
                duplicate=interrupted is None,
                snapshot=await self.snapshot(verification_id),
                error=interrupted,
            )
        send, code, outgoing, show_code = (
            reserved.send,
            reserved.code,
            reserved.outgoing,
            reserved.show_code,
        )
        try:
            attempts = await self._deliver(send, outgoing)
        except Exception:  # anything at all: logged here; the row must not stay "sending"
            log.exception("code send crashed", extra={"verification": verification_id})
            attempts = Attempts(
                error=TransientDeliveryError(
                    "PIN Verify hit an internal error while sending; it is unknown whether the "
                    "message went out. Ask the caller before sending another code.",
                    provider=send.provider,
                )
            )
        if attempts.result is not None:
            message_id, status = attempts.result
            await self._record_send_success(send, code, message_id, status, attempts)
            return SendOutcome(
                duplicate=False,
                snapshot=await self.snapshot(verification_id),
                code_for_agent=code if show_code else None,
            )
        error = attempts.error
        assert error is not None
        log.warning(
            "code send failed",
            extra={"verification": verification_id, "reason": error.reason.value},
        )
        if attempts.maybe_sent:
            # A try timed out after the request left: the caller may well have the code, so
            # it stays checkable, marked unconfirmed, instead of being erased.
            await self._record_send_success(send, code, None, "unconfirmed", attempts)
        else:
            await self._record_send_failure(send, error, attempts)
        return SendOutcome(
            duplicate=False, snapshot=await self.snapshot(verification_id), error=error
        )

    async def _fail_interrupted_send(self, verification_id: str, seq: int) -> DeliveryError | None:
        """A send still "sending" long after any provider timeout was cut off by a crash or
        restart: mark it failed so the card offers a new send instead of ignoring clicks."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            send = await repo.get_code_send(
                session=session, verification_id=verification_id, seq=seq
            )
            if (
                send is None
                or send.status != SendStatus.SENDING
                or now - send.created_at < SEND_STALE_AFTER
            ):
                return None
        error = TransientDeliveryError(
            "This send never finished (PIN Verify stopped while sending); it is unknown whether "
            "the message went out. Ask the caller before sending another code.",
            provider=send.provider,
        )
        await self._record_send_failure(send, error)
        return error

    async def _reserve_send(
        self, verification_id: str, actor: str, channel: Channel, seq: int
    ) -> Reservation | None:
        async with self._db.transaction() as session:
            verification = await self._get(session, verification_id, for_update=True)
            require_agent(verification, actor)
            require_open(verification)
            if await repo.get_code_send(session=session, verification_id=verification_id, seq=seq):
                return None
            now = self._clock.now()
            reservation = await reserve_send(
                session,
                verification=verification,
                policy=await self._policy(session, verification),
                actor=actor,
                channel=channel,
                seq=seq,
                kit=self._sending,
                now=now,
            )
            await self._watcher.changed(
                session,
                verification,
                event=AuditKind.CODE_SEND_REQUESTED,
                now=now,
                actor_user_id=actor,
                seq=seq,
            )
            return reservation

    async def _deliver(
        self, send: CodeSend, outgoing: SmsMessage | EmailMessage
    ) -> Attempts[tuple[str, str]]:
        async def once() -> tuple[str, str]:
            if isinstance(outgoing, SmsMessage):
                sms = await self._providers.sms_sender(send.provider).send(outgoing)
                return sms.message_id, sms.status
            email = await self._providers.email_sender(send.provider).send(outgoing)
            return email.message_id, email.status

        return await self._retrier.run(once)

    async def _record_send_success(
        self,
        send: CodeSend,
        code: str,
        message_id: str | None,
        status: str,
        attempts: Attempts[tuple[str, str]],
    ) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            verification = await self._get(session, send.verification_id, for_update=True)
            noted = await record_send_success(
                session,
                verification=verification,
                policy=await self._policy(session, verification),
                send=send,
                code=code,
                message_id=message_id,
                status=status,
                attempts=attempts,
                now=now,
            )
            await self._watcher.changed(
                session,
                verification,
                event=AuditKind.CODE_SEND_UNCONFIRMED
                if message_id is None
                else AuditKind.CODE_SENT,
                now=now,
                seq=send.seq,
            )
        if noted:
            self._outbox_written()

    async def _record_send_failure(
        self,
        send: CodeSend,
        error: DeliveryError,
        attempts: Attempts[tuple[str, str]] | None = None,
    ) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            verification = await self._get(session, send.verification_id)
            await record_send_failure(
                session,
                team_id=verification.team_id,
                send=send,
                error=error,
                attempts=attempts,
                now=now,
            )
            await self._watcher.changed(
                session, verification, event=AuditKind.CODE_SEND_FAILED, now=now, seq=send.seq
            )

    # --- check ------------------------------------------------------------------------------

    async def check_code(
        self,
        *,
        verification_id: str,
        actor_user_id: str,
        entry: str | None,
        seq: int | None = None,
    ) -> CheckOutcome:
        """Check what the caller read back; `seq` is the send number the card was drawn at."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            verification = await self._get(session, verification_id, for_update=True)
            require_agent(verification, actor_user_id)
            require_open(verification)
            if seq is not None and seq != verification.sends_count + 1:
                # A Resend happened after this card was drawn: the typed code is for an older
                # message, and counting it as wrong would burn an attempt.
                raise VerificationRefused(
                    "A new code was sent after you typed this one: check the code from the "
                    "newest message.",
                    code=RefusalCode.STALE,
                )
            policy = await self._policy(session, verification)
            decision = await decide_check(
                session, verification=verification, entry=entry, key=self._key, now=now
            )
            if decision.event is not None:
                repo.append_audit_event(
                    session=session,
                    team_id=verification.team_id,
                    verification_id=verification_id,
                    actor_user_id=actor_user_id,
                    kind=decision.event,
                    at=now,
                    detail={
                        "result": decision.result.value,
                        "failed_checks": verification.failed_checks,
                        "max_attempts": verification.max_attempts,
                    },
                )
                await self._watcher.changed(
                    session,
                    verification,
                    event=decision.event,
                    now=now,
                    actor_user_id=actor_user_id,
                )
            await session.flush()
            snapshot = await self._snapshot(session, verification, policy)
            return CheckOutcome(result=decision.result, notice=decision.notice, snapshot=snapshot)

    # --- close ------------------------------------------------------------------------------

    async def close(
        self, *, verification_id: str, actor_user_id: str, outcome: Outcome
    ) -> CloseOutcome:
        """The agent's Completed / Incomplete."""
        if outcome is Outcome.VOIDED:
            raise ValueError("a verification is voided with void(), by a supervisor")
        return await self._close(verification_id, actor_user_id, outcome, reason=None)

    async def void(
        self, *, team_id: str, verification_id: str, actor_user_id: str, reason: str
    ) -> CloseOutcome:
        """A supervisor of `team_id` voids an open verification of that workspace (the caller
        checked the role): it closes as Voided, its codes are voided, and everyone watching
        is told who did it and why."""
        return await self._close(
            verification_id, actor_user_id, Outcome.VOIDED, reason=reason, team_id=team_id
        )

    async def _close(
        self,
        verification_id: str,
        actor_user_id: str,
        outcome: Outcome,
        *,
        reason: str | None,
        team_id: str | None = None,
    ) -> CloseOutcome:
        now = self._clock.now()
        async with self._db.transaction() as session:
            verification = await self._get(session, verification_id, for_update=True)
            if outcome is not Outcome.VOIDED:
                require_agent(verification, actor_user_id)
            elif verification.team_id != team_id:
                # Another workspace's verification: as if it did not exist.
                raise VerificationRefused("No such verification.", code=RefusalCode.NOT_FOUND)
            policy = await self._policy(session, verification)
            if not await repo.close_verification(
                session=session, verification_id=verification_id, outcome=outcome.value, at=now
            ):
                await session.refresh(verification)
                return CloseOutcome(
                    already_closed=True,
                    snapshot=await self._snapshot(session, verification, policy),
                )
            await session.refresh(verification)
            noted = await record_close(
                session,
                verification=verification,
                snapshot=await self._snapshot(session, verification, policy),
                policy=policy,
                outcome=outcome,
                actor_user_id=actor_user_id,
                reason=reason,
                watcher=self._watcher,
                now=now,
            )
        if noted:
            self._outbox_written()
        return CloseOutcome(already_closed=False, snapshot=await self.snapshot(verification_id))

    # --- helpers ----------------------------------------------------------------------------

    async def _get(
        self, session: AsyncSession, verification_id: str, *, for_update: bool = False
    ) -> Verification:
        return require_found(
            await repo.get_verification(
                session=session, verification_id=verification_id, for_update=for_update
            )
        )

    async def _policy(self, session: AsyncSession, verification: Verification) -> Policy:
        return await load_policy(
            session=session, team_id=verification.team_id, defaults=self._defaults
        )

    async def _snapshot(
        self, session: AsyncSession, verification: Verification, policy: Policy
    ) -> VerificationSnapshot:
        return await build_snapshot(
            session,
            verification=verification,
            policy=policy,
            now=self._clock.now(),
            tickets_enabled=self._tickets_enabled,
        )
