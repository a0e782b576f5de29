"""Request bodies read with a ceiling: the stream is cut off past `limit` bytes instead of
trusting Content-Length (which a sender may omit or get wrong)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message


class BodyTooLarge(Exception):
    """The body is over the limit; answer 413."""


async def read_body_at_most(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or len(declared) > 12):
        raise BodyTooLarge
    if declared is not None and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def replayed(request: Request, body: bytes) -> Request:
    """A copy of `request` whose body (already read) can be read again by the next handler."""
    sent = False
    upstream = request.receive

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await upstream()  # only ever http.disconnect now
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
