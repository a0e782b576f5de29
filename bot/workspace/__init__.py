"""A workspace's policy and people: the policy (environment defaults, admin overrides), who
may do what (roles), the Settings form, and what App Home reads."""

from __future__ import annotations

from bot.workspace.policy import Policy, load_policy
from bot.workspace.roles import DirectoryUnavailable, Role, Roles
from bot.workspace.service import RECENT_LIMIT, RecentVerification, WorkspaceService
from bot.workspace.settings_form import (
    CODE_LENGTH_RANGE,
    CODE_TTL_MINUTES_RANGE,
    EVERYONE,
    MAX_ATTEMPTS_RANGE,
    NOBODY,
    SETTING_LABELS,
    SettingsChoices,
    SettingsForm,
    UsergroupChoice,
    describe_value,
)

__all__ = [
    "CODE_LENGTH_RANGE",
    "CODE_TTL_MINUTES_RANGE",
    "EVERYONE",
    "MAX_ATTEMPTS_RANGE",
    "NOBODY",
    "RECENT_LIMIT",
    "SETTING_LABELS",
    "DirectoryUnavailable",
    "Policy",
    "RecentVerification",
    "Role",
    "Roles",
    "SettingsChoices",
    "SettingsForm",
    "UsergroupChoice",
    "WorkspaceService",
    "describe_value",
    "load_policy",
]
