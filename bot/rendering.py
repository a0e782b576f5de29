"""SMS and email bodies from Jinja2 templates, rendered in the immutable sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_DIR = Path(__file__).parent / "templates"

# The names a template may use; admins will see this list when editing templates.
TEMPLATE_VARIABLES = (
    "code",
    "contact_first_name",
    "contact_name",
    "company",
    "agent_name",
    "organisation",
    "expiry_minutes",
)


@dataclass(frozen=True)
class MessageTemplates:
    sms: str
    email_subject: str
    email_body: str
    # Optional: without it the email is plain text only.
    email_html: str | None = None


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
    html: str | None = None


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


class MessageRenderer:
    """Renders templates; caller data only ever arrives as variables, never as template text."""

    def __init__(self) -> None:
        # No HTML autoescape: SMS and plain-text email are not HTML, and entities would
        # reach the caller's phone verbatim.
        self._env = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        # The HTML part is HTML: a contact named "<script>" must arrive as text.
        self._html_env = ImmutableSandboxedEnvironment(
            undefined=StrictUndefined, autoescape=True, keep_trailing_newline=False
        )

    def render_sms(self, templates: MessageTemplates, context: MessageContext) -> str:
        return self._render(templates.sms, context)

    def render_email(self, templates: MessageTemplates, context: MessageContext) -> RenderedEmail:
        subject = " ".join(self._render(templates.email_subject, context).split())
        html = None
        if templates.email_html is not None:
            html = self._render(templates.email_html, context, env=self._html_env)
        return RenderedEmail(
            subject=subject, text_body=self._render(templates.email_body, context), html=html
        )

    def _render(
        self,
        source: str,
        context: MessageContext,
        *,
        env: ImmutableSandboxedEnvironment | None = None,
    ) -> str:
        return (env or self._env).from_string(source).render(context.variables()).strip()
