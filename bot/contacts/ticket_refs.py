"""What an agent types to name a ticket: `#12345`, `12345`, or Autotask's `T20240115.0012`."""

from __future__ import annotations

import re

from bot.errors import TicketRefProblem

# Digits for ConnectWise, HaloPSA and Zendesk ids; Autotask shows agents T<date>.<seq>.
TICKET_NUMBER = re.compile(r"^(\d{1,12}|T\d{8}\.\d{1,6})$", re.IGNORECASE)
MAX_TYPED = 40


def parse_ticket_reference(text: str) -> str:
    """The ticket number in `text`, without '#' and spaces; raises TicketRefProblem."""
    typed = " ".join(text.split())
    if not typed:
        raise TicketRefProblem("Type a ticket number, like 12345 or #12345.")
    if len(typed) > MAX_TYPED:
        raise TicketRefProblem("That is too long to be a ticket number; use e.g. #12345.")
    number = typed.removeprefix("#").strip()
    if not TICKET_NUMBER.match(number):
        raise TicketRefProblem(
            f"“{typed}” is not a ticket number: use # and digits, like #12345 "
            "(or an Autotask number like T20240115.0012)."
        )
    return number.upper()
