"""DATABASE_URL and <PREFIX>_DATABASE_DSN -> DATABASES (parsed by dj-database-url)."""

from __future__ import annotations

import os.path
from collections.abc import Collection, Mapping
from typing import Any, Final

from . import variables
from .env import Env, base_dir, check_url, get, invalid, prefixed, read_bool, read_int
from .groups import Decisions

EXAMPLE: Final = "postgres://user:password@host:5432/name"
POSTGRES: Final = "django.db.backends.postgresql"
GENERIC_SCHEMES: Final = frozenset({"postgres", "postgresql", "pgsql", "mysql", "sqlite"})


def urls_from_env(env: Env) -> dict[str, tuple[str, str]]:
    """alias -> (variable, url). DATABASE_URL wins over DEFAULT_DATABASE_DSN for 'default'."""
    return prefixed(env, variables.PREFIXED_DATABASE_DSN, main=variables.DATABASE_URL)


def schemes() -> Collection[str]:
    from dj_database_url import ENGINE_SCHEMES

    known: Collection[str] = ENGINE_SCHEMES.keys()
    return known


def parse(name: str, url: str, max_age: int, health: bool, pool: dict[str, int]) -> dict[str, Any]:
    import dj_database_url

    if url != "sqlite://:memory:":
        check_url(name, url, schemes(), EXAMPLE)
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=max_age, conn_health_checks=health)
        )
    except ValueError:
        raise invalid(name, f"a database URL like {EXAMPLE}", "it cannot be parsed") from None
    if pool:
        if config["ENGINE"] != POSTGRES:
            raise invalid("DATABASE_POOL", "PostgreSQL databases only", f"{name} is not PostgreSQL")
        config["OPTIONS"] = {**config.get("OPTIONS", {}), "pool": pool}
    return config


# psycopg_pool waits 30 s for a connection by default, as long as gunicorn lets a request run
# before it kills the worker: with the database down the wait races the kill (a 502, which a
# proxy may retry on another worker). 10 s answers with an error well before.
DEFAULT_POOL_TIMEOUT: Final = 10
POOL_SIZES: Final = (
    ("min_size", variables.DATABASE_POOL_MIN_SIZE),
    ("max_size", variables.DATABASE_POOL_MAX_SIZE),
    ("timeout", variables.DATABASE_POOL_TIMEOUT),
)


def _pool_options(env: Env, pool: bool) -> dict[str, int]:
    """psycopg_pool's sizes and timeout from the variables (empty: no pool); Django passes
    OPTIONS['pool'] to psycopg_pool.ConnectionPool."""
    options = {}
    for key, variable in POOL_SIZES:
        value = read_int(env, variable, minimum=1 if key != "min_size" else 0)
        if value is None:
            continue
        if not pool:
            raise invalid(variable.name, "DATABASE_POOL=true beside it", "the pool is off")
        options[key] = value
    if options.get("max_size", options.get("min_size", 0)) < options.get("min_size", 0):
        raise invalid("DATABASE_POOL_MAX_SIZE", "at least DATABASE_POOL_MIN_SIZE", "it is smaller")
    if pool:
        options.setdefault("timeout", DEFAULT_POOL_TIMEOUT)
    return options


# The database each engine speaks to: settings.py's PostGIS (or another wrapper of the same
# database) is kept for a plain postgres:// URL.
VENDORS: Final = (("postg", "postgresql"), ("mysql", "mysql"), ("sqlite", "sqlite"))
VENDORS_TOO: Final = (("spatialite", "sqlite"), ("oracle", "oracle"))
# dj-database-url fills these whether or not anything asked for them.
UNGOVERNED: Final = ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS")


def vendor(engine: object) -> str | None:
    name = str(engine).rpartition(".")[2] if engine else ""
    for part, database in VENDORS + VENDORS_TOO:
        if part in name:
            return database
    return None


def merge_alias(
    own: Any, parsed: dict[str, Any], url: str = "", governed: Collection[str] = ()
) -> dict[str, Any]:
    """The environment's connection wins; settings.py's extras (TEST, ATOMIC_REQUESTS, OPTIONS)
    are kept when it speaks to the same database, and so are its ENGINE when the URL's scheme is
    the generic one (PostGIS for postgres://) and its CONN_MAX_AGE, CONN_HEALTH_CHECKS and
    DISABLE_SERVER_SIDE_CURSORS unless a variable (*governed*) sets them."""
    if not isinstance(own, Mapping):
        return parsed
    engine = own.get("ENGINE")
    if engine != parsed["ENGINE"]:
        generic = url.partition(":")[0].lower() in GENERIC_SCHEMES
        if not generic or vendor(engine) is None or vendor(engine) != vendor(parsed["ENGINE"]):
            return parsed
        parsed = {**parsed, "ENGINE": engine}
    options = {**own.get("OPTIONS", {}), **parsed.get("OPTIONS", {})}
    result = {**own, **parsed}
    for key in UNGOVERNED:
        if key in own and key not in governed:
            result[key] = own[key]
    if options:
        result["OPTIONS"] = options
    return result


