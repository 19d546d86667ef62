"""What every settings group works with: the variables it may read (the registry), the readers,
the errors that name a variable (never its value), and the Changes it returns.

The registry is the single source for everything said about a variable: which group reads it,
its shape, its default, whether it holds a secret (the report and the debug page scrub the
values of secret variables), which settings it sets, the docs reference (tests compare it field
by field), ``divio-settings show --variables`` and the start-up gating of idle groups. The
readers take a :class:`Variable`, never a bare name, so the code cannot read a variable the
registry does not declare.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

Env = Mapping[str, str]

TRUE_WORDS: Final = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "off"})
_QUOTES: Final = ("'", '"')
_SHOWN_CHARS: Final = 60
PREFIX: Final = "<PREFIX>"


class Variable:
    """One environment variable the library reads, as the docs describe it."""

    __slots__ = (
        "context",
        "default",
        "example",
        "group",
        "kind",
        "name",
        "secret",
        "sets",
        "summary",
    )

    def __init__(
        self,
        name: str,
        group: str,
        kind: str,
        summary: str,
        default: str = "",
        secret: bool = False,
        sets: tuple[str, ...] = (),
        example: str = "",
        context: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.name, self.group, self.kind, self.summary = name, group, kind, summary
        self.default, self.secret, self.sets = default, secret, sets
        # A value with an effect, and the variables it needs beside it to have one (the docs
        # show them; a test sets them in every environment and checks `sets`).
        self.example, self.context = example, context

    def __repr__(self) -> str:
        return f"Variable({self.name!r})"

    @property
    def suffix(self) -> str:
        """What every name of a ``<PREFIX>_…`` family ends with (the whole name otherwise)."""
        return self.name.removeprefix(PREFIX)


# --- The registry, group by group, in the order of docs/reference/variables.md. ---

DOMAIN: Final = Variable(
    "DOMAIN",
    "hosts",
    "domain",
    "The environment's primary domain.",
    "unset locally",
    sets=(
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "DIVIO_DOMAIN",
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "DIVIO_ENVIRONMENT",
        "DIVIO_STAGE",
        "CACHES",
    ),
    example="www.example.com",
    context=(("SECRET_KEY", "Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4sM"),),
)

DOMAIN_ALIASES: Final = Variable(
    "DOMAIN_ALIASES",
    "hosts",
    "comma list of domains",
    "Other domains served as they are.",
    "none",
    sets=("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"),
    example="example.ch, *.example.org",
)

DOMAIN_REDIRECTS: Final = Variable(
    "DOMAIN_REDIRECTS",
    "hosts",
    "comma list of domains",
    "Domains redirected to DOMAIN.",
    "none",
    sets=("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DIVIO_DOMAIN_REDIRECTS", "MIDDLEWARE"),
    example="example.net",
    context=(("DOMAIN", "www.example.com"), ("SECRET_KEY", "Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4sM")),
)

DOMAIN_REDIRECT_PERMANENT: Final = Variable(
    "DOMAIN_REDIRECT_PERMANENT",
    "hosts",
    "boolean",
    "301 instead of 302 for domain redirects.",
    "false",
    sets=("DIVIO_DOMAIN_REDIRECT_PERMANENT",),
    example="true",
    context=(
        ("DOMAIN", "www.example.com"),
        ("DOMAIN_REDIRECTS", "example.net"),
        ("SECRET_KEY", "Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4sM"),
    ),
)

SECRET_KEY: Final = Variable(
    "SECRET_KEY",
    "security",
    "string",
    "Django's signing key.",
    "required in the cloud; locally and at build time a key derived from the machine and the project folder",
    secret=True,
    sets=("SECRET_KEY",),
    example="Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4sM",
)

SECRET_KEY_FALLBACKS: Final = Variable(
    "SECRET_KEY_FALLBACKS",
    "security",
    "comma list",
    "Former keys still accepted while rotating.",
    "none",
    secret=True,
    sets=("SECRET_KEY_FALLBACKS",),
    example="old-key-Lw0pX7vB2nR8tY5u, older-key-cH6gD4sMZf3kq9",
)

DJANGO_DEBUG: Final = Variable(
    "DJANGO_DEBUG",
    "security",
    "boolean",
    "Django's DEBUG.",
    "false (locally: settings.py's DEBUG)",
    sets=("DEBUG",),
    example="true",
)

STAGE: Final = Variable(
    "STAGE",
    "security",
    "string",
    "Divio environment name (test, live, …); anything but local means cloud.",
    "local",
    sets=(
        "DIVIO_STAGE",
        "DIVIO_ENVIRONMENT",
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "ALLOWED_HOSTS",
        "CACHES",
    ),
    example="test",
    context=(("SECRET_KEY", "Zf3kq9Lw0pX7vB2nR8tY5uJ1cH6gD4sM"),),
)

SECURE_SSL_REDIRECT: Final = Variable(
    "SECURE_SSL_REDIRECT",
    "security",
    "boolean",
    "Redirect http to https.",
    "true in the cloud, false locally",
    sets=(
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    ),
    example="false",
)

SECURE_HSTS_SECONDS: Final = Variable(
    "SECURE_HSTS_SECONDS",
    "security",
    "integer",
    "Strict-Transport-Security max-age.",
    "3600 in the cloud while redirecting to https, else 0",
    sets=(
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    ),
    example="31536000",
)

SECURE_HSTS_INCLUDE_SUBDOMAINS: Final = Variable(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "security",
    "boolean",
    "Add includeSubDomains to HSTS.",
    "true when HSTS is on",
    sets=(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    ),
    example="false",
    context=(("SECURE_HSTS_SECONDS", "3600"),),
)

SECURE_HSTS_PRELOAD: Final = Variable(
    "SECURE_HSTS_PRELOAD",
    "security",
    "boolean",
    "Add preload to HSTS.",
    "true when HSTS is on",
    sets=("SECURE_HSTS_PRELOAD",),
    example="false",
    context=(("SECURE_HSTS_SECONDS", "3600"),),
)

DATABASE_URL: Final = Variable(
    "DATABASE_URL",
    "databases",
    "URL",
    "The default database.",
    "settings.py's DATABASES, else SQLite in <BASE_DIR>/db.sqlite3",
    secret=True,
    sets=("DATABASES",),
    example="postgres://user:password@db.example.com:5432/site",
)

PREFIXED_DATABASE_DSN: Final = Variable(
    "<PREFIX>_DATABASE_DSN",
    "databases",
    "URL",
    "One more database per Divio database service; "
    "the alias is the prefix in lower case (DEFAULT_ is 'default').",
    "none",
    secret=True,
    sets=("DATABASES",),
    example="mysql://user:password@db2.example.com:3306/legacy",
)

DATABASE_CONN_MAX_AGE: Final = Variable(
    "DATABASE_CONN_MAX_AGE",
    "databases",
    "integer",
    "Seconds a connection is kept (CONN_MAX_AGE).",
    "0 (a new connection per request; safe under ASGI)",
    sets=("DATABASES",),
    example="60",
    context=(("DATABASE_URL", "postgres://user:password@db.example.com:5432/site"),),
)

DATABASE_CONN_HEALTH_CHECKS: Final = Variable(
    "DATABASE_CONN_HEALTH_CHECKS",
    "databases",
    "boolean",
    "CONN_HEALTH_CHECKS.",
    "true when DATABASE_CONN_MAX_AGE > 0",
    sets=("DATABASES",),
    example="true",
    context=(("DATABASE_URL", "postgres://user:password@db.example.com:5432/site"),),
)

DATABASE_POOL: Final = Variable(
    "DATABASE_POOL",
    "databases",
    "boolean",
    "psycopg 3 connection pool (PostgreSQL only); requires DATABASE_CONN_MAX_AGE=0.",
    "false",
    sets=("DATABASES",),
    example="true",
    context=(("DATABASE_URL", "postgres://user:password@db.example.com:5432/site"),),
)

DATABASE_POOL_MIN_SIZE: Final = Variable(
    "DATABASE_POOL_MIN_SIZE",
    "databases",
    "integer",
    "Connections the pool keeps open (psycopg_pool's min_size); needs DATABASE_POOL.",
    "psycopg_pool's: 4",
    sets=("DATABASES",),
    example="2",
    context=(
        ("DATABASE_URL", "postgres://user:password@db.example.com:5432/site"),
        ("DATABASE_POOL", "true"),
    ),
)

DATABASE_POOL_MAX_SIZE: Final = Variable(
    "DATABASE_POOL_MAX_SIZE",
    "databases",
    "integer",
    "Most connections the pool opens (psycopg_pool's max_size); needs DATABASE_POOL.",
    "psycopg_pool's: min_size",
    sets=("DATABASES",),
    example="10",
    context=(
        ("DATABASE_URL", "postgres://user:password@db.example.com:5432/site"),
        ("DATABASE_POOL", "true"),
    ),
)

DATABASE_POOL_TIMEOUT: Final = Variable(
    "DATABASE_POOL_TIMEOUT",
    "databases",
    "integer",
    "Seconds a request waits for a pooled connection (psycopg_pool's timeout); needs "
    "DATABASE_POOL.",
    "psycopg_pool's: 30",
    sets=("DATABASES",),
    example="5",
    context=(
        ("DATABASE_URL", "postgres://user:password@db.example.com:5432/site"),
        ("DATABASE_POOL", "true"),
    ),
)

DEFAULT_STORAGE_DSN: Final = Variable(
    "DEFAULT_STORAGE_DSN",
    "storage",
    "DSN",
    "Media storage: s3://, az:// or file://.",
    "settings.py's STORAGES['default'], else files in <BASE_DIR>/data/media",
    secret=True,
    sets=("STORAGES", "MEDIA_URL", "MEDIA_ROOT", "DEFAULT_STORAGE_DSN", "DIVIO_STATIC_FALLBACK"),
    example="s3://KEY:SECRET@bucket.s3.amazonaws.com/?domain=media.example.com",
)

PREFIXED_STORAGE_DSN: Final = Variable(
    "<PREFIX>_STORAGE_DSN",
    "storage",
    "DSN",
    "One more storage per Divio storage service, named after the prefix in lower case.",
    "none",
    secret=True,
    sets=("STORAGES",),
    example="file:///data/private/?url=%2Fprivate%2F",
)

MEDIA_FAST_URLS: Final = Variable(
    "MEDIA_FAST_URLS",
    "storage",
    "boolean",
    "Render public media URLs without loading the storage SDK.",
    "true",
    sets=("STORAGES",),
    example="false",
    context=(
        (
            "DEFAULT_STORAGE_DSN",
            "s3://KEY:SECRET@bucket.s3.amazonaws.com/?domain=media.example.com",
        ),
    ),
)

CACHE_URL: Final = Variable(
    "CACHE_URL",
    "caches",
    "URL",
    "The default cache: redis://, rediss://, db://table, "
    "locmem://, dummy://, file:///path, memcache://host:port, pylibmc://host:port.",
    "settings.py's CACHES; else in the cloud the database cache (table django_dbcache), locally Django's per-process locmem",
    secret=True,
    sets=("CACHES",),
    example="redis://:password@cache.example.com:6379/0",
)

PREFIXED_CACHE_URL: Final = Variable(
    "<PREFIX>_CACHE_URL",
    "caches",
    "URL",
    "One more cache per variable, named after the prefix in "
    "lower case (SESSIONS_CACHE_URL is CACHES['sessions']).",
    "none",
    secret=True,
    sets=("CACHES",),
    example="locmem://sessions",
)

EMAIL_URL: Final = Variable(
    "EMAIL_URL",
    "mail",
    "URL",
    "Outgoing mail: smtp://, submission:// (587, STARTTLS), "
    "smtps:// (465, implicit TLS), console:, dummy:, file:///path, memory:.",
    "settings.py's email settings",
    secret=True,
    sets=(
        "MAILERS",
        "EMAIL_BACKEND",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "EMAIL_HOST_USER",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_USE_TLS",
        "EMAIL_USE_SSL",
        "EMAIL_TIMEOUT",
        "EMAIL_FILE_PATH",
    ),
    example="submission://user:password@smtp.example.com",
)

DEFAULT_FROM_EMAIL: Final = Variable(
    "DEFAULT_FROM_EMAIL",
    "mail",
    "address",
    "Sender of ordinary mail.",
    "settings.py's",
    sets=("DEFAULT_FROM_EMAIL",),
    example="noreply@example.com",
)

SERVER_EMAIL: Final = Variable(
    "SERVER_EMAIL",
    "mail",
    "address",
    "Sender of error mail to ADMINS.",
    "settings.py's",
    sets=("SERVER_EMAIL",),
    example="errors@example.com",
)

LOG_LEVEL: Final = Variable(
    "LOG_LEVEL",
    "logs",
    "level",
    "Level of the root and django loggers: DEBUG, INFO, WARNING, ERROR or CRITICAL.",
    "INFO",
    sets=("LOGGING",),
    example="DEBUG",
)

SENTRY_DSN: Final = Variable(
    "SENTRY_DSN",
    "sentry",
    "URL",
    "Report errors to Sentry (needs divio-settings[sentry]).",
    "off",
    secret=True,
    sets=("DIVIO_SENTRY",),
    example="https://key@o1.ingest.sentry.io/1",
)

SENTRY_TRACES_SAMPLE_RATE: Final = Variable(
    "SENTRY_TRACES_SAMPLE_RATE",
    "sentry",
    "number from 0 to 1",
    "Share of requests traced for performance monitoring.",
    "unset: no tracing",
    sets=("DIVIO_SENTRY",),
    example="0.1",
    context=(("SENTRY_DSN", "https://key@o1.ingest.sentry.io/1"),),
)

SENTRY_PROFILES_SAMPLE_RATE: Final = Variable(
    "SENTRY_PROFILES_SAMPLE_RATE",
    "sentry",
    "number from 0 to 1",
    "Share of traced requests also profiled.",
    "unset: no profiling",
    sets=("DIVIO_SENTRY",),
    example="0.5",
    context=(("SENTRY_DSN", "https://key@o1.ingest.sentry.io/1"),),
)

GIT_COMMIT: Final = Variable(
    "GIT_COMMIT",
    "sentry",
    "string",
    "Sentry release.",
    "unset: no release",
    sets=("DIVIO_SENTRY",),
    example="4f2a9c1e",
    context=(("SENTRY_DSN", "https://key@o1.ingest.sentry.io/1"),),
)

DEFAULT_AMQP_BROKER_URL: Final = Variable(
    "DEFAULT_AMQP_BROKER_URL",
    "celery",
    "URL",
    "Divio's Celery broker.",
    "none",
    secret=True,
    sets=("CELERY_BROKER_URL",),
    example="amqp://user:password@rabbitmq.example.com:5672/site",
)

BROKER_URL: Final = Variable(
    "BROKER_URL",
    "celery",
    "URL",
    "Former name of DEFAULT_AMQP_BROKER_URL, which wins.",
    "none",
    secret=True,
    sets=("CELERY_BROKER_URL",),
    example="amqp://user:password@rabbitmq.example.com:5672/site",
)

VARIABLES: Final = (
    DOMAIN,
    DOMAIN_ALIASES,
    DOMAIN_REDIRECTS,
    DOMAIN_REDIRECT_PERMANENT,
    SECRET_KEY,
    SECRET_KEY_FALLBACKS,
    DJANGO_DEBUG,
    STAGE,
    SECURE_SSL_REDIRECT,
    SECURE_HSTS_SECONDS,
    SECURE_HSTS_INCLUDE_SUBDOMAINS,
    SECURE_HSTS_PRELOAD,
    DATABASE_URL,
    PREFIXED_DATABASE_DSN,
    DATABASE_CONN_MAX_AGE,
    DATABASE_CONN_HEALTH_CHECKS,
    DATABASE_POOL,
    DATABASE_POOL_MIN_SIZE,
    DATABASE_POOL_MAX_SIZE,
    DATABASE_POOL_TIMEOUT,
    DEFAULT_STORAGE_DSN,
    PREFIXED_STORAGE_DSN,
    MEDIA_FAST_URLS,
    CACHE_URL,
    PREFIXED_CACHE_URL,
    EMAIL_URL,
    DEFAULT_FROM_EMAIL,
    SERVER_EMAIL,
    LOG_LEVEL,
    SENTRY_DSN,
    SENTRY_TRACES_SAMPLE_RATE,
    SENTRY_PROFILES_SAMPLE_RATE,
    GIT_COMMIT,
    DEFAULT_AMQP_BROKER_URL,
    BROKER_URL,
)


class Changes:
    """The settings one group wants to write, each with the variable(s) it came from."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        # Side effects (starting Sentry) that apply() runs once every setting is written.
        self.after: list[Callable[[], None]] = []
        # settings.py's choices kept although a variable was set: setting -> why.
        self.kept: dict[str, str] = {}
        # settings.py's settings that a variable made moot (nothing reads them): setting -> why.
        self.replaced: dict[str, str] = {}

    def set(self, setting: str, value: Any, source: str) -> None:
        self.values[setting] = value
        self.sources[setting] = source

    def keep(self, setting: str, reason: str) -> None:
        self.kept[setting] = reason

    def replace(self, setting: str, reason: str) -> None:
        self.replaced[setting] = reason

    def update(self, other: Changes) -> None:
        for setting, value in other.values.items():
            previous = self.sources.get(setting)
            source = other.sources[setting]
            if previous and previous != source:
                source = f"{previous}; {source}"
            self.set(setting, value, source)
        self.after.extend(other.after)
        self.kept.update(other.kept)
        self.replaced.update(other.replaced)


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
    try:
        with open(path, encoding="utf-8") as secret_file:
            content = secret_file.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise invalid(
            name + FILE_SUFFIX, f"a readable file that holds {name}", f"{shown(path)}: {reason}"
        ) from None
    found = clean(content, name)
    if found is None:
        raise invalid(name + FILE_SUFFIX, f"a file that holds {name}", f"{shown(path)} is empty")
    return found


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
        known = ", ".join(sorted(schemes))
        raise invalid(
            name, f"a URL like {example}", f"the scheme {shown(scheme)} is not one of: {known}"
        )
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


