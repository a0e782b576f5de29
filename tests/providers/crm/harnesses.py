"""The PSA fakes the contract suite runs against (one `running_fake_*` factory per vendor),
and the queries every PSA test asks.

Each factory yields a fake with the `FakePsa` surface (tests/fakes/psa/common.py): seed it with
`add_company`/`add_contact`/`add_ticket`, get an adapter pointed at it with `adapter(client)`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from providers.crm import ContactQuery, LookupKind
from tests.fakes.psa.autotask import running_fake_autotask
from tests.fakes.psa.connectwise import running_fake_connectwise
from tests.fakes.psa.halopsa import running_fake_halo
from tests.fakes.psa.zendesk import running_fake_zendesk

Harness = Callable[[], AbstractAsyncContextManager[Any]]

HARNESSES: tuple[Harness, ...] = (
    running_fake_connectwise,
    running_fake_autotask,
    running_fake_halo,
    running_fake_zendesk,
)


def phone(value: str) -> ContactQuery:
    return ContactQuery(LookupKind.PHONE, value)


def email(value: str) -> ContactQuery:
    return ContactQuery(LookupKind.EMAIL, value)


def name(value: str) -> ContactQuery:
    return ContactQuery(LookupKind.NAME, value)
