"""The debug page: Django's masking plus DSNs, and no URL password anywhere on the page."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.utils.safestring import SafeString
from django.views.debug import ExceptionReporter as DjangoReporter
from django.views.debug import SafeExceptionReporterFilter as DjangoFilter

from .redaction import REDACTED, SECRET_WORDS, is_secret_field, redact

# Larger bytes values in a frame are not read for secrets (the page trims them at 4 KiB anyway).
MAX_SCRUBBED = 1024 * 1024


@functools.cache
def hidden_settings() -> re.Pattern[str]:
    """Django's secret words and ours, compiled on first use (this module is imported whenever
    logging is configured: compiling at import cost every process)."""
    return re.compile("|".join(SECRET_WORDS), flags=re.IGNORECASE)


class SafeExceptionReporterFilter(DjangoFilter):
    """Masks what Django masks, settings named ``*_DSN``, and the password of any URL value.

    Installed as DEFAULT_EXCEPTION_REPORTER_FILTER by apply() unless settings.py chose one.
    """

    cleansed_substitute = REDACTED

    @property
    def hidden_settings(self) -> re.Pattern[str]:  # type: ignore[override]
        return hidden_settings()

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed

    def get_post_parameters(self, request: Any) -> Any:
        """Django's masking (sensitive_post_parameters, while DEBUG is off), then every field
        whose name looks secret (``password``, ``card_number``, ``otp``), also on the debug page
        and without the decorator: a login view can fail before its decorator applies."""
        parameters = super().get_post_parameters(request)
        secret = [name for name in parameters if is_secret_field(str(name))]
        if not secret:
            return parameters
        cleansed = parameters.copy()
        for name in secret:
            cleansed[name] = self.cleansed_substitute
        return cleansed

    def cleanse_special_types(self, request: Any, value: Any) -> Any:
        """A local variable holding a secret as bytes (``SECRET_KEY.encode()``): the page
        prints it with pprint, which splits a long bytes value into pieces the page's scrubbing
        cannot recognise, so it is scrubbed here, whole, as its repr."""
        value = super().cleanse_special_types(request, value)
        if not isinstance(value, bytes | bytearray | memoryview):
            return value
        size = value.nbytes if isinstance(value, memoryview) else len(value)
        if size <= MAX_SCRUBBED:
            text = repr(bytes(value))
            scrubbed = redact(text)
            if scrubbed != text:
                return scrubbed
        return value


class ExceptionReporter(DjangoReporter):
    """Removes URL passwords from the whole report: exception messages and local variables too.

    Installed as DEFAULT_EXCEPTION_REPORTER by apply() unless settings.py chose one.
    """

    def get_traceback_html(self) -> SafeString:
        return SafeString(redact(str(super().get_traceback_html())))

    def get_traceback_text(self) -> SafeString:
        return SafeString(redact(str(super().get_traceback_text())))


def redact_technical_404() -> None:
    """Django's DEBUG 404 page (the "Page not found" page with the URL patterns and the Http404
    message) is not built by the exception reporter: redact it the same way. Installed by the
    app's ready() while DEBUG is on; idempotent."""
    from django.views import debug

    original = debug.technical_404_response
    if getattr(original, "divio_settings_redacted", False):
        return

    def technical_404_response(request: Any, exception: Any) -> Any:
        response = original(request, exception)
        charset = response.charset or "utf-8"
        response.content = str(redact(response.content.decode(charset, "replace"))).encode(charset)
        return response

    technical_404_response.divio_settings_redacted = True  # type: ignore[attr-defined]
    debug.technical_404_response = technical_404_response
