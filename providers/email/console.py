"""The development email provider: nothing leaves the machine."""

from __future__ import annotations

import logging

from providers.console import ConsoleSink
from providers.email import EmailMessage, EmailReceipt


class ConsoleEmail:
    """Keeps each email in the console sink and logs it, so a developer can read the code."""

    name = "console"

    def __init__(self, sink: ConsoleSink, logger: logging.Logger, sender: str) -> None:
        self._sink = sink
        self._logger = logger
        self._sender = sender

    async def send(self, message: EmailMessage) -> EmailReceipt:
        message_id = await self._sink.keep(
            channel="email", recipient=message.to, subject=message.subject, body=message.text_body
        )
        # The one deliberate exception to "codes never reach logs": this provider is the
        # development default and exists so whoever runs the app locally can read the code.
        self._logger.info(
            "console email from %s to %s: %s\n%s",
            self._sender,
            message.to,
            message.subject,
            message.text_body,
        )
        return EmailReceipt(provider=self.name, message_id=message_id, status="delivered")
