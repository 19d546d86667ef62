"""The debug page's filter: Django's masking plus DSNs and passwords inside URLs."""

from __future__ import annotations

from typing import Any

from django.views.debug import SafeExceptionReporterFilter as DjangoFilter

from .report import REDACTED, SECRET_NAMES, redact


class SafeExceptionReporterFilter(DjangoFilter):
    """Masks what Django masks, settings named ``*_DSN``, and the password of any URL value.

    Installed as DEFAULT_EXCEPTION_REPORTER_FILTER by apply() unless settings.py chose one.
    """

    hidden_settings = SECRET_NAMES
    cleansed_substitute = REDACTED

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed
