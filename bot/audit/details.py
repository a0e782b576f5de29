"""What the audit log keeps about the things it records: masked, never a code."""

from __future__ import annotations

from bot.masking import mask_destination
from storage.models import CodeSend


def send_detail(send: CodeSend, **extra: object) -> dict[str, object]:
    """What the audit log keeps about a send: the destination masked, never the code."""
    return {
        "seq": send.seq,
        "channel": send.channel,
        "destination": mask_destination(send.channel, send.destination),
        "provider": send.provider,
        **extra,
    }
