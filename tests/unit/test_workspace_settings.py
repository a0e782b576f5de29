"""Settings validation, warnings and the admin Block Kit builders (pure functions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.errors import SettingsInvalid
from bot.outbox.payloads import PolicyAnnouncement, SettingChangeLine
from bot.workspace import RecentVerification
from bot.workspace.policy import Policy
from bot.workspace.roles import Role
from bot.workspace.settings_form import (
    EVERYONE,
    SettingsChoices,
    SettingsForm,
    UsergroupChoice,
    changes_between,
    describe_value,
    parse_countries,
    unsafe_settings,
    validate_settings,
)
from commands.home.settings_views import settings_modal
from commands.home.views import home_view
from commands.posts.announcement_views import settings_announcement
from tests.support.service import make_policy

CHOICES = SettingsChoices(
    sms_providers=("console", "twilio"),
    email_providers=("console",),
    usergroups=(UsergroupChoice(id="S0HELPDSK1", handle="helpdesk", name="Help desk"),),
)
CURRENT = make_policy(supervisor_channel="C0SUPERVIS")


def form_for(policy: Policy, **overrides: str | None) -> SettingsForm:
    values: dict[str, str | None] = {
        "require_ticket": "on" if policy.require_ticket else "off",
        "code_length": str(policy.code_length),
        "code_ttl_minutes": str(policy.code_ttl_seconds // 60),
        "max_attempts": str(policy.max_attempts),
        "allow_destination_edits": "on" if policy.allow_destination_edits else "off",
        "require_edit_reason": "on" if policy.require_edit_reason else "off",
        "code_in_ticket_note": policy.code_in_ticket_note,
        "show_code_to_agent": "on" if policy.show_code_to_agent else "off",
        "supervisor_channel": policy.supervisor_channel,
        "agent_usergroup": policy.agent_usergroup or EVERYONE,
        "sms_provider": policy.sms_provider,
        "email_provider": policy.email_provider,
        "sms_allowed_countries": ", ".join(policy.sms_allowed_countries),
    }
    values.update(overrides)
    return SettingsForm(**values)


def test_the_prefilled_form_changes_nothing() -> None:
    wanted = validate_settings(form_for(CURRENT), current=CURRENT, choices=CHOICES)
    assert changes_between(CURRENT, wanted) == []


def test_each_invalid_field_gets_its_own_message() -> None:
    form = form_for(
        CURRENT,
        code_length="5",
        code_ttl_minutes="31",
        max_attempts="2.5",
        require_ticket=None,
        code_in_ticket_note="maybe",
        supervisor_channel="#general",
        agent_usergroup="S0UNKNOWN1",
        sms_provider="vonage",
        sms_allowed_countries="US, Narnia",
    )
    with pytest.raises(SettingsInvalid) as invalid:
        validate_settings(form, current=CURRENT, choices=CHOICES)
    assert set(invalid.value.errors) == {
        "code_length",
        "code_ttl_minutes",
        "max_attempts",
        "require_ticket",
        "code_in_ticket_note",
        "supervisor_channel",
        "agent_usergroup",
        "sms_provider",
        "sms_allowed_countries",
    }
    assert "NARNIA" in invalid.value.errors["sms_allowed_countries"]


def test_valid_changes_are_what_the_form_says() -> None:
    form = form_for(
        CURRENT,
        code_length="10",
        code_ttl_minutes="1",
        agent_usergroup="S0HELPDSK1",
        sms_provider="twilio",
        sms_allowed_countries="us ca;gb, US",
    )
    wanted = validate_settings(form, current=CURRENT, choices=CHOICES)
    assert {c.setting: (c.old, c.new) for c in changes_between(CURRENT, wanted)} == {
        "code_length": (6, 10),
        "code_ttl_seconds": (600, 60),
        "agent_usergroup": (None, "S0HELPDSK1"),
        "sms_provider": ("console", "twilio"),
        "sms_allowed_countries": (("US",), ("US", "CA", "GB")),
    }


def test_countries_need_at_least_one() -> None:
    assert parse_countries(" , ")[0] == ()
    assert parse_countries(" , ")[1] is not None


def test_warnings_name_each_unsafe_setting() -> None:
    unsafe = replace(
        CURRENT,
        agent_usergroup=None,
        show_code_to_agent=True,
        allow_destination_edits=True,
        require_edit_reason=False,
        code_in_ticket_note="include",
        supervisor_channel=None,
    )
    assert len(unsafe_settings(unsafe)) == 5
    safe = replace(
        CURRENT,
        agent_usergroup="S0HELPDSK1",
        show_code_to_agent=False,
        require_edit_reason=True,
        code_in_ticket_note="omit",
    )
    assert unsafe_settings(safe) == []


def test_announced_values_are_plain_in_the_domain_and_safe_mrkdwn_without_pings() -> None:
    choices = SettingsChoices(
        sms_providers=(),
        email_providers=(),
        usergroups=(UsergroupChoice(id="S0HELPDSK1", handle="help<!channel>", name=""),),
    )
    # The domain keeps plain words; Slack markup is the edge's job.
    assert describe_value("agent_usergroup", "S0HELPDSK1", choices) == "@help<!channel>"
    assert describe_value("supervisor_channel", "C0SUPERVIS", choices) == "C0SUPERVIS"
    assert describe_value("supervisor_channel", None, choices) == "none"
    blocks = settings_announcement(
        PolicyAnnouncement(
            channel="C0SUPERVIS",
            actor_user_id="U0ADMIN001",
            changes=(
                SettingChangeLine(
                    setting="Supervisors' channel", old="none", new="C0S", new_channel="C0S"
                ),
                SettingChangeLine(
                    setting="Who may verify",
                    old="Everyone",
                    new=describe_value("agent_usergroup", "S0HELPDSK1", choices),
                ),
            ),
        )
    )
    text = str([block.to_dict() for block in blocks])
    assert "*Supervisors' channel*: none → <#C0S>" in text
    assert "*Who may verify*: Everyone → @help&lt;!channel&gt;" in text
    assert "<!channel>" not in text


def test_home_views_by_role() -> None:
    recent = [
        RecentVerification(
            contact_name="<@U1> Jane",
            company="Globex",
            outcome="completed",
            state="verified",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    ]
    agent = str(home_view(role=Role.AGENT, recent=recent, policy=CURRENT).to_dict())
    assert "&lt;@U1&gt; Jane" in agent and "Completed" in agent
    assert "Settings" not in agent and "Policy for this workspace" not in agent
    nobody = str(home_view(role=Role.NONE, recent=recent).to_dict())
    assert "Jane" not in nobody and "not in the user group" in nobody
    admin = str(home_view(role=Role.ADMIN, recent=[], policy=CURRENT, warnings=["w"]).to_dict())
    assert "home_open_settings" in admin and "home_edit_templates" in admin and "⚠️ w" in admin


def test_settings_modal_keeps_a_group_slack_did_not_list() -> None:
    policy = replace(CURRENT, agent_usergroup="S0GONE0001")
    listed = SettingsChoices(
        sms_providers=("console",),
        email_providers=("console",),
        usergroups=(),
        usergroups_listed=False,
    )
    view = settings_modal(policy, listed).to_dict()
    group = next(b for b in view["blocks"] if b["block_id"] == "set_agent_usergroup")
    assert [o["value"] for o in group["element"]["options"]] == ["everyone", "S0GONE0001"]
    assert group["element"]["initial_option"]["value"] == "S0GONE0001"
