"""The admins' Settings modal: pure Block Kit builders, prefilled from the policy."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import InputInteractiveElement
from slack_sdk.models.views import View

from bot.workspace import (
    CODE_LENGTH_RANGE,
    CODE_TTL_MINUTES_RANGE,
    EVERYONE,
    MAX_ATTEMPTS_RANGE,
    NOBODY,
    Policy,
    SettingsChoices,
)
from commands.ids import CallbackId, SettingsField

MAX_GROUP_OPTIONS = 99  # a static select holds 100 options; one is "Everyone"


ON_OFF = (("on", "On"), ("off", "Off"))


def settings_modal(policy: Policy, choices: SettingsChoices) -> View:
    """The Settings form, prefilled with the workspace's current policy."""
    blocks: list[Block] = [
        _input(
            SettingsField.REQUIRE_TICKET,
            "Require a ticket",
            _radio(SettingsField.REQUIRE_TICKET, ON_OFF, _on_off(policy.require_ticket)),
            hint="On: agents must give a ticket number so the result is noted on the ticket.",
        ),
        _input(
            SettingsField.CODE_LENGTH,
            "Code length (digits)",
            _number(SettingsField.CODE_LENGTH, policy.code_length, CODE_LENGTH_RANGE),
            hint="6 to 10 digits. Safe: 6 or more.",
        ),
        _input(
            SettingsField.CODE_TTL_MINUTES,
            "Code lifetime (minutes)",
            _number(
                SettingsField.CODE_TTL_MINUTES,
                max(policy.code_ttl_seconds // 60, 1),
                CODE_TTL_MINUTES_RANGE,
            ),
            hint="1 to 30 minutes. Safe: 10 or less.",
        ),
        _input(
            SettingsField.MAX_ATTEMPTS,
            "Wrong checks before lock",
            _number(SettingsField.MAX_ATTEMPTS, policy.max_attempts, MAX_ATTEMPTS_RANGE),
            hint="1 to 10. Safe: 5 or less.",
        ),
        _input(
            SettingsField.ALLOW_DESTINATION_EDITS,
            "Allow destination edits",
            _radio(
                SettingsField.ALLOW_DESTINATION_EDITS,
                ON_OFF,
                _on_off(policy.allow_destination_edits),
            ),
            hint="On: agents may send a code to a number or address not on record.",
        ),
        _input(
            SettingsField.REQUIRE_EDIT_REASON,
            "Require a reason for destination edits",
            _radio(SettingsField.REQUIRE_EDIT_REASON, ON_OFF, _on_off(policy.require_edit_reason)),
            hint="Safe: On. The reason goes to the card, the ticket note and the supervisors.",
        ),
        _input(
            SettingsField.CODE_IN_TICKET_NOTE,
            "Code in the ticket note",
            _radio(
                SettingsField.CODE_IN_TICKET_NOTE,
                (("include", "Include"), ("omit", "Omit")),
                policy.code_in_ticket_note,
            ),
            hint="Safe: Omit. Anyone who can read the ticket reads an included code.",
        ),
        _input(
            SettingsField.SHOW_CODE_TO_AGENT,
            "Show the code to the agent",
            _radio(SettingsField.SHOW_CODE_TO_AGENT, ON_OFF, _on_off(policy.show_code_to_agent)),
            hint="Safe: Off. On shows the code on the agent's own card (their DM), never in "
            "a channel.",
        ),
        _input(
            SettingsField.SUPERVISOR_CHANNEL,
            "Supervisors' channel",
            ConversationSelectElement(
                action_id=SettingsField.SUPERVISOR_CHANNEL,
                placeholder="Pick a channel",
                initial_conversation=policy.supervisor_channel,
                filter=ConversationFilter(
                    include=["public", "private"],
                    exclude_bot_users=True,
                    exclude_external_shared_channels=True,
                ),
            ),
            hint="Invite @PIN Verify to a private channel first. Settings changes are "
            "announced there too.",
            optional=True,
        ),
        _input(
            SettingsField.AGENT_USERGROUP,
            "Who may verify",
            _usergroup_select(policy, choices),
            hint="Safe: a user group of your help-desk agents. Admins may always verify."
            + ("" if choices.usergroups_listed else " (Slack did not list the user groups.)"),
        ),
        _input(
            SettingsField.SUPERVISOR_USERGROUP,
            "Supervisors",
            _group_select(
                SettingsField.SUPERVISOR_USERGROUP,
                policy.supervisor_usergroup,
                choices,
                none=(NOBODY, "No supervisors' group (admins only)"),
            ),
            hint="Who sees the supervisors' figures on Home and may void a verification; "
            "alerts mention this group. Admins always may.",
        ),
        _input(
            SettingsField.DIGEST,
            "Supervisors' digest",
            _radio(
                SettingsField.DIGEST,
                [("off", "Off"), ("daily", "Daily"), ("weekly", "Weekly (Mondays)")],
                policy.digest,
            ),
            hint="The figures and a chart, posted to the supervisors' channel after midnight.",
        ),
        _input(
            SettingsField.SMS_PROVIDER,
            "SMS provider",
            _static(SettingsField.SMS_PROVIDER, choices.sms_providers, policy.sms_provider),
            hint="The providers configured on the server. Never console in production.",
        ),
        _input(
            SettingsField.EMAIL_PROVIDER,
            "Email provider",
            _static(SettingsField.EMAIL_PROVIDER, choices.email_providers, policy.email_provider),
            hint="The providers configured on the server. Never console in production.",
        ),
        _input(
            SettingsField.SMS_ALLOWED_COUNTRIES,
            "SMS allowed countries",
            PlainTextInputElement(
                action_id=SettingsField.SMS_ALLOWED_COUNTRIES,
                initial_value=", ".join(policy.sms_allowed_countries),
                placeholder="US, CA",
                max_length=300,
            ),
            hint="Two-letter country codes, comma-separated. Safe: only where your callers "
            "are (blocks SMS pumping to premium destinations).",
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.SETTINGS,
        title=PlainTextObject(text="PIN Verify settings"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    )


def _input(
    field: SettingsField,
    label: str,
    element: InputInteractiveElement,
    *,
    hint: str,
    optional: bool = False,
) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=PlainTextObject(text=label),
        element=element,
        hint=PlainTextObject(text=hint),
        optional=optional,
    )


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=PlainTextObject(text=text[:75]))


def _radio(
    field: SettingsField, options: Sequence[tuple[str, str]], current: str
) -> RadioButtonsElement:
    built = [_option(value, text) for value, text in options]
    initial = next((option for option in built if option.value == current), None)
    return RadioButtonsElement(action_id=field, options=built, initial_option=initial)


def _number(field: SettingsField, current: int, bounds: tuple[int, int]) -> NumberInputElement:
    return NumberInputElement(
        action_id=field,
        is_decimal_allowed=False,
        initial_value=str(current),
        min_value=str(bounds[0]),
        max_value=str(bounds[1]),
    )


def _static(field: SettingsField, names: Sequence[str], current: str) -> StaticSelectElement:
    built = [_option(name, name) for name in names]
    initial = next((option for option in built if option.value == current), None)
    return StaticSelectElement(
        action_id=field, placeholder="Pick one", options=built, initial_option=initial
    )


def _usergroup_select(policy: Policy, choices: SettingsChoices) -> StaticSelectElement:
    return _group_select(
        SettingsField.AGENT_USERGROUP,
        policy.agent_usergroup,
        choices,
        none=(EVERYONE, "Everyone in the workspace"),
    )


def _group_select(
    field: SettingsField, group_id: str | None, choices: SettingsChoices, *, none: tuple[str, str]
) -> StaticSelectElement:
    options = [_option(*none)]
    groups = list(choices.usergroups[:MAX_GROUP_OPTIONS])
    if group_id and all(g.id != group_id for g in groups):
        # Keep the current group choosable even when Slack did not list it.
        groups.insert(0, choices.usergroup_choice(group_id))
        groups = groups[:MAX_GROUP_OPTIONS]
    options.extend(
        _option(group.id, f"@{group.handle}" + (f" ({group.name})" if group.name else ""))
        for group in groups
    )
    current = group_id or none[0]
    initial = next((option for option in options if option.value == current), None)
    return StaticSelectElement(
        action_id=field,
        placeholder="Pick a user group",
        options=options,
        initial_option=initial,
    )
