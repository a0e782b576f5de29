"""Hypothesis profiles for the fuzz suite: `ci` (the default, a modest count so the whole
suite stays quick on two cores) and `deep` (a real hunt). Choose with PINVERIFY_FUZZ_PROFILE;
PINVERIFY_FUZZ_EXAMPLES overrides the count of either."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The live app and its Slack emulator, as the end-to-end tests have them.
from tests.e2e.conftest import emulator, running_bot

__all__ = ["emulator", "running_bot"]

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "database": None,
    "print_blob": True,
}
settings.register_profile("ci", max_examples=25, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("deep", max_examples=400, **_COMMON)  # type: ignore[arg-type]
PROFILE = os.environ.get("PINVERIFY_FUZZ_PROFILE", "ci")
if "PINVERIFY_FUZZ_EXAMPLES" in os.environ:
    settings.register_profile(
        "custom",
        parent=settings.get_profile(PROFILE),
        max_examples=int(os.environ["PINVERIFY_FUZZ_EXAMPLES"]),
    )
    PROFILE = "custom"
settings.load_profile(PROFILE)
