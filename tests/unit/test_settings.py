from __future__ import annotations

import pytest

from bot.errors import ConfigurationError
from bot.settings import load_settings

KEY = "k" * 40


def test_defaults_start_a_development_app() -> None:
    settings = load_settings({})
    assert settings.sms_provider == "console" and settings.email_provider == "console"
    assert settings.database_url == "sqlite+aiosqlite:///./pinverify.db"
    assert settings.pinverify_code_length == 6
    assert settings.pinverify_code_ttl_seconds == 600
    assert settings.pinverify_max_attempts == 5
    assert not settings.slack_configured


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PINVERIFY_CODE_LENGTH": "abc"},
            "PINVERIFY_CODE_LENGTH: Input should be a valid integer",
        ),
        ({"PINVERIFY_CODE_LENGTH": "5"}, "PINVERIFY_CODE_LENGTH: Input should be greater than"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
            "PINVERIFY_SECRET_KEY: required when Slack is configured",
        ),
        ({"PINVERIFY_SECRET_KEY": "short"}, "PINVERIFY_SECRET_KEY: must be at least 32"),
        ({"SMS_PROVIDER": "twilio"}, "TWILIO_ACCOUNT_SID: required when SMS_PROVIDER=twilio"),
        ({"SMS_PROVIDER": "pigeon"}, "SMS_PROVIDER: Input should be 'console', 'twilio' or"),
        ({"EMAIL_PROVIDER": "smtp"}, "SMTP_URL: required when EMAIL_PROVIDER=smtp"),
        ({"SMS_PROVIDER": "vonage"}, "VONAGE_API_KEY: required when SMS_PROVIDER=vonage"),
        (
            {"SMS_PROVIDER": "vonage", "VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s"},
            "VONAGE_FROM: required when SMS_PROVIDER=vonage",
        ),
        ({"VONAGE_FROM": "Far-too-long sender"}, "VONAGE_FROM: must be a number"),
        (
            {"EMAIL_PROVIDER": "sendgrid"},
            "SENDGRID_API_KEY: required when EMAIL_PROVIDER=sendgrid",
        ),
        (
            {"EMAIL_PROVIDER": "postmark", "POSTMARK_SERVER_TOKEN": "t"},
            "EMAIL_FROM: required when EMAIL_PROVIDER=postmark",
        ),
        ({"EMAIL_FROM": "helpdesk"}, "EMAIL_FROM: must be an address"),
        ({"EMAIL_PROVIDER": "carrier-pigeon"}, "EMAIL_PROVIDER: Input should be 'console'"),
        ({"SMTP_URL": "http://mail"}, "SMTP_URL: must start with smtp:// or smtps://"),
        ({"PINVERIFY_SUPERVISOR_CHANNEL": "#supervisors"}, "must be a channel ID"),
        ({"PINVERIFY_DEFAULT_REGION": "XX"}, "PINVERIFY_DEFAULT_REGION"),
        ({"DATABASE_URL": "mysql://db"}, "DATABASE_URL: must start with"),
        ({"PINVERIFY_ADMINS": "U0ADMIN01,@jane"}, "PINVERIFY_ADMINS: '@jane' is not a Slack user"),
        ({"PINVERIFY_SMS_ALLOWED_COUNTRIES": "US,ZZ"}, "PINVERIFY_SMS_ALLOWED_COUNTRIES: 'ZZ'"),
        ({"PINVERIFY_AGENT_USERGROUP": "@helpdesk"}, "must be a user group ID"),
        ({"PINVERIFY_CODE_IN_TICKET_NOTE": "hide"}, "PINVERIFY_CODE_IN_TICKET_NOTE"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings(env)
    text = str(error.value)
    assert message in text
    assert "\n" not in text


def test_secrets_are_never_echoed_in_errors() -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings({"PINVERIFY_SECRET_KEY": "hunter2-secret"})
    assert "hunter2" not in str(error.value)


def test_smtp_url_parts() -> None:
    settings = load_settings(
        {"SMTP_URL": "smtp://user%40x:p%3Ass@mail.example.com:2525?starttls=false"}
    )
    target = settings.smtp_target
    assert target is not None
    assert (target.host, target.port, target.username, target.password) == (
        "mail.example.com",
        2525,
        "user@x",
        "p:ss",
    )
    assert not target.starttls and not target.implicit_tls
    implicit = load_settings({"SMTP_URL": "smtps://mail.example.com"}).smtp_target
    assert implicit is not None and implicit.port == 465 and implicit.implicit_tls


def test_explicit_mapping_ignores_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINVERIFY_CODE_LENGTH", "9")
    assert load_settings({}).pinverify_code_length == 6
    assert load_settings().pinverify_code_length == 9


def test_policy_defaults_from_the_environment() -> None:
    settings = load_settings(
        {
            "PINVERIFY_ADMINS": " U0ADMIN01 , W0OWNER02 ",
            "PINVERIFY_SMS_ALLOWED_COUNTRIES": "us, ca",
            "PINVERIFY_REQUIRE_TICKET": "true",
            "PINVERIFY_CODE_IN_TICKET_NOTE": "omit",
        }
    )
    assert settings.admin_user_ids == {"U0ADMIN01", "W0OWNER02"}
    assert settings.sms_allowed_countries == ("US", "CA")
    assert settings.pinverify_require_ticket is True
    assert settings.pinverify_code_in_ticket_note == "omit"
    plain = load_settings({"PINVERIFY_DEFAULT_REGION": "gb"})
    assert plain.sms_allowed_countries == ("GB",)
    assert plain.admin_user_ids == frozenset()
    assert plain.pinverify_code_in_ticket_note == "include"


def test_every_provider_with_its_settings_is_offered_to_workspaces() -> None:
    settings = load_settings(
        {
            "SMS_PROVIDER": "vonage",
            "VONAGE_API_KEY": "key",
            "VONAGE_API_SECRET": "secret",
            "VONAGE_FROM": "+447700900000",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "token",
            "TWILIO_FROM_NUMBER": "+15005550006",
            "EMAIL_FROM": "helpdesk@msp.example",
            "POSTMARK_SERVER_TOKEN": "pm-token",
        }
    )
    # Console writes codes to the log: offered only while it is the environment default.
    assert settings.configured_sms_providers == ("twilio", "vonage")
    assert settings.configured_email_providers == ("console", "postmark")
    assert str(settings.vonage_api_url) == "https://rest.nexmo.com/"
    assert str(settings.sendgrid_api_url) == "https://api.sendgrid.com/"
    assert str(settings.postmark_api_url) == "https://api.postmarkapp.com/"
    half = load_settings({"TWILIO_ACCOUNT_SID": "AC123"})  # no token: not usable
    assert half.configured_sms_providers == ("console",)
