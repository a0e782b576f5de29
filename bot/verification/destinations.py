"""An agent replaces the phone number or email on record for one verification.

Discouraged and policy-controlled: the edit needs a reason (when the policy says so), is
flagged on the card, the supervisors' post and the audit log, and can be turned off. It
changes where the next code goes and nothing else: send counts, attempt counters and the
per-contact failure cap stay as they are, so an edit is never a way round a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.clock import Clock
from bot.delivery import Channel, sms_refusal
from bot.errors import DestinationInvalid, RefusalCode, VerificationRefused
from bot.masking import mask_email, mask_phone
from bot.ownership import require_agent, require_found, require_open
from bot.tickets import DESTINATION_NOT_ON_RECORD
from bot.verification.states import VerificationState
from bot.workspace import Policy, load_policy
from storage import repositories as repo
from storage.db import Database
from storage.models import Verification

MAX_REASON_CHARS = 500


class EditField(StrEnum):
    VALUE = "value"
    REASON = "reason"


@dataclass(frozen=True)
class EditForm:
    """What the edit modal shows: the value on record (masked) and whether a reason is needed."""

    verification_id: str
    channel: Channel
    masked_current: str | None
    reason_required: bool


class DestinationEditor:
    def __init__(self, *, db: Database, clock: Clock, defaults: Policy, region: str) -> None:
        self._db = db
        self._clock = clock
        self._defaults = defaults
        self._region = region

    async def form(self, *, verification_id: str, actor_user_id: str, channel: Channel) -> EditForm:
        """Check the edit may start (raises VerificationRefused, audited) and describe it."""
        try:
            async with self._db.transaction() as session:
                verification, policy = await self._editable(session, verification_id, actor_user_id)
        except VerificationRefused as refusal:
            await self._audit_refusal(verification_id, actor_user_id, channel, refusal)
            raise
        current = verification.phone_e164 if channel is Channel.SMS else verification.email
        masked = None
        if current:
            masked = mask_phone(current) if channel is Channel.SMS else mask_email(current)
        return EditForm(verification_id, channel, masked, policy.require_edit_reason)

    async def edit(
        self,
        *,
        verification_id: str,
        actor_user_id: str,
        channel: Channel,
        value: str,
        reason: str | None,
    ) -> None:
        """Record the new destination; raises DestinationInvalid or VerificationRefused."""
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                verification, policy = await self._editable(
                    session, verification_id, actor_user_id, for_update=True
                )
                clean_reason = (reason or "").strip()
                if policy.require_edit_reason and not clean_reason:
                    raise DestinationInvalid(
                        EditField.REASON,
                        "A reason is required: why is the destination on record not usable?",
                    )
                if len(clean_reason) > MAX_REASON_CHARS:
                    raise DestinationInvalid(
                        EditField.REASON, f"Keep the reason under {MAX_REASON_CHARS} characters."
                    )
                if channel is Channel.SMS:
                    new = self._phone(value, policy)
                    old, verification.phone_e164 = verification.phone_e164, new
                    verification.phone_edited = True
                    masked_old, masked_new = mask_phone(old) if old else None, mask_phone(new)
                else:
                    new = self._email(value)
                    old, verification.email = verification.email, new
                    verification.email_edited = True
                    masked_old, masked_new = mask_email(old) if old else None, mask_email(new)
                if old == new:
                    raise DestinationInvalid(
                        EditField.VALUE, f"That is already the {_noun(channel)} on record."
                    )
                verification.edit_reason = clean_reason or None
                verification.destination_edited_at = now
                repo.append_audit_event(
                    session=session,
                    team_id=verification.team_id,
                    verification_id=verification_id,
                    actor_user_id=actor_user_id,
                    kind=AuditKind.DESTINATION_EDITED,
                    at=now,
                    detail={
                        "channel": channel.value,
                        "old": masked_old,
                        "new": masked_new,
                        "reason": clean_reason or None,
                        "flag": DESTINATION_NOT_ON_RECORD,
                    },
                )
        except VerificationRefused as refusal:
            await self._audit_refusal(verification_id, actor_user_id, channel, refusal)
            raise

    async def _editable(
        self,
        session: AsyncSession,
        verification_id: str,
        actor: str,
        *,
        for_update: bool = False,
    ) -> tuple[Verification, Policy]:
        verification = require_found(
            await repo.get_verification(
                session=session, verification_id=verification_id, for_update=for_update
            )
        )
        require_agent(verification, actor)
        policy = await load_policy(
            session=session, team_id=verification.team_id, defaults=self._defaults
        )
        if not policy.allow_destination_edits:
            raise VerificationRefused(
                "Destination edits are turned off for this workspace: codes go only to the "
                "phone number and email on record.",
                code=RefusalCode.EDITS_DISABLED,
            )
        require_open(verification)
        if verification.state in (VerificationState.VERIFIED, VerificationState.LOCKED):
            raise VerificationRefused(
                f"This verification is {verification.state}: the destination can no longer change.",
                code=RefusalCode(verification.state),
            )
        return verification, policy

    def _phone(self, value: str, policy: Policy) -> str:
        try:
            number = phonenumbers.parse(value.strip(), self._region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise DestinationInvalid(
                EditField.VALUE,
                f"Not a valid phone number (numbers without +country code are read as "
                f"{self._region}).",
            )
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        # The same rules a send applies (mobile-capable, allowed country), so an edit is never
        # accepted only for the send to refuse it.
        refusal = sms_refusal(
            e164,
            default_region=self._region,
            allowed_regions=policy.sms_allowed_countries,
            described_as="That number",
        )
        if refusal is not None:
            raise DestinationInvalid(EditField.VALUE, refusal)
        return e164

    @staticmethod
    def _email(value: str) -> str:
        try:
            return validate_email(value.strip(), check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise DestinationInvalid(EditField.VALUE, f"Not a valid email address: {exc}") from exc

    async def _audit_refusal(
        self, verification_id: str, actor: str, channel: Channel, refusal: VerificationRefused
    ) -> None:
        async with self._db.transaction() as session:
            verification = await repo.get_verification(
                session=session, verification_id=verification_id
            )
            repo.append_audit_event(
                session=session,
                team_id=verification.team_id if verification else "",
                verification_id=verification_id if verification else None,
                actor_user_id=actor,
                kind=AuditKind.DESTINATION_EDIT_REFUSED,
                at=self._clock.now(),
                detail={"channel": channel.value, "reason": refusal.code},
            )


def _noun(channel: Channel) -> str:
    return "phone number" if channel is Channel.SMS else "email address"


def destination_edited(verification: Verification, channel: str | None = None) -> bool:
    """Whether the agent typed in the destination for `channel` (for either when None)."""
    if channel == Channel.SMS:
        return verification.phone_edited
    if channel == Channel.EMAIL:
        return verification.email_edited
    return verification.phone_edited or verification.email_edited
