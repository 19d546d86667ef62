"""The logging classes the logs group's LOGGING names: output that never holds a secret.

Imported by Django's logging setup when it reads LOGGING (django.utils.log is imported by then
anyway), never at settings time."""

from __future__ import annotations

import logging

from django.utils.log import AdminEmailHandler

from .redaction import redact


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message and traceback) never holds a secret: the environment's
    secret values and any URL's password are removed."""

    def format(self, record: logging.LogRecord) -> str:
        return str(redact(super().format(record)))


class OneLineWarning(logging.Filter):
    """A request with a Host that is not allowed (scanners send thousands a day): one WARNING
    line without a traceback, instead of an ERROR with 14 lines of traceback and an error mail."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


class RedactingAdminEmailHandler(AdminEmailHandler):
    """Django's error mail to ADMINS; the subject is redacted as well (the body's report comes
    from DEFAULT_EXCEPTION_REPORTER, which apply() makes the redacting one, and its first line
    from this handler's formatter)."""

    def format_subject(self, subject: str) -> str:
        return str(redact(super().format_subject(subject)))
