"""Fixtures (real PostgreSQL and MariaDB databases) and the hypothesis profiles; the helpers
live in tests/helpers.py."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from tests.helpers import (
    PASSWORD,
    free_port,
    require_service,
    run_tool,
    spawn,
    stop_process,
    wait_port,
)


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


# Hypothesis: a quick default, and the dedicated fuzz profile of tox -e fuzz.
hypothesis_settings.register_profile("default", max_examples=100, deadline=None)
hypothesis_settings.register_profile("fuzz", max_examples=10_000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible server (moto) on 127.0.0.1, for one test module."""
    import sys

    pytest.importorskip("moto.server", reason="moto[server] is a test dependency")
    port = free_port()
    process = spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        tmp_path_factory.mktemp("moto") / "moto.log",
    )
    try:
        wait_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def startproject_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`django-admin startproject mysite`, run once per test process (it costs a Python start
    and Django's import); each test copies it."""
    root = tmp_path_factory.mktemp("startproject-template")
    run_tool([sys.executable, "-m", "django", "startproject", "mysite", str(root)])
    return root


@pytest.fixture
def new_project(startproject_template: Path) -> Callable[[Path], Path]:
    """new_project(folder): a fresh copy of startproject's output in *folder* (made if needed)."""

    def copy(folder: Path) -> Path:
        shutil.copytree(startproject_template, folder, dirs_exist_ok=True)
        return folder

    return copy
