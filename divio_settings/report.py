"""What apply() set and where it came from, with every secret redacted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, TypedDict

REDACTED: Final = "********"

# Django's own list (SafeExceptionReporterFilter.hidden_settings) plus the names that hold DSNs.
SECRET_NAMES: Final = re.compile(
    "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DSN|CREDENTIAL", flags=re.IGNORECASE
)
# scheme://user:password@ — the password part of any URL inside a string.
_URL_PASSWORD: Final = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^\s@]*@")


class Entry(TypedDict):
    setting: str
    value: Any
    source: str


def redact(value: Any, name: str = "") -> Any:
    """A copy of *value* fit to print: secret-named entries masked, URL passwords removed."""
    if name and SECRET_NAMES.search(name):
        return REDACTED if value not in (None, "", [], (), {}) else value
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\g<head>{REDACTED}@", value)
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
