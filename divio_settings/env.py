"""The readers every settings group reads the environment with, and the errors they raise.

A reader takes a :class:`~divio_settings.variables.Variable` of the registry, never a bare name,
so no code can read a variable the registry does not declare; it strips quotes and blanks, reads
``NAME_FILE`` for a secret, and raises a :class:`VariableError` that names the variable and what
was expected, never its value. :class:`Environment` is the process's environment as apply()
reads it, with the names that end like a registry variable found in one pass.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .variables import DOMAIN, IDLE_GROUPS, PREFIX, STAGE, VARIABLES, Variable

Env = Mapping[str, str]

TRUE_WORDS: Final = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "off"})
_QUOTES: Final = ("'", '"')
_SHOWN_CHARS: Final = 60


class VariableError(ImproperlyConfigured):
    """Bad variables, as data: ``problems`` holds (variable, line) pairs, and the message is
    their lines, one per variable (``NAME: expected …; detail``)."""

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = tuple(dict.fromkeys(problems))
        super().__init__("\n".join(line for _, line in self.problems))

    @property
    def variables(self) -> set[str]:
        return {name for name, _ in self.problems}


def invalid(name: str, expected: str, detail: str = "") -> VariableError:
    """The one error users see: ``NAME: expected …; detail``. Never pass a secret in *detail*."""
    message = f"{name}: expected {expected}"
    if detail:
        message += f"; {detail}"
    return VariableError([(name, message)])


def shown(value: str) -> str:
    """A non-secret value, quoted and shortened, fit for an error message."""
    if len(value) > _SHOWN_CHARS:
        value = value[:_SHOWN_CHARS] + "…"
    return ascii(value)


def get(env: Env, variable: Variable) -> str | None:
    """The variable's value without surrounding blanks or quotes; ``None`` when unset or empty.

    Divio's Control Panel keeps trailing spaces and Compose files are often written with quotes,
    so both are removed here, once, for every variable. A secret variable can also come from a
    file: ``SECRET_KEY_FILE=/run/secrets/key`` (the Docker and Kubernetes secrets convention).
    """
    value = clean(env.get(variable.name), variable.name)
    if variable.secret:
        return from_file(env, variable.name, value)
    return value


FILE_SUFFIX: Final = "_FILE"


def from_file(env: Env, name: str, value: str | None) -> str | None:
    """*value*, or the content of the file ``<name>_FILE`` names; both set is an error."""
    path = env.get(name + FILE_SUFFIX)
    if path is None or not path.strip():
        return value
    path = path.strip()
    if value is not None:
        raise invalid(name + FILE_SUFFIX, f"either {name} or {name}_FILE", "both are set; keep one")
    # Read once per apply(): the settings and the scrubber get the same value even if the file
    # changes in between.
    files = env.files if isinstance(env, Environment) else {}
    if path not in files:
        files[path] = read_secret_file(name + FILE_SUFFIX, path, name)
    found = clean(files[path], name)
    if found is None:
        raise invalid(name + FILE_SUFFIX, f"a file that holds {name}", f"{shown(path)} is empty")
    return found


# A secret file holds a key or a password: a larger one is a mistake (a log, /dev/zero).
MAX_SECRET_FILE: Final = 64 * 1024


def read_secret_file(variable: str, path: str, holds: str) -> str:
    """The text of the regular file *path*, at most MAX_SECRET_FILE bytes of UTF-8. Opened
    without blocking, so a FIFO or a device (/dev/urandom, /dev/zero) is refused at once instead
    of hanging start-up or filling memory."""
    import os
    import stat

    expected = f"a readable regular file of at most 64 KiB that holds {holds}"
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise invalid(variable, expected, f"{shown(path)}: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise invalid(variable, expected, f"{shown(path)} is not a regular file")
        if status.st_size > MAX_SECRET_FILE:
            raise invalid(variable, expected, f"{shown(path)} has {status.st_size:,} bytes")
        content = handle.read(MAX_SECRET_FILE + 1)
    if len(content) > MAX_SECRET_FILE:
        raise invalid(variable, expected, f"{shown(path)} has more than 64 KiB")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(variable, expected, f"{shown(path)}: it is not UTF-8 text") from None


def clean(raw: str | None, name: str = "") -> str | None:
    """A raw value as every reader sees it: stripped of blanks and quotes, ``None`` when empty;
    not UTF-8 is an error naming *name*."""
    if raw is None:
        return None
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        # Bytes that are not UTF-8 reach os.environ as lone surrogates (PEP 383).
        raise invalid(name, "UTF-8 text", "it contains bytes that are not UTF-8") from None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in _QUOTES:
        value = value[1:-1].strip()
    return value or None


def read_bool(env: Env, variable: Variable) -> bool | None:
    value = get(env, variable)
    if value is None:
        return None
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise invalid(variable.name, "true or false (also 1/0, yes/no, on/off)", f"got {shown(value)}")


def read_int(env: Env, variable: Variable, minimum: int = 0) -> int | None:
    value = get(env, variable)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) < minimum:
        raise invalid(variable.name, f"a whole number of at least {minimum}", f"got {shown(value)}")
    return int(value)


def read_rate(env: Env, variable: Variable) -> float | None:
    """A share from 0 to 1 (0.25, 1, .5)."""
    value = get(env, variable)
    if value is None:
        return None
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not (value.isascii() and 0.0 <= rate <= 1.0):
        raise invalid(variable.name, "a number from 0 to 1, such as 0.1", f"got {shown(value)}")
    return rate


def read_list(env: Env, variable: Variable) -> list[str]:
    """A comma-separated list: items stripped of blanks and quotes, empty items dropped."""
    value = get(env, variable)
    if value is None:
        return []
    items = (item.strip().strip("'\"").strip() for item in value.split(","))
    return [item for item in items if item]


def check_url(name: str, value: str, schemes: Collection[str], example: str) -> SplitResult:
    _check_characters(name, value, example)
    try:
        parts = urlsplit(value)
        port = parts.port  # urllib validates the port lazily (and refuses above 65535)
    except ValueError:
        raise invalid(
            name,
            f"a URL like {example}",
            "the host or port cannot be read; percent-encode special characters in the "
            "user name and password (# as %23, / as %2F, @ as %40, : as %3A, ? as %3F)",
        ) from None
    if port == 0:
        raise invalid(name, f"a URL like {example}", "the port is 0; ports are 1 to 65535")
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        # Not echoed: what stands before :// may be a pasted secret, not a scheme.
        known = ", ".join(sorted(schemes))
        raise invalid(name, f"a URL like {example}", f"its scheme is not one of: {known}")
    if "#" in value:
        raise invalid(name, f"a URL like {example}", "it contains '#'; percent-encode it as %23")
    if _spilled(value.split("://", 1)[1][len(parts.netloc) :]):
        # user:pa/ss@host or user:pa?ss@host: the credentials spill into the path or query.
        raise invalid(
            name,
            f"a URL like {example}",
            "the user name or password has a '/' or '?' that must be "
            "percent-encoded (/ as %2F, ? as %3F)",
        )
    return parts


def _check_characters(name: str, value: str, example: str) -> None:
    """No control character, a scheme:// prefix, no blank."""
    # Printable ASCII (the usual case) has no control character and no blank but " ": two
    # C-level tests instead of a Python-level look at every character.
    plain = value.isascii() and value.isprintable()
    if not plain and any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise invalid(name, f"a URL like {example}", "it contains control characters")
    if "://" not in value:
        raise invalid(name, f"a URL like {example}", "it has no scheme:// prefix")
    if " " in value if plain else any(char.isspace() for char in value):
        raise invalid(
            name, f"a URL like {example}", "it contains a blank; percent-encode it as %20"
        )


