"""Per-workspace message templates: load for sending, save, reset, and send an admin a test.

Saving validates again here (the modal validated already, but the domain never trusts its
caller), writes one audit event per changed template with the old and new text and, in the
same transaction, the supervisors' announcement (the Settings modal's outbox kind).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import AuditKind
from bot.clock import Clock
from bot.delivery import Channel, Providers, sms_refusal
from bot.errors import TemplateTestRefused, VerificationRefused
from bot.masking import mask_destination
from bot.outbox import OutboxKind, PolicyAnnouncement, SettingChangeLine, channel_pace_key
from bot.templates.rendering import MessageRenderer, MessageTemplates, TemplateField
from bot.templates.validation import TemplateCheck, check_templates, sample_context
from bot.workspace import Policy, load_policy
from providers.email import EmailMessage
from providers.errors import DeliveryError
from providers.sms import SmsMessage
from storage import repositories as repo
from storage.db import Database
from storage.models import MessageTemplateSet

log = logging.getLogger(__name__)


_ANNOUNCED_CHARS = 120
# Tests cost what codes cost: a stolen admin session must not become an SMS pump.
TESTS_PER_HOUR = 10
TEST_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class StoredTemplates:
    templates: MessageTemplates
    is_default: bool
    updated_by: str | None
    updated_at: datetime | None


class TemplatesInvalid(Exception):
    def __init__(self, check: TemplateCheck) -> None:
        super().__init__("templates refused")
        self.check = check


async def load_templates(
    *, session: AsyncSession, team_id: str, defaults: MessageTemplates
) -> MessageTemplates:
    """The workspace's saved templates, or the shipped ones."""
    row = await repo.get_message_templates(session=session, team_id=team_id)
    if row is None:
        return defaults
    return MessageTemplates(
        sms=row.sms,
        email_subject=row.email_subject,
        email_body=row.email_body,
        email_html=row.email_html,
    )


