"""`pinverify providers check`: ask each configured provider whether our credentials work.

Nothing is sent: every adapter checks with a read-only call (Twilio's account, Vonage's
balance, SendGrid's scopes, Postmark's server, an SMTP login) and raises our error taxonomy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.delivery import provider_label
from providers.errors import DeliveryError


@runtime_checkable
class CredentialsCheck(Protocol):
    async def check_credentials(self) -> None: ...


@dataclass(frozen=True)
class Verdict:
    kind: str  # "SMS" | "email"
    provider: str
    default: bool
    ok: bool
    detail: str

    def line(self) -> str:
        default = ", default" if self.default else ""
        outcome = "OK" if self.ok else "FAILED"
        return f"{provider_label(self.provider)} ({self.kind}{default}): {outcome} — {self.detail}"


async def check_providers(
    providers: Mapping[str, Mapping[str, object]], defaults: Mapping[str, str]
) -> list[Verdict]:
    """One verdict per configured provider; `providers` maps a kind to its providers by name."""
    verdicts = []
    for kind, by_name in providers.items():
        for name, provider in by_name.items():
            verdicts.append(await _check(kind, name, provider, default=defaults.get(kind) == name))
    return verdicts


async def _check(kind: str, name: str, provider: object, *, default: bool) -> Verdict:
    if not isinstance(provider, CredentialsCheck):
        # Only the console providers have nothing to check: they never leave the machine.
        return Verdict(
            kind, name, default, True, "development provider: codes go to the log, not sent"
        )
    try:
        await provider.check_credentials()
    except DeliveryError as exc:
        return Verdict(kind, name, default, False, exc.message)
    return Verdict(kind, name, default, True, f"{provider_label(name)} accepted the credentials")