def _spilled(rest: str) -> bool:
    """An '@' after the host: credentials with a '/' or '?' spilled into the path or query
    (user:pa?ss@host, ?=:pass@host, us?er=:pass@host), unless each '@' is inside a named query
    argument's value that is not credentials-shaped (?from=a@b.com, not ?x=:pass@host)."""
    if "@" not in rest:
        return False
    path, _, query = rest.partition("?")
    if "@" in path:
        return True
    for arg in query.split("&"):
        if "@" in arg:
            key, equals, value = arg.partition("=")
            if not key or not equals or "@" in key or ":" in value.partition("@")[0]:
                return True
    return False


def prefixed(
    env: Env, family: Variable, main: Variable | None = None
) -> dict[str, tuple[str, str]]:
    """alias -> (variable, value) for every set ``<PREFIX>_…`` of *family*, e.g. ALT_DATABASE_DSN.

    The alias is the prefix in lower case; *main* (DATABASE_URL, CACHE_URL) is 'default' and wins
    over DEFAULT_…. Prefixes are upper case letters, digits and underscores.
    """
    if isinstance(env, Environment):
        key = (family.name, main.name if main else "")
        cached = env.families.get(key)
        if cached is None:
            cached = env.families[key] = _prefixed(env, family, main)
        return dict(cached)
    return _prefixed(env, family, main)


