"""Who may act on a verification, and while it is open: the refusals every action shares
(the card's buttons, tickets, destination edits)."""

from __future__ import annotations

from bot.errors import RefusalCode, VerificationRefused
from storage.models import Verification


def require_found(verification: Verification | None) -> Verification:
    if verification is None:
        raise VerificationRefused("That verification no longer exists.", code=RefusalCode.NOT_FOUND)
    return verification


def require_agent(verification: Verification, actor_user_id: str) -> None:
    if verification.agent_user_id != actor_user_id:
        raise VerificationRefused(
            "Only the agent who opened this verification can act on it.", code=RefusalCode.NOT_AGENT
        )


def require_open(verification: Verification) -> None:
    if verification.outcome is not None:
        raise VerificationRefused(
            f"This verification is already closed ({verification.outcome}).",
            code=RefusalCode.CLOSED,
        )
