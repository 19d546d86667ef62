"""DATABASE_URL and <PREFIX>_DATABASE_DSN -> DATABASES (parsed by dj-database-url)."""

from __future__ import annotations

import os.path
from collections.abc import Mapping
from typing import Any, Final

from . import env as variables
from .env import Changes, Env, base_dir, invalid, prefixed, read_bool, read_int

EXAMPLE: Final = "postgres://user:password@host:5432/name"
POSTGRES: Final = "django.db.backends.postgresql"


def urls_from_env(env: Env) -> dict[str, tuple[str, str]]:
    """alias -> (variable, url). DATABASE_URL wins over DEFAULT_DATABASE_DSN for 'default'."""
    return prefixed(env, variables.PREFIXED_DATABASE_DSN, main=variables.DATABASE_URL)


def schemes() -> list[str]:
    from dj_database_url import ENGINE_SCHEMES

    return sorted(ENGINE_SCHEMES)


def parse(name: str, url: str, max_age: int, health: bool, pool: bool) -> dict[str, Any]:
    import dj_database_url

    from .env import check_url

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
        config["OPTIONS"] = {**config.get("OPTIONS", {}), "pool": True}
    return config


def merge_alias(own: Any, parsed: dict[str, Any]) -> dict[str, Any]:
    """The environment's connection wins; settings.py's extras (TEST, ATOMIC_REQUESTS, OPTIONS)
    are kept when the engine is the same."""
    if not isinstance(own, Mapping) or own.get("ENGINE") != parsed["ENGINE"]:
        return parsed
    options = {**own.get("OPTIONS", {}), **parsed.get("OPTIONS", {})}
    result = {**own, **parsed}
    if options:
        result["OPTIONS"] = options
    return result


def _pool_own_databases(own: dict[str, Any], found: Mapping[str, Any]) -> None:
    """DATABASE_POOL for settings.py's own databases: pooled where they are PostgreSQL; an
    error where the default database is not (never accepted and silently ignored)."""
    for alias, config in own.items():
        if alias in found or not isinstance(config, Mapping):
            continue
        if config.get("ENGINE") == POSTGRES:
            own[alias] = {**config, "OPTIONS": {**config.get("OPTIONS", {}), "pool": True}}
        elif alias == "default":
            raise invalid(
                "DATABASE_POOL",
                "PostgreSQL databases only",
                f"settings.py's default database is {config.get('ENGINE') or 'not set'}",
            )
    if "default" not in own:
        raise invalid("DATABASE_POOL", "PostgreSQL databases only", "there is no database")


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Changes:
    out = Changes()
    max_age = read_int(env, variables.DATABASE_CONN_MAX_AGE)
    health = read_bool(env, variables.DATABASE_CONN_HEALTH_CHECKS)
    pool = bool(read_bool(env, variables.DATABASE_POOL))
    if pool and max_age:
        raise invalid(
            "DATABASE_CONN_MAX_AGE",
            "0 together with DATABASE_POOL",
            "Django's pool does not support persistent connections",
        )
    max_age = max_age or 0
    health = bool(max_age) if health is None else health
    own = dict(current.get("DATABASES") or {})
    found = urls_from_env(env)
    for alias, (name, url) in found.items():
        own[alias] = merge_alias(own.get(alias), parse(name, url, max_age, health, pool))
    if pool:
        _pool_own_databases(own, found)
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