# Variables of other conventions (the deployment guide's .env-local, aldryn-django, Heroku- and
# django-environ-style projects) for something divio-settings governs, and what to use instead.
# divio-settings reads none of them (one name per thing); check W014 names those set that
# settings.py does not read itself either.
_USE_SETTINGS_PY: Final = "settings.py (aldryn-django read it from the environment)"
_USE_DSN: Final = "DEFAULT_STORAGE_DSN (s3://KEY:SECRET@bucket…)"
FOREIGN_NAMES: Final = {
    "DEBUG": "DJANGO_DEBUG",
    "TEMPLATE_DEBUG": "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY": "SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS": "DOMAIN and DOMAIN_ALIASES",
    "ALLOWED_HOSTS": "DOMAIN and DOMAIN_ALIASES",
    "DJANGO_SECURE_SSL_REDIRECT": "SECURE_SSL_REDIRECT",
    "DJANGO_LOG_LEVEL": "LOG_LEVEL",
    "REDIS_URL": "CACHE_URL (redis://…)",
    "DATABASE_NAME": "DATABASE_URL",
    "DATABASE_HOST": "DATABASE_URL",
    "DATABASE_USER": "DATABASE_URL",
    "DATABASE_PASSWORD": "DATABASE_URL",
    "DATABASE_PORT": "DATABASE_URL",
    "EMAIL_HOST": "EMAIL_URL",
    "EMAIL_HOST_USER": "EMAIL_URL",
    "EMAIL_HOST_PASSWORD": "EMAIL_URL",
    "EMAIL_PORT": "EMAIL_URL",
    "AWS_STORAGE_BUCKET_NAME": _USE_DSN,
    "AWS_S3_CUSTOM_DOMAIN": "DEFAULT_STORAGE_DSN's domain=",
    "AWS_S3_ENDPOINT_URL": "DEFAULT_STORAGE_DSN's endpoint=",
    "AWS_S3_FILE_OVERWRITE": "DEFAULT_STORAGE_DSN's overwrite=",
    "SESSION_COOKIE_AGE": _USE_SETTINGS_PY,
    "X_FRAME_OPTIONS": _USE_SETTINGS_PY,
    "STATIC_URL": _USE_SETTINGS_PY,
    "MEDIA_URL": "DEFAULT_STORAGE_DSN's url=",
    "DATA_ROOT": "DEFAULT_STORAGE_DSN (file:///data/media/?url=%2Fmedia%2F)",
    "DISABLE_GZIP": _USE_SETTINGS_PY,
}


