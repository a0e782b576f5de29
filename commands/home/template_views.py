"""The PIN templates modal: pure Block Kit builders and the parsing of what it submits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.templates import (
    ALLOWED_FILTERS,
    FIELD_MAX_LENGTH,
    MAX_SMS_SEGMENTS,
    TEMPLATE_VARIABLES,
    MessageTemplates,
    TemplateField,
    TemplatePreview,
)
from commands.blocks import escape, slack_time
from commands.ids import ActionId, BlockId, ButtonLabel, CallbackId
from commands.inbound.slack_payloads import BlockActions, ViewSubmission
from commands.inbound.text import control_character
from commands.parsing import PayloadError, read_model, team_of, user_name

FIELD_BLOCKS: dict[TemplateField, BlockId] = {
    TemplateField.SMS: BlockId.TEMPLATE_SMS,
    TemplateField.EMAIL_SUBJECT: BlockId.TEMPLATE_EMAIL_SUBJECT,
    TemplateField.EMAIL_BODY: BlockId.TEMPLATE_EMAIL_BODY,
    TemplateField.EMAIL_HTML: BlockId.TEMPLATE_EMAIL_HTML,
}
_MULTILINE = frozenset({TemplateField.SMS, TemplateField.EMAIL_BODY, TemplateField.EMAIL_HTML})
_PREVIEW_CHARS = 1200
_REVISION = re.compile(r"^[0-9]{1,6}$")


@dataclass(frozen=True)
class TemplateEditor:
    """Everything the modal shows."""

    templates: MessageTemplates
    revision: int = 0
    is_default: bool = True
    updated_by: str | None = None
    updated_at: datetime | None = None
    preview: TemplatePreview | None = None
    problems: Mapping[TemplateField, str] = field(default_factory=dict)
    notice: str | None = None


@dataclass(frozen=True)
class TemplateForm:
    """What the admin typed, and the modal it came from."""

    team_id: str
    user_id: str
    user_name: str
    view_id: str
    view_hash: str
    revision: int
    templates: MessageTemplates
    # Fields holding control characters: refused with this message, never silently changed.
    unreadable: Mapping[TemplateField, str] = field(default_factory=dict)


def block_id(field: TemplateField, revision: int) -> str:
    return f"{FIELD_BLOCKS[field].value}.{revision}"


def error_map(problems: Mapping[TemplateField, str], revision: int) -> dict[str, str]:
    """`response_action: errors` keys are the input block_ids of the modal on screen."""
    return {block_id(field, revision): message for field, message in problems.items()}


def templates_modal(editor: TemplateEditor) -> View:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_intro(editor))),
        SectionBlock(text=MarkdownTextObject(text=_variables_text())),
        ContextBlock(elements=[MarkdownTextObject(text=_rules_text())]),
    ]
    for template_field in TemplateField:
        blocks.append(_input(template_field, editor))
    blocks.append(
        ActionsBlock(
            block_id=BlockId.TEMPLATE_ACTIONS,
            elements=[
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.PREVIEW),
                    action_id=ActionId.TEMPLATES_PREVIEW,
                    style="primary",
                ),
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.SEND_TEST_SMS),
                    action_id=ActionId.TEMPLATES_TEST_SMS,
                ),
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.SEND_TEST_EMAIL),
                    action_id=ActionId.TEMPLATES_TEST_EMAIL,
                ),
                ButtonElement(
                    text=PlainTextObject(text=ButtonLabel.RESET_TEMPLATES),
                    action_id=ActionId.TEMPLATES_RESET,
                    style="danger",
                    confirm=ConfirmObject(
                        title=PlainTextObject(text="Reset to the shipped templates?"),
                        text=MarkdownTextObject(
                            text="The workspace's own templates are deleted now and the next "
                            "code uses the shipped ones. This is audited."
                        ),
                        confirm=PlainTextObject(text="Reset"),
                        deny=PlainTextObject(text="Keep mine"),
                        style="danger",
                    ),
                ),
            ],
        )
    )
    if editor.notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(editor.notice))]))
    if editor.problems:
        lines = "\n".join(
            f"• *{f.label}*: {escape(message)}" for f, message in editor.problems.items()
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"⚠️ *Problems*\n{lines}"[:3000])))
    if editor.preview is not None:
        blocks.append(DividerBlock())
        blocks.extend(_preview_blocks(editor.preview))
    return View(
        type="modal",
        callback_id=CallbackId.EDIT_TEMPLATES,
        title=PlainTextObject(text="PIN templates"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=str(editor.revision),
        blocks=blocks,
    )


def parse_template_form(body: Mapping[str, Any]) -> TemplateForm:
    """The templates modal, from its submission or from a button inside it."""
    payload: ViewSubmission | BlockActions
    if body.get("type") == "view_submission":
        payload = read_model(ViewSubmission, body)
    else:
        payload = read_model(BlockActions, body)
    view = payload.view
    if view is None or view.callback_id != CallbackId.EDIT_TEMPLATES:
        raise PayloadError("this is not the PIN templates form")
    if not _REVISION.match(view.private_metadata or "0"):
        raise PayloadError("the PIN templates form has no revision")
    revision = int(view.private_metadata or "0")
    typed: dict[TemplateField, str | None] = {}
    unreadable: dict[TemplateField, str] = {}
    for template_field in TemplateField:
        block = view.state.values.get(block_id(template_field, revision)) or {}
        entered = block.get(ActionId.TEMPLATE_INPUT)
        value = entered.value if entered is not None else None
        character = control_character(value) if value is not None else None
        if character is not None:
            unreadable[template_field] = (
                f"Contains a control character ({character}) that no message can carry: "
                "delete it (retype the text around it)."
            )
        typed[template_field] = value
    return TemplateForm(
        team_id=team_of(payload) or view.team_id or "",
        user_id=payload.user.id,
        user_name=user_name(payload.user),
        view_id=view.id or "",
        view_hash=view.hash or "",
        revision=revision,
        templates=MessageTemplates(
            sms=typed[TemplateField.SMS] or "",
            email_subject=typed[TemplateField.EMAIL_SUBJECT] or "",
            email_body=typed[TemplateField.EMAIL_BODY] or "",
            email_html=typed[TemplateField.EMAIL_HTML] or None,
        ),
        unreadable=unreadable,
    )


def _input(template_field: TemplateField, editor: TemplateEditor) -> InputBlock:
    initial = editor.templates.source(template_field) or None
    return InputBlock(
        block_id=block_id(template_field, editor.revision),
        label=PlainTextObject(text=template_field.label),
        element=PlainTextInputElement(
            action_id=ActionId.TEMPLATE_INPUT,
            multiline=template_field in _MULTILINE,
            initial_value=initial,
            max_length=FIELD_MAX_LENGTH[template_field],
        ),
        optional=template_field is TemplateField.EMAIL_HTML,
    )


def _intro(editor: TemplateEditor) -> str:
    state = ""
    if editor.is_default:
        state = "These are the shipped templates."
    elif editor.updated_at is not None:
        state = f"Last changed by <@{editor.updated_by}> at {slack_time(editor.updated_at)}."
    return (
        "The messages callers receive with their PIN. *Save* applies to the next code sent; "
        f"every change is audited and announced to supervisors. {state}"
    )


def _variables_text() -> str:
    lines = "\n".join(
        f"• `{{{{ {name} }}}}`: {meaning}" for name, meaning in TEMPLATE_VARIABLES.items()
    )
    return f"*Variables*\n{lines}"


def _rules_text() -> str:
    filters = ", ".join(sorted(ALLOWED_FILTERS))
    return (
        f"Jinja2 text with `{{% if %}}`, comparisons, `~` and the filters {filters}. No "
        "attributes, calls, loops or arithmetic. `{{ code }}` is required in the SMS and "
        f"email bodies; the SMS may use at most {MAX_SMS_SEGMENTS} segments (160/153 "
        "characters each, 70/67 with any character outside GSM-7, such as ’ or an emoji)."
    )


def _preview_blocks(preview: TemplatePreview) -> list[Block]:
    email = preview.email
    html_note = (
        f"\nHTML body: {len(email.html_body)} characters (rendered with HTML escaping)."
        if email.html_body
        else ""
    )
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text="*Preview* with sample data (Jane Doe, Globex, code 482913)\n"
                f"*SMS*: {preview.sms_size.describe()} with long sample values\n"
                f"```{_clip(preview.sms)}```"
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Email subject*: {escape(email.subject)}\n"
                f"```{_clip(email.text_body)}```{html_note}"
            )
        ),
    ]


def _clip(text: str) -> str:
    clipped = text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "…"
    # Backticks would close the code block early.
    return escape(clipped).replace("```", "'''")
