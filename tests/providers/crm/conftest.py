from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The client every PSA adapter under test is given, as the runtime gives it one."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        yield http
