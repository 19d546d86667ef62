"""The debug page: Django's masking plus DSNs, and no URL password anywhere on the page."""

from __future__ import annotations

import re
from typing import Any

from django.utils.safestring import SafeString
from django.views.debug import ExceptionReporter as DjangoReporter
from django.views.debug import SafeExceptionReporterFilter as DjangoFilter

from .report import REDACTED, SECRET_WORDS, redact


class SafeExceptionReporterFilter(DjangoFilter):
    """Masks what Django masks, settings named ``*_DSN``, and the password of any URL value.

    Installed as DEFAULT_EXCEPTION_REPORTER_FILTER by apply() unless settings.py chose one.
    """

    hidden_settings = re.compile("|".join(SECRET_WORDS), flags=re.IGNORECASE)
    cleansed_substitute = REDACTED

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed


class ExceptionReporter(DjangoReporter):
    """Removes URL passwords from the whole report: exception messages and local variables too.

    Installed as DEFAULT_EXCEPTION_REPORTER by apply() unless settings.py chose one.
    """

    def get_traceback_html(self) -> SafeString:
        return SafeString(redact(str(super().get_traceback_html())))

    def get_traceback_text(self) -> SafeString:
        return SafeString(redact(str(super().get_traceback_text())))
