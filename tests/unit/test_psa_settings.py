"""PSA settings: vendor base URLs by default, one clear line for a missing credential."""

from __future__ import annotations

import pytest

from bot.errors import ConfigurationError
from bot.settings import load_settings


def test_vendor_base_urls_default_to_the_real_ones() -> None:
    settings = load_settings({})
    assert settings.crm_provider == "directory"
    assert str(settings.connectwise_api_url) == (
        "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
    )
    assert str(settings.autotask_api_url) == "https://webservices.autotask.net/ATServicesRest/"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CRM_PROVIDER": "connectwise", "CONNECTWISE_COMPANY_ID": "acme"},
            "CONNECTWISE_PUBLIC_KEY: required when CRM_PROVIDER=connectwise",
        ),
        (
            {"CRM_PROVIDER": "autotask", "AUTOTASK_USERNAME": "api@acme.example"},
            "AUTOTASK_SECRET: required when CRM_PROVIDER=autotask",
        ),
        ({"CRM_PROVIDER": "halopsa"}, "HALOPSA_API_URL: required when CRM_PROVIDER=halopsa"),
        (
            {"CRM_PROVIDER": "zendesk", "ZENDESK_API_URL": "https://acme.zendesk.com/api/v2"},
            "ZENDESK_EMAIL: required when CRM_PROVIDER=zendesk",
        ),
        ({"CRM_PROVIDER": "hubspot"}, "CRM_PROVIDER: Input should be 'directory', 'connectwise'"),
    ],
)
def test_missing_credentials_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings(env)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_halopsa_auth_url_follows_the_api_url_unless_given() -> None:
    env = {
        "CRM_PROVIDER": "halopsa",
        "HALOPSA_API_URL": "https://acme.halopsa.com/api",
        "HALOPSA_CLIENT_ID": "pinverify",
        "HALOPSA_CLIENT_SECRET": "s3cret",
    }
    assert load_settings(env).halopsa_token_url_base == "https://acme.halopsa.com/auth"
    given = {**env, "HALOPSA_AUTH_URL": "https://auth.acme.example/auth/"}
    assert load_settings(given).halopsa_token_url_base == "https://auth.acme.example/auth"


def test_secrets_are_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({"CRM_PROVIDER": "zendesk", "ZENDESK_API_URL": "not a url"})
    assert str(raised.value).startswith("ZENDESK_API_URL:")
    assert "not a url" not in str(raised.value)
