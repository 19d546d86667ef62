"""Fixtures that create throw-away databases and users on the real servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import require_service

PASSWORD = "p@ss:w/rd#+% ?&é"  # every character that breaks unencoded URLs


@pytest.fixture
def postgres() -> Iterator[tuple[str, str]]:
    require_service("postgresql")
    import psycopg

    name = f"ds_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(
            f'CREATE ROLE "{name}" LOGIN PASSWORD %s'.replace(
                "%s", "'" + PASSWORD.replace("'", "''") + "'"
            )
        )
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    try:
        yield name, name
    finally:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def mariadb() -> Iterator[tuple[str, str]]:
    require_service("mariadb")
    import MySQLdb

    name = f"ds_{uuid.uuid4().hex[:12]}"
    conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
    cursor = conn.cursor()
    cursor.execute(f"CREATE DATABASE `{name}`")
    cursor.execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
    cursor.execute(f"GRANT ALL ON `{name}`.* TO '{name}'@'%'")
    try:
        yield name, name
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{name}'@'%'")
        conn.close()
