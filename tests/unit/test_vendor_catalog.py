"""The vendor catalog: the one list Settings, the domain and the runtime read vendors from."""

from __future__ import annotations

import pytest

from bot.delivery.providers import provider_label
from bot.errors import ConfigurationError
from bot.settings import Settings, load_settings
from bot.vendor_catalog import VENDORS, VendorKind, vendors_of


def test_every_setting_a_vendor_needs_is_a_setting() -> None:
    for vendor in VENDORS:
        assert set(vendor.settings) <= set(Settings.model_fields), vendor.name


def test_names_are_unique_within_a_kind_and_messaging_vendors_have_labels() -> None:
    for kind in VendorKind:
        names = [vendor.name for vendor in VENDORS if vendor.kind is kind]
        assert len(names) == len(set(names)) == len(vendors_of(kind))
    for kind in (VendorKind.SMS, VendorKind.EMAIL):
        assert all(vendor.label for vendor in vendors_of(kind).values())
    assert provider_label("sendgrid") == "SendGrid"
    assert provider_label("someday") == "someday"


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("SMS_PROVIDER", "SMS_PROVIDER: Input should be 'console', 'twilio' or 'vonage'"),
        (
            "EMAIL_PROVIDER",
            "EMAIL_PROVIDER: Input should be 'console', 'smtp', 'sendgrid' or 'postmark'",
        ),
    ],
)
def test_a_vendor_the_catalog_does_not_list_is_refused_by_name(variable: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        load_settings({variable: "carrier-pigeon"})

    assert str(raised.value) == f"{message} (got 'carrier-pigeon')"


def test_each_kind_needs_exactly_the_settings_the_catalog_lists() -> None:
    for kind in VendorKind:
        for vendor in vendors_of(kind).values():
            for missing in vendor.settings:
                env = {kind.setting: vendor.name}
                env |= {name.upper(): _value(name) for name in vendor.settings if name != missing}
                with pytest.raises(ConfigurationError) as raised:
                    load_settings(env)
                assert str(raised.value) == (
                    f"{missing.upper()}: required when {kind.setting}={vendor.name}"
                )


def _value(name: str) -> str:
    examples = {
        "twilio_from_number": "+15005550006",
        "vonage_from": "AcmeIT",
        "smtp_url": "smtp://mail.example:587",
        "email_from": "helpdesk@msp.example",
    }
    if name.endswith("_api_url"):
        return "https://vendor.example/api"
    return examples.get(name, "x")