def _say_dropped(
    alias: str, name: str, own: Any, merged: Mapping[str, Any], out: Decisions
) -> None:
    """settings.py's OPTIONS for another database (its ENGINE, perhaps from a variable of the
    project's own, is not the URL's): not kept, and show --changes names them (keys only: an
    option may hold a password)."""
    options = own.get("OPTIONS") if isinstance(own, Mapping) else None
    if not options:
        return
    dropped = sorted(str(key) for key in options if key not in (merged.get("OPTIONS") or {}))
    if dropped:
        out.replace(
            f"DATABASES[{alias!r}]['OPTIONS']",
            f"{', '.join(dropped)} not kept: settings.py's ENGINE {own.get('ENGINE')} is not "
            f"{merged['ENGINE']} of {name}",
        )


def _pool_own_databases(
    own: dict[str, Any],
    found: Mapping[str, Any],
    pool: dict[str, int],
    health: bool,
    governs_health: bool,
) -> None:
    """DATABASE_POOL for settings.py's own databases: pooled where they are PostgreSQL, with
    the pool's connection check unless settings.py's entry sets CONN_HEALTH_CHECKS; an error
    where the default database is not (never accepted and silently ignored)."""
    for alias, config in own.items():
        if alias in found or not isinstance(config, Mapping):
            continue
        if config.get("ENGINE") == POSTGRES:
            options = {**config.get("OPTIONS", {}), "pool": pool}
            checks = {"CONN_HEALTH_CHECKS": health}
            own[alias] = (
                {**config, **checks, "OPTIONS": options}
                if governs_health
                else {**checks, **config, "OPTIONS": options}
            )
        elif alias == "default":
            raise invalid(
                "DATABASE_POOL",
                "PostgreSQL databases only",
                f"settings.py's default database is {config.get('ENGINE') or 'not set'}",
            )
    if "default" not in own:
        raise invalid("DATABASE_POOL", "PostgreSQL databases only", "there is no database")


def _governed(env: Env, pool: bool) -> list[str]:
    """The keys of settings.py's entries a variable decides: DATABASE_CONN_MAX_AGE decides
    health checks too; the pool needs CONN_MAX_AGE 0."""
    governed: list[str] = ["CONN_MAX_AGE"] if pool else []
    if get(env, variables.DATABASE_CONN_MAX_AGE) is not None:
        governed += ["CONN_MAX_AGE", "CONN_HEALTH_CHECKS"]
    if get(env, variables.DATABASE_CONN_HEALTH_CHECKS) is not None:
        governed.append("CONN_HEALTH_CHECKS")
    return governed


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    max_age = read_int(env, variables.DATABASE_CONN_MAX_AGE)
    health = read_bool(env, variables.DATABASE_CONN_HEALTH_CHECKS)
    pool = bool(read_bool(env, variables.DATABASE_POOL))
    if pool and max_age:
        raise invalid(
            "DATABASE_CONN_MAX_AGE",
            "0 together with DATABASE_POOL",
            "Django's pool does not support persistent connections",
        )
    sizes = _pool_options(env, pool)
    max_age = max_age or 0
    # A persistent or pooled connection may have died since its last use (a database restart,
    # a failover): checked before it is handed out, unless a variable or settings.py says no.
    health = (bool(max_age) or pool) if health is None else health
    own = dict(current.get("DATABASES") or {})
    found = urls_from_env(env)
    governed = _governed(env, pool)
    for alias, (name, url) in found.items():
        parsed = parse(name, url, max_age, health, sizes)
        previous = own.get(alias)
        own[alias] = merge_alias(previous, parsed, url, governed)
        _say_dropped(alias, name, previous, own[alias], out)
    if pool:
        _pool_own_databases(own, found, sizes, health, "CONN_HEALTH_CHECKS" in governed)
    if "default" not in own:
        path = os.path.join(base_dir(current), "db.sqlite3")
        own["default"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
        found.setdefault("default", ("default (embedded SQLite)", ""))
    if found:
        sources = ", ".join(dict.fromkeys(name for name, _ in found.values()))
        out.set("DATABASES", own, sources)
    elif pool:
        out.set("DATABASES", own, "DATABASE_POOL")
    return out
