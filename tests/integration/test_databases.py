"""Real PostgreSQL and MariaDB through the DATABASES apply() produces."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.helpers import PASSWORD, django_process

pytestmark = pytest.mark.integration

BODY = """
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from django.contrib.auth.models import Group
Group.objects.create(name="written")
print(json.dumps({"vendor": connection.vendor, "names": list(Group.objects.values_list("name", flat=True)),
                  "password": connection.settings_dict["PASSWORD"]}))
"""


def test_postgresql_migrate_write_read(postgres):
    user, db = postgres
    url = f"postgres://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/{db}"
    result = django_process({"DATABASE_URL": url}, BODY)
    assert json.loads(result.stdout) == {
        "vendor": "postgresql",
        "names": ["written"],
        "password": PASSWORD,
    }


def test_mariadb_migrate_write_read_with_encoded_password(mariadb):
    user, db = mariadb
    url = f"mysql://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:3306/{db}"
    result = django_process({"DATABASE_URL": url}, BODY)
    assert json.loads(result.stdout) == {
        "vendor": "mysql",
        "names": ["written"],
        "password": PASSWORD,
    }


def test_mariadb_checks_the_password_so_decoding_matters(mariadb):
    """MariaDB verifies passwords (PostgreSQL here trusts local clients), so the test above
    proves the URL-encoded password reached the server decoded; a wrong one is refused."""
    user, db = mariadb
    url = f"mysql://{user}:{quote(PASSWORD + 'x', safe='')}@127.0.0.1:3306/{db}"
    result = django_process({"DATABASE_URL": url}, BODY, check=False)
    assert result.returncode != 0
    assert "Access denied" in result.stderr
    assert PASSWORD not in result.stderr
    assert quote(PASSWORD, safe="") not in result.stderr


def test_prefixed_dsn_is_a_second_real_database(postgres, mariadb):
    pg_user, pg_db = postgres
    my_user, my_db = mariadb
    secret = quote(PASSWORD, safe="")
    environ = {
        "DATABASE_URL": f"postgres://{pg_user}:{secret}@127.0.0.1:5432/{pg_db}",
        "ALT_DATABASE_DSN": f"mysql://{my_user}:{secret}@127.0.0.1:3306/{my_db}",
    }
    body = """
from django.db import connections
with connections["alt"].cursor() as cursor:
    cursor.execute("SELECT DATABASE()")
    print(json.dumps([connections["default"].vendor, connections["alt"].vendor, cursor.fetchone()[0]]))
"""
    assert json.loads(django_process(environ, body).stdout) == ["postgresql", "mysql", my_db]


POOL = """
import threading, time
from django.db import connections
from psycopg_pool import PoolTimeout
held = threading.Event()
release = threading.Event()

def hold():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        held.set()
        release.wait(30)
    connections["default"].close()  # back to the pool

holders = [threading.Thread(target=hold) for _ in range(2)]
for thread in holders:
    held.clear()
    thread.start()
    held.wait(30)
pool = connections["default"].pool
result = {"min": pool.min_size, "max": pool.max_size, "timeout": pool.timeout}
started = time.monotonic()
try:
    with connections["default"].cursor() as cursor:  # a third thread's turn: the pool is full
        cursor.execute("SELECT 1")
    result["third"] = "connected"
except Exception as error:
    result["third"] = type(error).__name__
result["waited"] = round(time.monotonic() - started, 1)
release.set()
for thread in holders:
    thread.join(30)
connections["default"].close()
with connections["default"].cursor() as cursor:  # free again
    cursor.execute("SELECT 1")
    result["after"] = cursor.fetchone()[0]
print(json.dumps(result))
"""


def test_pool_sizes_and_timeout_reach_the_real_pool(postgres):
    """DATABASE_POOL_MIN_SIZE / _MAX_SIZE / _TIMEOUT: with two connections held, a third
    request waits the timeout and fails; once they are back it is served."""
    pytest.importorskip("psycopg_pool")
    user, db = postgres
    url = f"postgres://{user}:{quote(PASSWORD, safe='')}@127.0.0.1:5432/{db}"
    environ = {
        "DATABASE_URL": url,
        "DATABASE_POOL": "true",
        "DATABASE_POOL_MIN_SIZE": "1",
        "DATABASE_POOL_MAX_SIZE": "2",
        "DATABASE_POOL_TIMEOUT": "2",
    }
    result = json.loads(django_process(environ, POOL).stdout.splitlines()[-1])
    assert result["min"] == 1
    assert result["max"] == 2
    assert result["timeout"] == 2
    assert result["third"] == "OperationalError"  # Django's wrapping of psycopg_pool's timeout
    assert 1.9 <= result["waited"] < 6
    assert result["after"] == 1
