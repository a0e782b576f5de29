"""Configuration read from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigurationError
from bot.vendor_catalog import VendorKind, vendors_of

CodeInNote = Literal["include", "omit"]


class SmtpTarget:
    """The parts of `SMTP_URL`: smtp://user:pass@host:port?starttls=true, smtps:// for TLS."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("has no host")
        query = parse_qs(parts.query)
        flag = query.get("starttls", ["false" if parts.scheme == "smtps" else "true"])[0]
        if flag.lower() not in ("true", "false"):
            raise ValueError("starttls must be true or false")
        self.host: str = parts.hostname
        self.implicit_tls = parts.scheme == "smtps"
        self.port: int = parts.port or (465 if self.implicit_tls else 587)
        self.starttls = flag.lower() == "true" and not self.implicit_tls
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None


class Settings(BaseSettings):
    """Every environment variable the app reads; names are the interface contract."""

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")

    database_url: str = "sqlite+aiosqlite:///./pinverify.db"

    pinverify_secret_key: SecretStr | None = None
    pinverify_supervisor_channel: str | None = None
    pinverify_code_length: int = Field(default=6, ge=6, le=10)
    pinverify_code_ttl_seconds: int = Field(default=600, ge=60, le=1800)
    pinverify_max_attempts: int = Field(default=5, ge=1, le=10)
    pinverify_max_sends: int = Field(default=5, ge=1, le=10)
    pinverify_contact_failure_cap: int = Field(default=10, ge=1, le=100)
    pinverify_destination_sends_per_hour: int = Field(default=10, ge=1, le=1000)
    pinverify_agent_sends_per_hour: int = Field(default=60, ge=1, le=10000)
    pinverify_workspace_sends_per_hour: int = Field(default=500, ge=1, le=100000)
    pinverify_public_url: AnyHttpUrl | None = None
    pinverify_org_name: str = Field(default="the help desk", min_length=1, max_length=80)
    pinverify_default_region: str = "US"
    pinverify_outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # How long a relay owns an outbox row it is delivering; another replica (or this one,
    # restarted) takes it over after that. Longer than any Slack or PSA call.
    pinverify_outbox_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # Seconds between two messages to one Slack channel (posts and updates, all replicas).
    pinverify_slack_channel_interval: float = Field(default=1.2, ge=0.5, le=60)
    # Supervisors: who sees the figures and may void (a user group), and the digest.
    pinverify_supervisor_usergroup: str | None = None
    pinverify_digest: Literal["off", "daily", "weekly"] = "off"
    pinverify_timezone: str = "UTC"  # what "today" means on Home and when digests close
    # Policy defaults an admin can override per workspace from Slack (issue 5's Settings modal).
    pinverify_require_ticket: bool = False
    pinverify_code_in_ticket_note: CodeInNote = "include"
    pinverify_allow_destination_edits: bool = True
    pinverify_require_edit_reason: bool = True
    pinverify_show_code_to_agent: bool = False
    pinverify_agent_usergroup: str | None = None
    pinverify_sms_allowed_countries: str | None = None  # "US,CA"; default: the default region
    pinverify_admins: str = ""  # "U0123,U0456": admins on top of the workspace's admins/owners

    # Which vendor each kind uses by default: a name from bot.vendor_catalog.
    sms_provider: str = "console"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_api_url: AnyHttpUrl = AnyHttpUrl("https://api.twilio.com/")
    twilio_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    vonage_api_key: str | None = None
    vonage_api_secret: SecretStr | None = None
    vonage_from: str | None = None  # E.164 number or an alphanumeric sender ID
    vonage_api_url: AnyHttpUrl = AnyHttpUrl("https://rest.nexmo.com/")

    email_provider: str = "console"
    smtp_url: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    email_from: str | None = None
    sendgrid_api_key: SecretStr | None = None
    sendgrid_api_url: AnyHttpUrl = AnyHttpUrl("https://api.sendgrid.com/")
    postmark_server_token: SecretStr | None = None
    postmark_api_url: AnyHttpUrl = AnyHttpUrl("https://api.postmarkapp.com/")

    crm_provider: str = "directory"
    # ConnectWise PSA: API member keys (System → Members → API Members) and a developer clientId.
    connectwise_api_url: AnyHttpUrl = AnyHttpUrl(
        "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
    )
    connectwise_company_id: str | None = None
    connectwise_public_key: str | None = None
    connectwise_private_key: SecretStr | None = None
    connectwise_client_id: str | None = None
    # Autotask: an API-only user; the base URL is the zone's (zoneInformation finds it).
    autotask_api_url: AnyHttpUrl = AnyHttpUrl("https://webservices.autotask.net/ATServicesRest/")
    autotask_username: str | None = None
    autotask_secret: SecretStr | None = None
    autotask_integration_code: SecretStr | None = None
    # HaloPSA: every instance has its own host, so there is no default base URL.
    halopsa_api_url: AnyHttpUrl | None = None
    halopsa_auth_url: AnyHttpUrl | None = None  # default: the API URL with /api → /auth
    halopsa_client_id: str | None = None
    halopsa_client_secret: SecretStr | None = None
    halopsa_tenant: str | None = None
    # Zendesk: https://<subdomain>.zendesk.com/api/v2, an agent's email and an API token.
    zendesk_api_url: AnyHttpUrl | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None

    @field_validator("sms_provider", "email_provider", "crm_provider")
    @classmethod
    def _known_vendor(cls, value: str, info: ValidationInfo) -> str:
        kind = VendorKind(str(info.field_name).removesuffix("_provider"))
        names = [repr(name) for name in vendors_of(kind)]
        if value not in vendors_of(kind):
            # Worded as pydantic words a Literal, which these fields were.
            raise ValueError(f"Input should be {', '.join(names[:-1])} or {names[-1]}")
        return value

    @field_validator("pinverify_default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a two-letter region code such as US or GB")
        return region

    @field_validator("pinverify_secret_key")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("pinverify_supervisor_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[CG][A-Z0-9]{6,}", value):
            raise ValueError("must be a channel ID such as C0123ABCD (not a #name)")
        return value

    @field_validator("pinverify_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/London") from None
        return value

    @field_validator("pinverify_agent_usergroup", "pinverify_supervisor_usergroup")
    @classmethod
    def _usergroup_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"S[A-Z0-9]{6,}", value):
            raise ValueError("must be a user group ID such as S0123ABCD (not a @handle)")
        return value

    @field_validator("pinverify_sms_allowed_countries")
    @classmethod
    def _regions(cls, value: str | None) -> str | None:
        if value is None:
            return None
        regions = [part.strip().upper() for part in value.split(",") if part.strip()]
        for region in regions:
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"{region!r} is not a two-letter region code such as US or GB")
        if not regions:
            raise ValueError("must list at least one region code, e.g. US,CA")
        return ",".join(regions)

    @field_validator("pinverify_admins")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        for user_id in ids:
            if not re.fullmatch(r"[UW][A-Z0-9]{6,}", user_id):
                raise ValueError(f"{user_id!r} is not a Slack user ID such as U0123ABCD")
        return ",".join(ids)

    @field_validator("twilio_from_number")
    @classmethod
    def _e164_sender(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise ValueError("must be an E.164 number such as +15005550006")
        return value

    @field_validator("vonage_from")
    @classmethod
    def _vonage_sender(cls, value: str | None) -> str | None:
        # Vonage takes a number (digits, with or without "+") or an alphanumeric sender ID of
        # at most 11 characters.
        if value is not None and not (
            re.fullmatch(r"\+?[1-9]\d{6,14}", value) or re.fullmatch(r"[A-Za-z0-9 ]{1,11}", value)
        ):
            raise ValueError("must be a number such as +447700900000 or a 1-11 letter sender ID")
        return value

    @field_validator("email_from")
    @classmethod
    def _email_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"must be an address such as helpdesk@example.com ({exc})") from None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            SmtpTarget(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _required_together(self) -> Settings:
        if self.slack_bot_token is not None and self.slack_signing_secret is None:
            raise ValueError("SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set")
        if self.slack_signing_secret is not None and self.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET is set")
        if self.slack_configured and self.pinverify_secret_key is None:
            raise ValueError(
                "PINVERIFY_SECRET_KEY: required when Slack is configured; generate one with "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        for kind, chosen in (
            (VendorKind.SMS, self.sms_provider),
            (VendorKind.EMAIL, self.email_provider),
            (VendorKind.CRM, self.crm_provider),
        ):
            for name in vendors_of(kind)[chosen].settings:
                if getattr(self, name) is None:
                    raise ValueError(f"{name.upper()}: required when {kind.setting}={chosen}")
        if not (
            self.database_url.startswith("sqlite+aiosqlite://")
            or self.database_url.startswith("postgresql+asyncpg://")
        ):
            raise ValueError(
                "DATABASE_URL: must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return self

    @property
    def halopsa_token_url_base(self) -> str | None:
        """HaloPSA's authorisation server: HALOPSA_AUTH_URL, else <host>/auth."""
        if self.halopsa_auth_url is not None:
            return str(self.halopsa_auth_url).rstrip("/")
        if self.halopsa_api_url is None:
            return None
        api = str(self.halopsa_api_url).rstrip("/")
        return api.removesuffix("/api") + "/auth"

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return frozenset(filter(None, self.pinverify_admins.split(",")))

    @property
    def sms_allowed_countries(self) -> tuple[str, ...]:
        given = self.pinverify_sms_allowed_countries
        return tuple(given.split(",")) if given else (self.pinverify_default_region,)

    @property
    def configured_sms_providers(self) -> tuple[str, ...]:
        """Every SMS provider whose credentials are all set; console only as the default."""
        return self._configured(VendorKind.SMS, self.sms_provider)

    @property
    def configured_email_providers(self) -> tuple[str, ...]:
        return self._configured(VendorKind.EMAIL, self.email_provider)

    def _configured(self, kind: VendorKind, default: str) -> tuple[str, ...]:
        # The console provider writes codes to the log: only ever offered when it is the
        # default, so a production workspace cannot be switched onto it.
        return tuple(
            vendor.name
            for vendor in vendors_of(kind).values()
            if (vendor.name != "console" or default == "console")
            and all(getattr(self, field) is not None for field in vendor.settings)
        )

    @property
    def smtp_target(self) -> SmtpTarget | None:
        return SmtpTarget(self.smtp_url.get_secret_value()) if self.smtp_url else None


class _GivenSettings(Settings):
    """Settings from an explicit mapping only: tests and tools must not see the process env."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings (from `environ` alone when given), reporting the first bad variable."""
    try:
        if environ is None:
            return Settings()
        values = {k.lower(): v for k, v in environ.items() if v != ""}
        return _GivenSettings.model_validate(
            {k: v for k, v in values.items() if k in Settings.model_fields}
        )
    except ValidationError as exc:
        raise ConfigurationError(describe_error(exc)) from None


def describe_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["loc"]:
        name = str(first["loc"][0]).upper()
        given = first.get("input")
        shown = "" if name.endswith(("TOKEN", "SECRET", "KEY", "URL")) else f" (got {given!r})"
        return f"{name}: {message}{shown}"
    return message