def foreign_variables(env: Env, current: Mapping[str, Any]) -> list[list[str]]:
    """[name, what to use instead] for every FOREIGN_NAMES variable that is set and whose value
    settings.py does not hold (a project that reads DJANGO_SECRET_KEY itself uses it)."""
    found = []
    for name, instead in FOREIGN_NAMES.items():
        value = clean(env.get(name))
        if value is not None and not held_by(current, value):
            found.append([name, instead])
    return found


def held_by(current: Mapping[str, Any], value: str) -> bool:
    """Whether a setting of *current* holds *value* (equal, or inside a longer string such as a
    URL). Short values ('True', '587') count only when equal to a string setting."""
    pending: list[Any] = [item for name, item in current.items() if name.isupper()]
    seen = 0
    while pending and seen < 10_000:
        item = pending.pop()
        seen += 1
        if isinstance(item, str):
            if item == value or (len(value) >= 8 and value in item):
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


# Groups with nothing to do unless one of their variables is set: apply() does not even import
# them then (start-up cost). Which variables wake them is the registry's business.
IDLE_GROUPS: Final = ("caches", "mail", "sentry", "celery")


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
_RAW_ENDINGS: Final = tuple(ending.encode() for ending in _ENDINGS_ALL)


class Environment(Mapping[str, str]):
    """The environment apply() reads (not copied), with the names that end like a variable of
    the registry found in one pass (instead of one pass per family and group: a pod can have
    thousands of unrelated variables)."""

    def __init__(self, env: Env) -> None:
        self._env = env
        self._index: dict[str, list[str]] | None = None
        self._raw: dict[bytes, bytes] | None = _raw_environ(env)
        # prefixed()'s answers: read by the group, the secret scrubber and the report alike.
        self.families: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}

    def __getitem__(self, name: str) -> str:
        return self._env[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)

    def get(self, name: str, default: Any = None) -> Any:
        # Mapping.get (os.environ's too) raises and catches a KeyError for every unset
        # variable, which most are; os.environ's own table of bytes is asked directly.
        if self._raw is None:
            return self._env.get(name, default)
        import os

        value = self._raw.get(os.fsencode(name))
        return default if value is None else os.fsdecode(value)

    def _matching(self) -> list[str]:
        """The names that end like a registry variable. os.environ decodes every name it
        yields with a Python-level call; its own table of bytes is read instead and only the
        few matches are decoded (the same decoding os.environ uses): half the time."""
        if self._raw is not None:
            import os

            return [os.fsdecode(raw) for raw in self._raw if raw.endswith(_RAW_ENDINGS)]
        return [name for name in self._env if name.endswith(_ENDINGS_ALL)]

    def ending(self, suffix: str) -> list[str]:
        if self._index is None:
            index: dict[str, list[str]] = {ending: [] for ending in _ENDINGS_ALL}
            for name in self._matching():
                for ending in _ENDINGS_ALL:
                    if name.endswith(ending):
                        index[ending].append(name)
            self._index = index
        found = self._index.get(suffix)
        if found is None:
            return [name for name in self if name.endswith(suffix)]
        return found


def _raw_environ(env: Env) -> dict[bytes, bytes] | None:
    """os.environ's table of bytes on POSIX (the names and values as the process got them)."""
    import os

    data = getattr(env, "_data", None)
    if env is os.environ and os.name == "posix" and isinstance(data, dict):
        return data
    return None


def candidates(env: Env, suffix: str) -> list[str]:
    """The names of *env* that end with *suffix*."""
    if isinstance(env, Environment):
        return env.ending(suffix)
    return [name for name in env if name.endswith(suffix)]


def secret_values(env: Env) -> list[str]:
    """The values of every secret variable that is set (the registry says which are secret)."""
    values: list[str] = []
    for variable in VARIABLES:
        if not variable.secret:
            continue
        if variable.name.startswith(PREFIX):
            values.extend(value for _, value in prefixed(env, variable).values())
        else:
            value = get(env, variable)
            if value is not None:
                values.append(value)
    return values


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
