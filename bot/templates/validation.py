"""Checks an admin's templates before they are saved, and renders the preview.

Each problem is reported against the field it is in, so the editor can show it under that
input: syntax errors with their line, constructs outside the allowlist (bot/template_rules),
`{{ code }}` missing, an SMS over the segment limit, and anything that fails to render with
sample data (the sandbox's own refusals included).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import TemplateError
from jinja2.exceptions import SecurityError

from bot.templates.rendering import (
    MessageContext,
    MessageRenderer,
    MessageTemplates,
    RenderedEmail,
    TemplateField,
    message_environment,
)
from bot.templates.rules import TemplateRefused, has_top_level_code, require_allowed
from providers.sms.segments import SmsSegments, count_segments

MAX_SMS_SEGMENTS = 3
MAX_SUBJECT_CHARS = 200
# What the editor's inputs accept (Slack's plain_text_input allows at most 3000).
FIELD_MAX_LENGTH = {
    TemplateField.SMS: 1000,
    TemplateField.EMAIL_SUBJECT: 250,
    TemplateField.EMAIL_BODY: 3000,
    TemplateField.EMAIL_HTML: 3000,
}
NEEDS_CODE = frozenset({TemplateField.SMS, TemplateField.EMAIL_BODY, TemplateField.EMAIL_HTML})
SAMPLE_CODE = "482913"
# Sizes are measured with long values, so a real caller's message is not longer than the check.
LONG_SAMPLE_CODE = "4829137150"
LONG_CONTACT = "Maximilian Featherstonehaugh-Smythe"
LONG_COMPANY = "Northwind Traders International"
LONG_AGENT = "Christopher Montgomery"


@dataclass(frozen=True)
class TemplatePreview:
    sms: str
    sms_size: SmsSegments  # measured on the long sample
    email: RenderedEmail


@dataclass(frozen=True)
class TemplateCheck:
    errors: dict[TemplateField, str]
    preview: TemplatePreview | None  # None when any field has an error

    @property
    def ok(self) -> bool:
        return not self.errors


def sample_context(
    *, organisation: str, agent_name: str, expiry_minutes: int, long: bool = False
) -> MessageContext:
    return MessageContext(
        code=LONG_SAMPLE_CODE if long else SAMPLE_CODE,
        contact_name=LONG_CONTACT if long else "Jane Doe",
        company=LONG_COMPANY if long else "Globex",
        agent_name=max(agent_name or "Alex", LONG_AGENT, key=len) if long else agent_name or "Alex",
        organisation=organisation,
        expiry_minutes=expiry_minutes,
    )


def check_templates(
    templates: MessageTemplates,
    *,
    renderer: MessageRenderer,
    organisation: str,
    agent_name: str,
    expiry_minutes: int,
) -> TemplateCheck:
    sample = sample_context(
        organisation=organisation, agent_name=agent_name, expiry_minutes=expiry_minutes
    )
    long_sample = sample_context(
        organisation=organisation, agent_name=agent_name, expiry_minutes=expiry_minutes, long=True
    )
    errors: dict[TemplateField, str] = {}
    for field in TemplateField:
        error = _check_field(field, templates.source(field), renderer, sample, long_sample)
        if error is not None:
            errors[field] = error
    if errors:
        return TemplateCheck(errors=errors, preview=None)
    return TemplateCheck(
        errors={},
        preview=TemplatePreview(
            sms=renderer.render_sms(templates, sample),
            sms_size=count_segments(renderer.render_sms(templates, long_sample)),
            email=renderer.render_email(templates, sample),
        ),
    )


def _check_field(
    field: TemplateField,
    source: str | None,
    renderer: MessageRenderer,
    sample: MessageContext,
    long_sample: MessageContext,
) -> str | None:
    if source is None or not source.strip():
        return None if field is TemplateField.EMAIL_HTML else "This template is required."
    if len(source) > FIELD_MAX_LENGTH[field]:
        return f"Too long: {len(source)} characters (at most {FIELD_MAX_LENGTH[field]})."
    html = field is TemplateField.EMAIL_HTML
    try:
        tree = require_allowed(message_environment(html=html), source)
    except TemplateRefused as refused:
        return str(refused.problem)
    if field in NEEDS_CODE and not has_top_level_code(tree):
        return "`{{ code }}` is missing: the message must print the code (outside any {% if %})."
    try:
        rendered = _render(renderer, source, sample, html=html)
        rendered_long = _render(renderer, source, long_sample, html=html)
    except SecurityError as exc:
        return f"Refused by the template sandbox: {exc}"[:300]
    except (TemplateError, TypeError, ValueError) as exc:
        return f"Could not render with sample data: {exc}"[:300]
    if field in NEEDS_CODE and (
        sample.code not in rendered or long_sample.code not in rendered_long
    ):
        return "`{{ code }}` must print the code unchanged (no filter that alters it)."
    if field is TemplateField.SMS:
        size = count_segments(rendered_long)
        if size.segments > MAX_SMS_SEGMENTS:
            hint = ""
            if size.non_gsm_characters:
                shown = " ".join(repr(ch) for ch in size.non_gsm_characters)
                hint = f" {shown} is not in the GSM-7 alphabet, which cuts segments to 70/67."
            return (
                f"Too long for SMS: {size.describe()} with long sample values; at most "
                f"{MAX_SMS_SEGMENTS} segments.{hint}"
            )
    if field is TemplateField.EMAIL_SUBJECT:
        subject = " ".join(rendered_long.split())
        if len(subject) > MAX_SUBJECT_CHARS:
            return f"Subject too long: {len(subject)} characters with long sample values."
    return None


def _render(renderer: MessageRenderer, source: str, context: MessageContext, *, html: bool) -> str:
    return renderer.render_html(source, context) if html else renderer.render_text(source, context)
