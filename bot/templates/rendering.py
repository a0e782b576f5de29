"""SMS and email bodies from Jinja2 templates, rendered in the immutable sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.delivery import Channel
from bot.templates.rules import TEMPLATE_VARIABLES, require_allowed
from providers.email import EmailMessage
from providers.sms import SmsMessage
from providers.sms.segments import count_segments
from storage.models import CodeSend

TEMPLATE_DIR = Path(__file__).parent / "defaults"
_CACHE_LIMIT = 256

__all__ = [
    "TEMPLATE_VARIABLES",
    "MessageContext",
    "MessageRenderer",
    "MessageTemplates",
    "RenderedEmail",
    "TemplateField",
    "default_templates",
]


class TemplateField(StrEnum):
    SMS = "sms"
    EMAIL_SUBJECT = "email_subject"
    EMAIL_BODY = "email_body"
    EMAIL_HTML = "email_html"

    @property
    def label(self) -> str:
        return {
            TemplateField.SMS: "SMS body",
            TemplateField.EMAIL_SUBJECT: "Email subject",
            TemplateField.EMAIL_BODY: "Email body (plain text)",
            TemplateField.EMAIL_HTML: "Email HTML body (optional)",
        }[self]


@dataclass(frozen=True)
class MessageTemplates:
    sms: str
    email_subject: str
    email_body: str
    email_html: str | None = None

    def source(self, field: TemplateField) -> str | None:
        value: str | None = getattr(self, field.value)
        return value


@dataclass(frozen=True)
class MessageContext:
    code: str
    contact_name: str
    company: str
    agent_name: str
    organisation: str
    expiry_minutes: int

    def variables(self) -> dict[str, object]:
        first = self.contact_name.split()[0] if self.contact_name.split() else self.contact_name
        return {
            "code": self.code,
            "contact_first_name": first,
            "contact_name": self.contact_name,
            "company": self.company,
            "agent_name": self.agent_name,
            "organisation": self.organisation,
            "expiry_minutes": self.expiry_minutes,
        }


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text_body: str
    html_body: str | None = None


def default_templates() -> MessageTemplates:
    def read(name: str) -> str:
        return (TEMPLATE_DIR / name).read_text(encoding="utf-8").strip()

    html = TEMPLATE_DIR / "email_body.html.j2"
    return MessageTemplates(
        sms=read("sms.txt.j2"),
        email_subject=read("email_subject.txt.j2"),
        email_body=read("email_body.txt.j2"),
        email_html=read(html.name) if html.exists() else None,
    )


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with every call refused: the allowlist already forbids calls,
    and this keeps a template that somehow slipped past it from calling anything."""

    def is_safe_callable(self, obj: Any) -> bool:
        return False


def message_environment(*, html: bool) -> MessageSandbox:
    # SMS and plain-text email are not HTML: entities would reach the caller verbatim. The
    # HTML body escapes every variable, so a contact name cannot inject markup.
    return MessageSandbox(undefined=StrictUndefined, autoescape=html, keep_trailing_newline=False)


class MessageRenderer:
    """Renders templates; caller data only ever arrives as variables, never as template text.

    Every source is checked against the template allowlist before it is compiled, so a
    template that was never validated (or was written to the database by hand) cannot run.
    """

    def __init__(self) -> None:
        self._text_env = message_environment(html=False)
        self._html_env = message_environment(html=True)
        self._compiled: dict[tuple[bool, str], Template] = {}

    def render_sms(self, templates: MessageTemplates, context: MessageContext) -> str:
        return self.render_text(templates.sms, context)

    def render_email(self, templates: MessageTemplates, context: MessageContext) -> RenderedEmail:
        subject = " ".join(self.render_text(templates.email_subject, context).split())
        html = (
            self.render_html(templates.email_html, context)
            if templates.email_html and templates.email_html.strip()
            else None
        )
        return RenderedEmail(
            subject=subject,
            text_body=self.render_text(templates.email_body, context),
            html_body=html,
        )

    def render_text(self, source: str, context: MessageContext) -> str:
        return self._template(source, html=False).render(context.variables()).strip()

    def render_html(self, source: str, context: MessageContext) -> str:
        return self._template(source, html=True).render(context.variables()).strip()

    def _template(self, source: str, *, html: bool) -> Template:
        key = (html, source)
        template = self._compiled.get(key)
        if template is None:
            env = self._html_env if html else self._text_env
            require_allowed(env, source)  # raises TemplateRefused
            if len(self._compiled) >= _CACHE_LIMIT:
                self._compiled.clear()
            template = self._compiled[key] = env.from_string(source)
        return template


def render_outgoing(
    renderer: MessageRenderer, templates: MessageTemplates, send: CodeSend, context: MessageContext
) -> tuple[SmsMessage | EmailMessage, dict[str, object]]:
    """The message for `send`, and what the audit log keeps about its shape (never the text):
    an SMS's encoding and segment count, whether an email has an HTML part."""
    # One key per (verification, send number): every retry of this send reuses it.
    key = f"{send.verification_id}:{send.seq}"
    if send.channel == Channel.SMS:
        body = renderer.render_sms(templates, context)
        segments = count_segments(body)
        shape: dict[str, object] = {
            "encoding": segments.encoding.value,
            "segments": segments.segments,
        }
        return SmsMessage(to=send.destination, body=body, idempotency_key=key), shape
    rendered = renderer.render_email(templates, context)
    message = EmailMessage(
        to=send.destination,
        subject=rendered.subject,
        text_body=rendered.text_body,
        html_body=rendered.html_body,
        idempotency_key=key,
    )
    return message, {"html": rendered.html_body is not None}
