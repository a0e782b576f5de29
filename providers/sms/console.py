"""The development SMS provider: nothing leaves the machine."""

from __future__ import annotations

import logging

from providers.console import ConsoleSink
from providers.sms import SmsMessage, SmsReceipt


class ConsoleSms:
    """Keeps each SMS in the console sink and logs it, so a developer can read the code."""

    name = "console"

    def __init__(self, sink: ConsoleSink, logger: logging.Logger) -> None:
        self._sink = sink
        self._logger = logger

    async def send(self, message: SmsMessage) -> SmsReceipt:
        message_id = await self._sink.keep(
            channel="sms", recipient=message.to, subject=None, body=message.body
        )
        # The one deliberate exception to "codes never reach logs": this provider is the
        # development default and exists so whoever runs the app locally can read the code.
        self._logger.info("console SMS to %s: %s", message.to, message.body)
        return SmsReceipt(provider=self.name, message_id=message_id, status="delivered")
