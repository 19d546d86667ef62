"""The registry: every environment variable the library reads, as the docs describe it.

It is the single source for everything said about a variable: which group reads it, its shape,
its default, whether it holds a secret (the report and the debug page scrub the values of secret
variables), which settings it sets, the docs reference (tests compare it field by field),
``divio-settings show --variables`` and the start-up gating of idle groups. The readers in
:mod:`divio_settings.env` take a :class:`Variable`, never a bare name, so the code cannot read a
variable the registry does not declare. A catalogue: it imports nothing.
"""

from __future__ import annotations

from typing import Final

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


def alias_variables(family: Variable, alias: str, main: Variable | None = None) -> tuple[str, ...]:
    """The variables that configure *alias* of a ``<PREFIX>_`` family, the winning one first:
    for 'default' *main* (DATABASE_URL, CACHE_URL) and then DEFAULT_<…>; else <ALIAS>_<…>, as
    env.prefixed() reads them (the alias is the prefix in lower case)."""
    own = alias.upper() + family.suffix
    return (main.name, own) if alias == "default" and main is not None else (own,)


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
    sets=("SECRET_KEY_FALLBACKS", "DIVIO_ROTATION_STEP"),
    example="old-key-Lw0pX7vB2nR8tY5u, older-key-cH6gD4sMZf3kq9",
)

SECRET_KEY_NEXT: Final = Variable(
    "SECRET_KEY_NEXT",
    "security",
    "string",
    "The next signing key: accepted, not yet signing (step 1 of 2 of a rotation).",
    "none",
    secret=True,
    sets=("SECRET_KEY_FALLBACKS", "DIVIO_ROTATION_STEP"),
    example="next-key-Lw0pX7vB2nR8tY5uJ1cH6gD4",
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
    "SECURE_HSTS_INCLUDE_SUBDOMAINS's value when HSTS is on",
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
    "true when DATABASE_CONN_MAX_AGE > 0 or DATABASE_POOL is on",
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
    "10 (psycopg_pool's 30 is gunicorn's worker timeout)",
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
    SECRET_KEY_NEXT,
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


# Groups with nothing to do unless one of their variables is set: apply() does not even import
# them then (start-up cost). Which variables wake them is the registry's business.
IDLE_GROUPS: Final = ("caches", "mail", "sentry", "celery")
