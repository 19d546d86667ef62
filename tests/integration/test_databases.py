"""Real PostgreSQL and MariaDB through the DATABASES apply() produces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import require_service

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parent.parent.parent
PASSWORD = "p@ss:w/rd#+% ?&é"  # every character that breaks unencoded URLs
SCRIPT = """
import json, os
import django
from django.conf import settings
import divio_settings
ns = {"INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes"],
      "__file__": "/app/x/settings.py", "USE_TZ": True}
divio_settings.apply(ns, environ=json.loads(os.environ["ENV_JSON"]))
settings.configure(**{k: v for k, v in ns.items() if k.isupper()})
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from django.contrib.auth.models import Group
Group.objects.create(name="written")
print(json.dumps({"vendor": connection.vendor, "names": list(Group.objects.values_list("name", flat=True)),
                  "password": connection.settings_dict["PASSWORD"]}))
"""


def run(url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "ENV_JSON": json.dumps({"DATABASE_URL": url})}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
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


def test_postgresql_migrate_write_read(postgres):
    user, db = postgres
    result = run(f"postgres://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/{db}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {
        "vendor": "postgresql",
        "names": ["written"],
        "password": PASSWORD,
    }


def test_mariadb_migrate_write_read_with_encoded_password(mariadb):
    user, db = mariadb
    result = run(f"mysql://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:3306/{db}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {
        "vendor": "mysql",
        "names": ["written"],
        "password": PASSWORD,
    }


def test_mariadb_checks_the_password_so_decoding_matters(mariadb):
    """MariaDB verifies passwords (PostgreSQL here trusts local clients), so the test above
    proves the URL-encoded password reached the server decoded; a wrong one is refused."""
    user, db = mariadb
    result = run(f"mysql://{user}:{quote(PASSWORD + 'x', safe='')}@127.0.0.1:3306/{db}")
    assert result.returncode != 0
    assert "Access denied" in result.stderr
    assert PASSWORD not in result.stderr
    assert quote(PASSWORD, safe="") not in result.stderr
