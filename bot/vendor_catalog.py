"""Every vendor PIN Verify can use, as data: its kind, its name in the environment, its label and
the settings it cannot work without.

Each of these facts is declared here and nowhere else. The catalog sits in the kernel (it
imports nothing of ours) because three layers read it: `bot.settings` accepts only these names
and refuses to start without the chosen vendor's settings, the domain names vendors to people
(`bot.delivery.providers.provider_label`), and the composition root (`bot.runtime.vendors`)
pairs each entry with how to build its adapter and where it posts delivery reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VendorKind(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    CRM = "crm"

    @property
    def setting(self) -> str:
        """The environment variable that picks this kind's default vendor."""
        return f"{self.value.upper()}_PROVIDER"


@dataclass(frozen=True)
class Vendor:
    kind: VendorKind
    name: str  # what SMS_PROVIDER / EMAIL_PROVIDER / CRM_PROVIDER say, and adapters' `name`
    # How agents and admins read it on cards and in the CLI. PSAs name themselves through the
    # ContactDirectory port (`contacts.label`), so theirs is not repeated here.
    label: str | None
    # Settings fields that must all be set before the vendor can be built; a workspace may
    # choose any vendor whose settings are present, whatever the environment's default.
    settings: tuple[str, ...] = ()


SMS, EMAIL, CRM = VendorKind.SMS, VendorKind.EMAIL, VendorKind.CRM

CONSOLE_SMS = Vendor(SMS, "console", "Console")
TWILIO = Vendor(
    SMS, "twilio", "Twilio", ("twilio_account_sid", "twilio_auth_token", "twilio_from_number")
)
VONAGE = Vendor(SMS, "vonage", "Vonage", ("vonage_api_key", "vonage_api_secret", "vonage_from"))
CONSOLE_EMAIL = Vendor(EMAIL, "console", "Console")
SMTP = Vendor(EMAIL, "smtp", "SMTP", ("smtp_url", "email_from"))
SENDGRID = Vendor(EMAIL, "sendgrid", "SendGrid", ("sendgrid_api_key", "email_from"))
POSTMARK = Vendor(EMAIL, "postmark", "Postmark", ("postmark_server_token", "email_from"))
DIRECTORY = Vendor(CRM, "directory", None)
CONNECTWISE = Vendor(
    CRM,
    "connectwise",
    None,
    (
        "connectwise_company_id",
        "connectwise_public_key",
        "connectwise_private_key",
        "connectwise_client_id",
    ),
)
AUTOTASK = Vendor(
    CRM, "autotask", None, ("autotask_username", "autotask_secret", "autotask_integration_code")
)
HALOPSA = Vendor(
    CRM, "halopsa", None, ("halopsa_api_url", "halopsa_client_id", "halopsa_client_secret")
)
ZENDESK = Vendor(CRM, "zendesk", None, ("zendesk_api_url", "zendesk_email", "zendesk_api_token"))

# In the order each kind's vendors are offered (a workspace's choices, `providers check`).
VENDORS: tuple[Vendor, ...] = (
    CONSOLE_SMS,
    TWILIO,
    VONAGE,
    CONSOLE_EMAIL,
    SMTP,
    SENDGRID,
    POSTMARK,
    DIRECTORY,
    CONNECTWISE,
    AUTOTASK,
    HALOPSA,
    ZENDESK,
)


def vendors_of(kind: VendorKind) -> dict[str, Vendor]:
    """The vendors of one kind by name, in catalog order."""
    return {vendor.name: vendor for vendor in VENDORS if vendor.kind is kind}


def vendor_label(name: str) -> str:
    """What people call the SMS or email vendor `name` (the name itself when unknown)."""
    for vendor in VENDORS:
        if vendor.name == name and vendor.label is not None:
            return vendor.label
    return name
