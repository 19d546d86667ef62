"""The database probes: a connection and ``SELECT 1`` per alias; for the database ``migrate``
works on, no migration left unapplied."""

from __future__ import annotations

from functools import partial
from typing import Final

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from divio_settings.variables import DATABASE_URL, PREFIXED_DATABASE_DSN, alias_variables

from .probe import Failed, Probe, Skipped

SHOWN_MIGRATIONS: Final = 3  # names of unapplied migrations a line shows


def probes(migrations: bool) -> list[Probe]:
    return [
        Probe("database", alias, partial(probe, alias, migrations and alias == DEFAULT_DB_ALIAS))
        for alias in settings.DATABASES
    ]


def in_memory(alias: str) -> bool:
    config = settings.DATABASES[alias]
    name = str(config.get("NAME") or "")
    return "sqlite" in str(config.get("ENGINE", "")) and (
        name in ("", ":memory:") or "mode=memory" in name
    )


def probe(alias: str, migrations: bool, timeout: float) -> str:
    if in_memory(alias):
        raise Skipped("in-memory SQLite (no DATABASE_URL): nothing to connect to")
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        first = str(error).strip().splitlines()[:1]
        raise Failed(
            f"cannot connect or query ({type(error).__name__}: {first[0] if first else ''}): "
            f"check {variable(alias)} (DATABASES[{alias!r}]) and that the server is up"
        ) from None
    if not migrations:
        return "SELECT 1"
    unapplied = pending_migrations(alias)
    if unapplied:
        shown = ", ".join(unapplied[:SHOWN_MIGRATIONS])
        more = f" and {len(unapplied) - SHOWN_MIGRATIONS} more" if len(unapplied) > 3 else ""
        raise Failed(
            f"{len(unapplied)} unapplied migrations ({shown}{more}): run "
            "'python manage.py migrate' before preflight (a release command)"
        )
    return "SELECT 1, no unapplied migrations"


def pending_migrations(alias: str) -> list[str]:
    """The migrations `migrate` would apply to *alias*, as app.name."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def variable(alias: str) -> str:
    """The variable that configures *alias* (apply()'s naming), for the hint."""
    return alias_variables(PREFIXED_DATABASE_DSN, alias, DATABASE_URL)[0]
