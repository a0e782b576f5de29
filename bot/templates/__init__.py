"""The SMS and email messages admins edit: rendering in Jinja's immutable sandbox, the allowed
language, the checks before saving, the per-workspace store and test sends."""

from __future__ import annotations

from bot.templates.rendering import (
    MessageContext,
    MessageRenderer,
    MessageTemplates,
    TemplateField,
    default_templates,
    render_outgoing,
)
from bot.templates.rules import ALLOWED_FILTERS, TEMPLATE_VARIABLES
from bot.templates.service import TemplateService, TemplatesInvalid, load_templates
from bot.templates.validation import FIELD_MAX_LENGTH, MAX_SMS_SEGMENTS, TemplatePreview

__all__ = [
    "ALLOWED_FILTERS",
    "FIELD_MAX_LENGTH",
    "MAX_SMS_SEGMENTS",
    "TEMPLATE_VARIABLES",
    "MessageContext",
    "MessageRenderer",
    "MessageTemplates",
    "TemplateField",
    "TemplatePreview",
    "TemplateService",
    "TemplatesInvalid",
    "default_templates",
    "load_templates",
    "render_outgoing",
]