def _prefixed(env: Env, family: Variable, main: Variable | None) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    value = get(env, main) if main else None
    if main and value is not None:
        found["default"] = (main.name, value)
    suffix = family.suffix
    names = set(candidates(env, suffix))
    if family.secret:  # ALT_DATABASE_DSN_FILE stands for ALT_DATABASE_DSN
        names |= {name[: -len(FILE_SUFFIX)] for name in candidates(env, suffix + FILE_SUFFIX)}
    for name in sorted(names):
        prefix = name[: -len(suffix)]
        if not prefix[:1].isalpha() or not prefix.isupper():
            continue
        if prefix.replace("_", "").isalnum() and prefix.isascii():
            value = clean(env.get(name), name)
            if family.secret:
                value = from_file(env, name, value)
            if value is not None:
                found.setdefault(prefix.lower(), (name, value))
    return found


def is_cloud(env: Env) -> bool:
    """Cloud means DOMAIN is set or STAGE names anything but ``local``."""
    stage = get(env, STAGE)
    return get(env, DOMAIN) is not None or (stage is not None and stage.lower() != "local")


# What the names of the idle groups' variables end with (a family's suffix, or a whole name).
_WAKING: Final = {v.suffix: v.group for v in VARIABLES if v.group in IDLE_GROUPS}
_WAKING_ENDS: Final = tuple(_WAKING)


def awake(env: Env) -> set[str]:
    """The idle groups that one of their variables wakes up."""
    return {group for ending, group in _WAKING.items() if candidates(env, ending)}


# Every ending the library looks for in the names of the environment: the <PREFIX>_ families
# and the idle groups' variables.
_ENDINGS: Final = tuple(
    dict.fromkeys(
        ending
        for v in VARIABLES
        if v.name.startswith(PREFIX)
        for ending in ((v.suffix, v.suffix + "_FILE") if v.secret else (v.suffix,))
    )
)
_ENDINGS_ALL: Final = tuple(dict.fromkeys(_ENDINGS + _WAKING_ENDS))
# Their last three characters, a handful: most names of an environment fail this first test,
# which costs half of the full one (benchmarks/env_scale.py).
_TAILS: Final = tuple(dict.fromkeys(ending[-3:] for ending in _ENDINGS_ALL))


class Environment(Mapping[str, str]):
    """The environment apply() reads (not copied), with the names that end like a variable of
    the registry found in one pass (instead of one pass per family and group: a pod can have
    thousands of unrelated variables)."""

    def __init__(self, env: Env) -> None:
        self._env = env
        self._index: dict[str, list[str]] | None = None
        # prefixed()'s answers: read by the group, the secret scrubber and the report alike.
        self.families: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
        # The secret files read (path -> text), once per apply().
        self.files: dict[str, str] = {}
        # secret_variables.secret_items(): (variable, name, value), for the length rule and the
        # scrubber alike.
        self.secrets: list[tuple[Variable, str, str]] | None = None

    def __getitem__(self, name: str) -> str:
        return self._env[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)

    def get(self, name: str, default: Any = None) -> Any:
        # Mapping.get raises and catches a KeyError for every unset variable, which most are.
        return self._env.get(name, default)

    def ending(self, suffix: str) -> list[str]:
        if self._index is None:
            index: dict[str, list[str]] = {ending: [] for ending in _ENDINGS_ALL}
            for name in self._env:
                if name.endswith(_TAILS) and name.endswith(_ENDINGS_ALL):
                    for ending in _ENDINGS_ALL:
                        if name.endswith(ending):
                            index[ending].append(name)
            self._index = index
        found = self._index.get(suffix)
        if found is None:
            return [name for name in self if name.endswith(suffix)]
        return found


def candidates(env: Env, suffix: str) -> list[str]:
    """The names of *env* that end with *suffix*."""
    if isinstance(env, Environment):
        return env.ending(suffix)
    return [name for name in env if name.endswith(suffix)]


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
