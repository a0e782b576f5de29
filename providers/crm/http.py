"""What the PSA adapters share on the wire: HTTP status → `CrmError`, unreadable answers,
failed connections, where credentials may be sent, and the "look before you write" rule that
keeps a retried ticket note from being written twice.

Each adapter keeps its own wording (its name, the env vars to check, its permission hints);
these functions only decide which error class a failure is and how its parts are read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from providers.crm import (
    CrmAuthError,
    CrmError,
    CrmNotFound,
    CrmRateLimited,
    CrmRejected,
    CrmUnavailable,
    NoteReceipt,
)
from providers.http import HttpFailure, retry_after

_NOT_OPENED = httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
# The last line of every note we write; the key after it is the outbox row's, so a retry can
# recognise the note its earlier try wrote.
NOTE_REF_PREFIX = "PIN Verify ref: "


async def idempotent_note(
    *,
    key: str,
    first_attempt: bool,
    find: Callable[[str], Awaitable[str | None]],
    post: Callable[[str], Awaitable[str]],
) -> NoteReceipt:
    """Write a ticket note at most once across retries: look before you write.

    The note carries `key` as a marker line (`post(marker)` writes the note with it and
    returns the note's id). A retry may follow a write that reached the PSA and then timed
    out, so it first asks `find(marker)` for a note already carrying it and, when there is
    one, returns that note instead of writing a second.
    """
    marker = note_marker(key)
    if not first_attempt:
        existing = await find(marker)
        if existing is not None:
            return NoteReceipt(ref=existing, already_present=True)
    return NoteReceipt(ref=await post(marker))


def note_marker(key: str) -> str:
    return f"{NOTE_REF_PREFIX}{key}"


def raise_for_status(
    response: httpx.Response,
    *,
    unauthorized: str,
    forbidden: str,
    missing: str,
    rate_limited: str,
    server_error: str,
    refused: str,
    missing_error: type[CrmError] = CrmNotFound,
) -> NoReturn:
    """Raise the `CrmError` a failed answer stands for, with the adapter's message for it.

    401/403 are the credentials or their permissions, 404 a missing record (or, for a PSA
    whose list endpoints 404 on a wrong URL, `missing_error=CrmAuthError`), 429 a rate limit
    (with the PSA's `Retry-After`), 5xx an outage and anything else a refusal.
    """
    status = response.status_code
    error: CrmError
    if status == 401:
        error = CrmAuthError(unauthorized, status=status)
    elif status == 403:
        error = CrmAuthError(forbidden, status=status)
    elif status == 404:
        error = missing_error(missing, status=status)
    elif status == 429:
        error = CrmRateLimited(rate_limited, retry_after=retry_after(response), status=status)
    elif status >= 500:
        error = CrmUnavailable(server_error, status=status)
    else:
        error = CrmRejected(refused, status=status)
    raise error


def raise_transport_error(
    exc: HttpFailure, *, label: str, action: str, writing: bool, setting: str
) -> NoReturn:
    """A request that got no answer: an unusable URL, an unreachable PSA, or one that went
    quiet after the request left (then a write may have been saved all the same)."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        raise CrmAuthError(f"The {label} URL is not usable: check {setting}.") from exc
    if isinstance(exc, _NOT_OPENED):
        raise CrmUnavailable(
            f"Could not reach {label} to {action}; try again shortly (check {setting} if this "
            "persists)."
        ) from exc
    what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "dropped"
    unknown = " (it may have been saved all the same)" if writing else ""
    raise CrmUnavailable(
        f"{label} {what} while trying to {action}{unknown}; try again shortly."
    ) from exc


def raise_request_failed(
    exc: HttpFailure, *, label: str, what: str, setting: str, example: str
) -> NoReturn:
    """Like `raise_transport_error`, naming the httpx failure and an example URL; whether a
    write may have arrived is read back from the cause with `may_have_arrived`."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        raise CrmAuthError(
            f"The {label} API URL is not usable ({exc.__class__.__name__}): check "
            f"{setting}, e.g. {example}."
        ) from exc
    if isinstance(exc, httpx.TimeoutException):
        raise CrmUnavailable(
            f"{label} did not answer in time when trying to {what}; try again shortly."
        ) from exc
    raise CrmUnavailable(
        f"Could not reach {label} to {what} ({exc.__class__.__name__}); try again shortly."
    ) from exc


def may_have_arrived(error: CrmUnavailable) -> bool:
    """Whether a failed write may still have reached the PSA (it did unless the connection
    could not even be opened)."""
    return not isinstance(error.__cause__, _NOT_OPENED)


def read_json_object(response: httpx.Response, *, label: str, what: str) -> dict[str, Any]:
    """The answer's JSON object; anything else means the PSA (or a proxy) is not itself."""
    unreadable = f"{label}'s answer could not be read when trying to {what}; try again shortly."
    try:
        payload = response.json()
    except ValueError as exc:
        raise CrmUnavailable(unreadable) from exc
    if not isinstance(payload, dict):
        raise CrmUnavailable(unreadable)
    return payload


def origin(url: str) -> tuple[str, str]:
    """Scheme and host of a URL: credentials follow a page link only to the configured one."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
