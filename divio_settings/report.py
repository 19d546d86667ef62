"""What apply() set and where it came from, with every secret redacted."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, TypedDict

REDACTED: Final = "********"

# Django's own list (SafeExceptionReporterFilter.hidden_settings) plus the names that hold DSNs.
SECRET_WORDS: Final = (
    "API",
    "AUTH",
    "TOKEN",
    "KEY",
    "SECRET",
    "PASS",
    "SIGNATURE",
    "HTTP_COOKIE",
    "DSN",
    "CREDENTIAL",
)


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


@functools.cache
def url_userinfo() -> re.Pattern[str]:
    """scheme://user:password@ — the userinfo of a URL, up to the last @ before the path.

    Compiled on first need: most values hold no URL with credentials, and start-up counts.
    """
    return re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/\s?#]*)@")


def _mask(match: re.Match[str]) -> str:
    user, colon, _ = match.group("info").partition(":")
    if not colon:
        return match.group(0)  # a user name alone is no secret
    return f"{match.group('head')}{user}:{REDACTED}@"


if TYPE_CHECKING:

    class Entry(TypedDict):
        setting: str
        value: Any
        source: str


def redact(value: Any, name: str = "") -> Any:
    """A copy of *value* fit to print: secret-named entries masked, URL passwords removed."""
    if name and is_secret_name(name):
        return REDACTED if value not in (None, "", [], (), {}) else value
    if isinstance(value, str):
        return url_userinfo().sub(_mask, value) if "@" in value and "://" in value else value
    if isinstance(value, Mapping):
        return {key: redact(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value


def entries(values: Mapping[str, Any], sources: Mapping[str, str]) -> list[Entry]:
    return [
        {"setting": setting, "value": redact(values[setting], setting), "source": sources[setting]}
        for setting in sorted(values)
    ]
