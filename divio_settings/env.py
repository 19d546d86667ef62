"""Reading the environment: typed readers and errors that name the variable, never its value."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

Env = Mapping[str, str]

TRUE_WORDS: Final = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "off"})
_QUOTES: Final = ("'", '"')
_SHOWN_CHARS: Final = 60
REDIRECT_MIDDLEWARE: Final = "divio_settings.middleware.DomainRedirectMiddleware"


class Variable:
    """One environment variable the library reads; the registries feed the report and the docs."""

    __slots__ = ("default", "kind", "name", "secret", "sets", "summary")

    def __init__(
        self,
        name: str,
        kind: str,
        summary: str,
        default: str = "",
        secret: bool = False,
        sets: tuple[str, ...] = (),
    ) -> None:
        self.name, self.kind, self.summary = name, kind, summary
        self.default, self.secret, self.sets = default, secret, sets

    def __repr__(self) -> str:
        return f"Variable({self.name!r})"


class Changes:
    """The settings one group wants to write, each with the variable(s) it came from."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        # Side effects (starting Sentry) that apply() runs once every setting is written.
        self.after: list[Callable[[], None]] = []

    def set(self, setting: str, value: Any, source: str) -> None:
        self.values[setting] = value
        self.sources[setting] = source

    def update(self, other: Changes) -> None:
        for setting, value in other.values.items():
            previous = self.sources.get(setting)
            source = other.sources[setting]
            if previous and previous != source:
                source = f"{previous}; {source}"
            self.set(setting, value, source)
        self.after.extend(other.after)


def invalid(name: str, expected: str, detail: str = "") -> ImproperlyConfigured:
    """The one error users see: ``NAME: expected …; detail``. Never pass a secret in *detail*."""
    message = f"{name}: expected {expected}"
    if detail:
        message += f"; {detail}"
    return ImproperlyConfigured(message)


def shown(value: str) -> str:
    """A non-secret value, quoted and shortened, fit for an error message."""
    if len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "…"
    return ascii(value)


def get(env: Env, name: str) -> str | None:
    """The variable's value without surrounding blanks or quotes; ``None`` when unset or empty.

    Divio's Control Panel keeps trailing spaces and Compose files are often written with quotes,
    so both are removed here, once, for every variable.
    """
    raw = env.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in _QUOTES:
        value = value[1:-1].strip()
    return value or None


def read_bool(env: Env, name: str) -> bool | None:
    value = get(env, name)
    if value is None:
        return None
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise invalid(name, "true or false (also 1/0, yes/no, on/off)", f"got {shown(value)}")


def read_int(env: Env, name: str, minimum: int = 0) -> int | None:
    value = get(env, name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < minimum:
        raise invalid(name, f"a whole number of at least {minimum}", f"got {shown(value)}")
    return int(value)


def read_list(env: Env, name: str) -> list[str]:
    """A comma-separated list: items stripped of blanks and quotes, empty items dropped."""
    value = get(env, name)
    if value is None:
        return []
    items = (item.strip().strip("'\"").strip() for item in value.split(","))
    return [item for item in items if item]


def check_url(name: str, value: str, schemes: Sequence[str], example: str) -> SplitResult:
    expected = f"a URL like {example}"
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise invalid(name, expected, "it contains control characters")
    if "://" not in value:
        raise invalid(name, expected, "it has no scheme:// prefix")
    if any(char.isspace() for char in value):
        raise invalid(name, expected, "it contains a blank; percent-encode it as %20")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - urllib validates the port lazily
    except ValueError:
        raise invalid(
            name,
            expected,
            "the host or port cannot be read; percent-encode special characters in the "
            "user name and password (# as %23, / as %2F, @ as %40, : as %3A, ? as %3F)",
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        known = ", ".join(sorted(schemes))
        raise invalid(name, expected, f"the scheme {shown(scheme)} is not one of: {known}")
    if "#" in value:
        raise invalid(name, expected, "it contains '#'; percent-encode it as %23")
    if "@" in value.split("://", 1)[1][len(parts.netloc) :]:
        # user:pa/ss@host or user:pa?ss@host: the credentials spill into the path or query.
        raise invalid(
            name,
            expected,
            "the user name or password has a '/' or '?' that must be "
            "percent-encoded (/ as %2F, ? as %3F)",
        )
    return parts


def prefixed(env: Env, suffix: str, main: str | None = None) -> dict[str, tuple[str, str]]:
    """alias -> (variable, value) for every set ``<PREFIX><suffix>``, e.g. ALT_DATABASE_DSN.

    The alias is the prefix in lower case; *main* (DATABASE_URL, CACHE_URL) is 'default' and wins
    over DEFAULT<suffix>. Prefixes are upper case letters, digits and underscores.
    """
    found: dict[str, tuple[str, str]] = {}
    value = get(env, main) if main else None
    if main and value is not None:
        found["default"] = (main, value)
    for name in sorted(env):
        prefix = name[: -len(suffix)]
        if not name.endswith(suffix) or not prefix[:1].isalpha() or not prefix.isupper():
            continue
        if prefix.replace("_", "").isalnum() and prefix.isascii():
            value = get(env, name)
            if value is not None:
                found.setdefault(prefix.lower(), (name, value))
    return found


def is_cloud(env: Env) -> bool:
    """Cloud means DOMAIN is set or STAGE names anything but ``local``."""
    stage = get(env, "STAGE")
    return get(env, "DOMAIN") is not None or (stage is not None and stage.lower() != "local")


def base_dir(current: Mapping[str, Any]) -> str:
    """The project directory: settings.py's BASE_DIR, else the folder above the settings package."""
    import os.path

    base = current.get("BASE_DIR")
    if base is not None:
        return str(base)
    settings_file = current.get("__file__")
    if isinstance(settings_file, str):
        return os.path.dirname(os.path.dirname(os.path.abspath(settings_file)))
    return os.getcwd()
