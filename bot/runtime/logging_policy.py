"""Which libraries may log, and how much: none may print a SQL statement's parameters, an HTTP
body or a Slack payload, whatever level the app itself logs at.

At DEBUG, aiosqlite prints every statement with its parameters (an outbox row's payload holds
the ticket note, code included, when `code in ticket note = include`); slack_sdk prints each
Web API call's arguments and answer (a card notice can show the code to its agent); httpx and
httpcore print requests and answers. These loggers are held at WARNING: their warnings and
errors still reach the log, their chatter never does. SQLAlchemy's engine is built with
`echo=False` and `hide_parameters=True` as well (storage.db), so even its own INFO lines say
"[SQL parameters hidden]". A filter on each logger drops anything below WARNING logged on it
directly, so lowering its level later does not bring the chatter back either.
"""

from __future__ import annotations

import logging

# Libraries that log statement parameters, request or response bodies, or payloads.
QUIET_LOGGERS = (
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "sqlalchemy.orm",
    "aiosqlite",
    "asyncpg",
    "httpx",
    "httpcore",
    "aiohttp",
    "aiosmtplib",
    "slack_sdk",
    "slack_bolt",
    # Bolt's app logger (slack_app.create_app): it reports what Bolt does with each payload.
    "pinverify.slack",
)


class _WarningsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_FILTER = _WarningsOnly()


def keep_payloads_out_of_logs() -> None:
    """Hold every library in QUIET_LOGGERS at WARNING (idempotent; call at start-up)."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
