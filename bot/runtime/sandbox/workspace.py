"""The sandbox's Slack workspace, the settings that point the bot at it, and sample contacts."""

from __future__ import annotations

import secrets
from importlib import resources

from pydantic import AnyHttpUrl, SecretStr

from bot.clock import Clock
from bot.contacts import import_contacts, parse_contact_csv
from bot.runtime.manifest import BOT_SCOPES
from bot.settings import Settings
from bot.vendor_catalog import VENDORS
from slack_emulator import SlackEmulator
from storage import repositories as repo
from storage.db import Database

SANDBOX_USER = "U0SANDBOX01"
SUPERVISOR = "U0SANDBOX02"
SUPERVISORS_CHANNEL = "C0SUPERVISORS"
# Mounted on the app's own server, so one address serves the page, the app and the fake Slack.
EMULATOR_PATH = "/sandbox/slack"
# Unless PINVERIFY_ORG_NAME says otherwise, the texts the sample callers get come from here.
SANDBOX_ORGANISATION = "Sandbox IT"


class SandboxRefused(Exception):
    """The sandbox must never run next to a real Slack workspace."""


def new_sandbox_emulator() -> SlackEmulator:
    """A workspace with you (an admin agent), a supervisor, and the supervisors' channel."""
    emulator = SlackEmulator(
        bot_token=f"xoxb-sandbox-{secrets.token_urlsafe(24)}",
        scopes=tuple(BOT_SCOPES),
        team_id="T0SANDBOX01",
        team_name="Sandbox",
        team_domain="sandbox",
        bot_name="PIN Verify",
    )
    emulator.add_user(
        SANDBOX_USER, "alex", real_name="Alex Agent", email="alex@sandbox.example", is_admin=True
    )
    emulator.add_user(SUPERVISOR, "sam", real_name="Sam Supervisor", email="sam@sandbox.example")
    emulator.add_channel(
        SUPERVISORS_CHANNEL, "supervisors", is_private=True, members=[SANDBOX_USER, SUPERVISOR]
    )
    emulator.dm_channel(SANDBOX_USER)  # the app's DM is in the sidebar from the start
    return emulator


def sandbox_settings(settings: Settings, emulator: SlackEmulator, address: str) -> Settings:
    """`settings` pointed at the emulator, with credentials made up for this run.

    SMS and email always go to the console: the sandbox page has no login, so it must not
    be able to send a real message to anyone.
    """
    if settings.slack_configured:
        raise SandboxRefused("Slack credentials are configured: the sandbox is not available")
    emulator.base_url = f"{address.rstrip('/')}{EMULATOR_PATH}"
    secret_key = settings.pinverify_secret_key or SecretStr(secrets.token_urlsafe(32))
    organisation = settings.pinverify_org_name
    if "pinverify_org_name" not in settings.model_fields_set:
        organisation = SANDBOX_ORGANISATION
    return settings.model_copy(
        update={
            "pinverify_org_name": organisation,
            "slack_bot_token": SecretStr(emulator.bot_token),
            "slack_signing_secret": SecretStr(secrets.token_urlsafe(32)),
            "slack_app_token": None,
            "slack_api_url": AnyHttpUrl(emulator.api_url),
            "pinverify_secret_key": secret_key,
            "pinverify_supervisor_channel": SUPERVISORS_CHANNEL,
            "sms_provider": "console",
            "email_provider": "console",
            # Not just the defaults: with a vendor's credentials left in place an admin could
            # pick it in Settings. The sandbox also keeps away from a real PSA.
            **dict.fromkeys(_vendor_settings()),
            "crm_provider": "directory",
        }
    )


def _vendor_settings() -> set[str]:
    return {name for vendor in VENDORS for name in vendor.settings}


def sample_contacts_csv() -> str:
    return resources.files("bot.runtime.sandbox").joinpath("sample_contacts.csv").read_text("utf-8")


async def seed_sample_contacts(db: Database, clock: Clock) -> int:
    """Import the sample contacts into an empty directory; returns how many (0 if it had any)."""
    async with db.transaction() as session:
        if await repo.count_contacts(session=session):
            return 0
    rows, problems = parse_contact_csv(sample_contacts_csv(), region="US")
    if problems:  # shipped data: a problem here is a packaging bug
        raise ValueError(f"sample contacts: {problems}")
    report = await import_contacts(rows, db=db, clock=clock)
    return report.created