class TemplateService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        renderer: MessageRenderer,
        defaults: MessageTemplates,
        policy_defaults: Policy,
        organisation: str,
        providers: Providers,
        default_region: str,
        announce: bool = False,
        outbox_written: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._renderer = renderer
        self._defaults = defaults
        self._policy_defaults = policy_defaults
        self._organisation = organisation
        # Tests go through the provider the workspace sends codes with (Settings), like codes.
        self._providers = providers
        self._region = default_region
        # Post admin changes to the supervisors' channel (as Settings changes are); False:
        # audit only.
        self._announce_changes = announce
        self._outbox_written = outbox_written

    @property
    def defaults(self) -> MessageTemplates:
        return self._defaults

    async def current(self, *, team_id: str) -> StoredTemplates:
        async with self._db.transaction() as session:
            row = await repo.get_message_templates(session=session, team_id=team_id)
            templates = await load_templates(
                session=session, team_id=team_id, defaults=self._defaults
            )
        return StoredTemplates(
            templates=templates,
            is_default=row is None,
            updated_by=row.updated_by if row else None,
            updated_at=row.updated_at if row else None,
        )

    async def check(
        self, *, team_id: str, templates: MessageTemplates, agent_name: str
    ) -> TemplateCheck:
        async with self._db.transaction() as session:
            policy = await self._policy(session, team_id)
        return self._check(templates, agent_name, policy)

    def _check(self, templates: MessageTemplates, agent_name: str, policy: Policy) -> TemplateCheck:
        return check_templates(
            templates,
            renderer=self._renderer,
            organisation=self._organisation,
            agent_name=agent_name,
            expiry_minutes=max(policy.code_ttl_seconds // 60, 1),
        )

    async def save(
        self, *, team_id: str, actor_user_id: str, templates: MessageTemplates, agent_name: str
    ) -> list[TemplateField]:
        """Validate and store; returns the templates that changed (raises TemplatesInvalid)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            check = self._check(templates, agent_name, await self._policy(session, team_id))
            if not check.ok:
                raise TemplatesInvalid(check)
            old = await load_templates(session=session, team_id=team_id, defaults=self._defaults)
            html = (
                templates.email_html
                if templates.email_html and templates.email_html.strip()
                else None
            )
            new = MessageTemplates(
                sms=templates.sms.strip(),
                email_subject=templates.email_subject.strip(),
                email_body=templates.email_body.strip(),
                email_html=html.strip() if html else None,
            )
            changed = _changed(old, new)
            if not changed:
                return []
            row = await repo.get_message_templates(session=session, team_id=team_id)
            if row is None:
                row = MessageTemplateSet(
                    team_id=team_id,
                    sms=new.sms,
                    email_subject=new.email_subject,
                    email_body=new.email_body,
                    email_html=new.email_html,
                    updated_by=actor_user_id,
                    updated_at=now,
                )
                session.add(row)
            else:
                row.sms, row.email_subject = new.sms, new.email_subject
                row.email_body, row.email_html = new.email_body, new.email_html
                row.updated_by, row.updated_at = actor_user_id, now
            self._audit_changes(
                session, team_id, actor_user_id, AuditKind.TEMPLATES_CHANGED, old, new, now
            )
            announced = await self._announce(session, team_id, actor_user_id, old, new, now)
        if announced:
            self._outbox_written()
        return changed

    async def reset(self, *, team_id: str, actor_user_id: str) -> list[TemplateField]:
        """Back to the shipped templates (the row goes, so future shipped updates apply)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            old = await load_templates(session=session, team_id=team_id, defaults=self._defaults)
            if not await repo.delete_message_templates(session=session, team_id=team_id):
                return []
            changed = _changed(old, self._defaults)
            self._audit_changes(
                session, team_id, actor_user_id, AuditKind.TEMPLATES_RESET, old, self._defaults, now
            )
            announced = await self._announce(
                session, team_id, actor_user_id, old, self._defaults, now
            )
        if announced:
            self._outbox_written()
        return changed

    async def send_test(
        self,
        *,
        team_id: str,
        actor_user_id: str,
        agent_name: str,
        templates: MessageTemplates,
        channel: Channel,
        destination: str,
    ) -> str:
        """Render `templates` with sample data and send them to the admin's own `destination`;
        returns the masked destination. Raises TemplatesInvalid, or TemplateTestRefused (also
        when the provider refused the message)."""
        async with self._db.transaction() as session:
            policy = await self._policy(session, team_id)
            recent = await repo.count_recent_audit_events(
                session=session,
                team_id=team_id,
                kind=AuditKind.TEMPLATE_TEST_SENT,
                actor_user_id=actor_user_id,
                since=self._clock.now() - TEST_WINDOW,
            )
        if recent >= TESTS_PER_HOUR:
            raise TemplateTestRefused(
                f"You sent {recent} test messages in the last hour (limit {TESTS_PER_HOUR}); "
                "try again later."
            )
        if channel is Channel.SMS:
            # The same destination rules as codes: the country allow-list stops SMS pumping.
            refusal = sms_refusal(
                destination,
                default_region=self._region,
                allowed_regions=policy.sms_allowed_countries,
                described_as="The phone number on your Slack profile",
            )
            if refusal is not None:
                raise TemplateTestRefused(refusal)
        check = self._check(templates, agent_name, policy)
        if not check.ok:
            raise TemplatesInvalid(check)
        context = sample_context(
            organisation=self._organisation,
            agent_name=agent_name,
            expiry_minutes=max(policy.code_ttl_seconds // 60, 1),
        )
        key = f"template-test:{uuid.uuid4().hex}"
        masked = mask_destination(channel.value, destination)
        try:
            if channel is Channel.SMS:
                await self._providers.sms_sender(policy.sms_provider).send(
                    SmsMessage(
                        to=destination,
                        body=self._renderer.render_sms(templates, context),
                        idempotency_key=key,
                    )
                )
            else:
                rendered = self._renderer.render_email(templates, context)
                await self._providers.email_sender(policy.email_provider).send(
                    EmailMessage(
                        to=destination,
                        subject=f"[Test] {rendered.subject}",
                        text_body=rendered.text_body,
                        html_body=rendered.html_body,
                        idempotency_key=key,
                    )
                )
        except VerificationRefused as refusal:  # the workspace's provider is not set up here
            raise TemplateTestRefused(refusal.message) from None
        except DeliveryError as exc:
            await self._audit(
                team_id,
                actor_user_id,
                AuditKind.TEMPLATE_TEST_FAILED,
                {"channel": channel.value, "destination": masked, "reason": exc.reason.value},
            )
            raise TemplateTestRefused(f"Test {channel.label} not sent: {exc.message}") from exc
        await self._audit(
            team_id,
            actor_user_id,
            AuditKind.TEMPLATE_TEST_SENT,
            {"channel": channel.value, "destination": masked},
        )
        return masked

    async def _audit(self, team_id: str, actor: str, kind: str, detail: dict[str, object]) -> None:
        async with self._db.transaction() as session:
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                actor_user_id=actor,
                kind=kind,
                at=self._clock.now(),
                detail=detail,
            )

    async def _policy(self, session: AsyncSession, team_id: str) -> Policy:
        return await load_policy(session=session, team_id=team_id, defaults=self._policy_defaults)

    @staticmethod
    def _audit_changes(
        session: AsyncSession,
        team_id: str,
        actor: str,
        kind: str,
        old: MessageTemplates,
        new: MessageTemplates,
        at: datetime,
    ) -> None:
        # Templates hold no secrets: the full old and new text is the useful record.
        for field in _changed(old, new):
            repo.append_audit_event(
                session=session,
                team_id=team_id,
                actor_user_id=actor,
                kind=kind,
                at=at,
                detail={
                    "template": field.value,
                    "old": old.source(field),
                    "new": new.source(field),
                },
            )

    async def _announce(
        self,
        session: AsyncSession,
        team_id: str,
        actor: str,
        old: MessageTemplates,
        new: MessageTemplates,
        at: datetime,
    ) -> bool:
        """The supervisors' post about the change, written with it (False: no channel)."""
        channel = (await self._policy(session, team_id)).supervisor_channel
        changed = _changed(old, new)
        if not channel or not changed or not self._announce_changes:
            return False
        lines = tuple(
            SettingChangeLine(
                setting=f"{field.label} template",
                old=_quoted(old.source(field)),
                new=_quoted(new.source(field)),
            )
            for field in changed
        )
        repo.add_outbox_message(
            session=session,
            kind=OutboxKind.POLICY_ANNOUNCEMENT,
            dedupe_key=f"{OutboxKind.POLICY_ANNOUNCEMENT}:templates:{uuid.uuid4().hex}",
            payload=PolicyAnnouncement(
                channel=channel,
                actor_user_id=actor,
                changes=lines,
                subject="templates",
                team_id=team_id,
            ).to_row(),
            at=at,
            pace_key=channel_pace_key(channel),
        )
        return True


def _changed(old: MessageTemplates, new: MessageTemplates) -> list[TemplateField]:
    return [
        field
        for field in TemplateField
        if (old.source(field) or None) != (new.source(field) or None)
    ]


def _quoted(source: str | None) -> str:
    """A template's start for a channel post: one line, plain words (the edge escapes)."""
    if not source:
        return "none"
    line = " ↵ ".join(part.strip() for part in source.strip().splitlines() if part.strip())
    if len(line) > _ANNOUNCED_CHARS:
        line = line[:_ANNOUNCED_CHARS] + "…"
    return f"“{line}”"
