from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import databases
from tests.helpers import LIVE_ENV, STARTPROJECT

PG = "django.db.backends.postgresql"


def test_live_database_url():
    dbs = databases.settings_from_env(LIVE_ENV, STARTPROJECT).values["DATABASES"]
    assert dbs["default"] == {
        "ENGINE": PG,
        "NAME": "example-live-ee6263",
        "USER": "example-live-3638",
        "PASSWORD": "OIut5vYvWjI3UQzc_yKYAl5-aw0F",
        "HOST": "db.example.rds.amazonaws.com",
        "PORT": 5432,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "DISABLE_SERVER_SIDE_CURSORS": False,
    }
    assert "OPTIONS" not in dbs["default"]  # no sslmode forced


def test_url_encoded_password_is_decoded():
    url = "mysql://user:p%40ss%3Aw%2Frd%23%2B%25@127.0.0.1:3306/db"
    dbs = databases.settings_from_env({"DATABASE_URL": url}, {}).values["DATABASES"]
    assert dbs["default"]["PASSWORD"] == "p@ss:w/rd#+%"
    assert dbs["default"]["ENGINE"] == "django.db.backends.mysql"


def test_prefixed_dsns_become_aliases_and_database_url_wins_for_default():
    variables = {
        "DATABASE_URL": "postgres://u@h:5432/main",
        "DEFAULT_DATABASE_DSN": "postgres://u@h:5432/other",
        "ALT_DATABASE_DSN": "mysql://u:p@h:3306/alt",
        "MY_REPORTS_DATABASE_DSN": "postgres://u@h:5432/rep",
        "lower_DATABASE_DSN": "postgres://u@h:5432/ignored",
    }
    out = databases.settings_from_env(variables, {})
    dbs = out.values["DATABASES"]
    assert sorted(dbs) == ["alt", "default", "my_reports"]
    assert dbs["default"]["NAME"] == "main"
    assert dbs["alt"]["NAME"] == "alt"
    assert out.sources["DATABASES"] == "DATABASE_URL, ALT_DATABASE_DSN, MY_REPORTS_DATABASE_DSN"


def test_default_database_dsn_alone_is_the_default():
    dbs = databases.settings_from_env({"DEFAULT_DATABASE_DSN": "postgres://u@h:5432/x"}, {}).values[
        "DATABASES"
    ]
    assert dbs["default"]["NAME"] == "x"


def test_without_url_settings_py_database_is_kept():
    assert "DATABASES" not in databases.settings_from_env({}, STARTPROJECT).values


def test_without_any_database_embedded_sqlite_in_base_dir():
    out = databases.settings_from_env({}, {"BASE_DIR": "/srv/app"})
    assert out.values["DATABASES"] == {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/app/db.sqlite3"}
    }
    assert out.sources["DATABASES"] == "default (embedded SQLite)"


def test_same_engine_keeps_settings_py_extras():
    current: dict[str, Any] = {
        "DATABASES": {
            "default": {
                "ENGINE": PG,
                "NAME": "old",
                "ATOMIC_REQUESTS": True,
                "OPTIONS": {"application_name": "me", "sslmode": "disable"},
                "TEST": {"NAME": "t"},
            },
            "other": {"ENGINE": "x"},
        }
    }
    dbs = databases.settings_from_env(
        {"DATABASE_URL": "postgres://u@h:5432/new?sslmode=require"}, current
    ).values["DATABASES"]
    assert dbs["default"]["NAME"] == "new"
    assert dbs["default"]["ATOMIC_REQUESTS"] is True
    assert dbs["default"]["OPTIONS"] == {"application_name": "me", "sslmode": "require"}
    assert dbs["default"]["TEST"] == {"NAME": "t"}
    assert dbs["other"] == {"ENGINE": "x"}
    assert current["DATABASES"]["default"]["NAME"] == "old"


def test_other_engine_replaces_settings_py_entry():
    dbs = databases.settings_from_env(
        {"DATABASE_URL": "postgres://u@h:5432/new"}, STARTPROJECT
    ).values["DATABASES"]
    assert dbs["default"]["ENGINE"] == PG
    assert "sqlite" not in str(dbs)


def test_conn_max_age_and_health_checks():
    dbs = databases.settings_from_env(
        {"DATABASE_URL": "postgres://u@h:5432/x", "DATABASE_CONN_MAX_AGE": "60"}, {}
    ).values["DATABASES"]
    assert dbs["default"]["CONN_MAX_AGE"] == 60
    assert dbs["default"]["CONN_HEALTH_CHECKS"] is True
    dbs = databases.settings_from_env(
        {
            "DATABASE_URL": "postgres://u@h:5432/x",
            "DATABASE_CONN_MAX_AGE": "60",
            "DATABASE_CONN_HEALTH_CHECKS": "false",
        },
        {},
    ).values["DATABASES"]
    assert dbs["default"]["CONN_HEALTH_CHECKS"] is False


def test_pool_on_postgres():
    dbs = databases.settings_from_env(
        {"DATABASE_URL": "postgres://u@h:5432/x", "DATABASE_POOL": "true"}, {}
    ).values["DATABASES"]
    # psycopg_pool's 30 s wait is gunicorn's worker timeout: 10 s answers before the kill.
    assert dbs["default"]["OPTIONS"] == {"pool": {"timeout": 10}}
    assert dbs["default"]["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {
                "DATABASE_URL": "postgres://u@h:5432/x",
                "DATABASE_POOL": "1",
                "DATABASE_CONN_MAX_AGE": "5",
            },
            "DATABASE_CONN_MAX_AGE: expected 0 together with DATABASE_POOL",
        ),
        (
            {"DATABASE_URL": "mysql://u@h:3306/x", "DATABASE_POOL": "1"},
            "DATABASE_POOL: expected PostgreSQL databases only; DATABASE_URL is not PostgreSQL",
        ),
        (
            {"DATABASE_URL": "mongodb://u:topsecret@h/x"},
            "DATABASE_URL: expected a URL like postgres://user:password@host:5432/name; its scheme is not one of",
        ),
        ({"DATABASE_URL": "postgres://u:top#secret@h:5432/x"}, "DATABASE_URL: expected a URL like"),
        (
            {"ALT_DATABASE_DSN": "postgres://u:topsecret@h:99999/x"},
            "ALT_DATABASE_DSN: expected a URL like",
        ),
        (
            {"DATABASE_URL": "topsecret"},
            "DATABASE_URL: expected a URL like postgres://user:password@host:5432/name; it has no scheme",
        ),
        ({"DATABASE_CONN_MAX_AGE": "forever"}, "DATABASE_CONN_MAX_AGE: expected a whole number"),
    ],
)
def test_bad_values_name_the_variable_not_the_secret(variables, message):
    with pytest.raises(ImproperlyConfigured) as error:
        databases.settings_from_env(variables, {})
    assert str(error.value).startswith(message)
    assert "topsecret" not in str(error.value)
    assert "top#secret" not in str(error.value)


def test_sqlite_urls():
    dbs = databases.settings_from_env({"DATABASE_URL": "sqlite://:memory:"}, {}).values["DATABASES"]
    assert dbs["default"] == {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    dbs = databases.settings_from_env({"DATABASE_URL": "sqlite:////tmp/x.db"}, {}).values[
        "DATABASES"
    ]
    assert dbs["default"]["NAME"] == "/tmp/x.db"


def test_pool_without_a_postgres_default_is_an_error():
    sqlite = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}}
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_POOL: expected PostgreSQL"):
        databases.settings_from_env({"DATABASE_POOL": "true"}, {"DATABASES": sqlite})
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_POOL: expected PostgreSQL"):
        databases.settings_from_env({"DATABASE_POOL": "true"}, {})


def test_pool_applies_to_settings_py_postgres_databases():
    own = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "OPTIONS": {"a": 1}}}
    values = databases.settings_from_env({"DATABASE_POOL": "true"}, {"DATABASES": own}).values
    assert values["DATABASES"]["default"]["OPTIONS"] == {"a": 1, "pool": {"timeout": 10}}


OWN_CHOICES = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "own",
    "CONN_MAX_AGE": 600,
    "CONN_HEALTH_CHECKS": True,
    "DISABLE_SERVER_SIDE_CURSORS": True,
    "OPTIONS": {"sslmode": "require"},
}


def test_settings_py_choices_no_variable_governs_are_kept():
    """A project behind pgbouncer disables server-side cursors and keeps persistent
    connections; DATABASE_URL says where the database is, not how to use it."""
    dbs = databases.settings_from_env(
        {"DATABASE_URL": "postgres://u:p@db:5432/x"}, {"DATABASES": {"default": OWN_CHOICES}}
    ).values["DATABASES"]
    assert dbs["default"]["NAME"] == "x"
    assert dbs["default"]["CONN_MAX_AGE"] == 600
    assert dbs["default"]["CONN_HEALTH_CHECKS"] is True
    assert dbs["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert dbs["default"]["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("env", "max_age", "health"),
    [
        ({"DATABASE_CONN_MAX_AGE": "60"}, 60, True),
        ({"DATABASE_CONN_MAX_AGE": "0"}, 0, False),
        ({"DATABASE_CONN_HEALTH_CHECKS": "false"}, 600, False),
        ({"DATABASE_POOL": "true"}, 0, True),
        ({"DATABASE_POOL": "true", "DATABASE_CONN_HEALTH_CHECKS": "false"}, 0, False),
    ],
)
def test_variables_still_win_over_settings_py(env, max_age, health):
    dbs = databases.settings_from_env(
        {"DATABASE_URL": "postgres://u:p@db:5432/x", **env},
        {"DATABASES": {"default": OWN_CHOICES}},
    ).values["DATABASES"]
    assert dbs["default"]["CONN_MAX_AGE"] == max_age
    assert dbs["default"]["CONN_HEALTH_CHECKS"] is health


@pytest.mark.parametrize(
    ("env", "own", "health"),
    [
        ({}, {}, True),
        ({}, {"CONN_HEALTH_CHECKS": False}, False),
        ({"DATABASE_CONN_HEALTH_CHECKS": "false"}, {}, False),
        ({"DATABASE_CONN_HEALTH_CHECKS": "false"}, {"CONN_HEALTH_CHECKS": True}, False),
    ],
)
def test_a_pool_checks_connections_unless_told_not_to(env, own, health):
    """A pooled connection may have died since its last use (a database restart): the pool
    checks it before handing it out, whether the URL or settings.py names the database."""
    entry = {"ENGINE": databases.POSTGRES, "NAME": "own", **own}
    for variables_, current in (
        ({"DATABASE_URL": "postgres://u:p@db:5432/x"}, {"DATABASES": {"default": entry}}),
        ({}, {"DATABASES": {"default": entry}}),
    ):
        dbs = databases.settings_from_env(
            {**variables_, "DATABASE_POOL": "true", **env}, current
        ).values["DATABASES"]
        assert dbs["default"]["CONN_HEALTH_CHECKS"] is health
        assert dbs["default"]["OPTIONS"]["pool"] == {"timeout": 10}


@pytest.mark.parametrize(
    ("own", "url", "engine"),
    [
        (
            "django.contrib.gis.db.backends.postgis",
            "postgres://u@h/x",
            "django.contrib.gis.db.backends.postgis",
        ),
        (
            "django_prometheus.db.backends.postgresql",
            "postgresql://u@h/x",
            "django_prometheus.db.backends.postgresql",
        ),
        (
            "django.contrib.gis.db.backends.mysql",
            "mysql://u@h/x",
            "django.contrib.gis.db.backends.mysql",
        ),
        # The URL names another database, or names the engine itself: the URL wins.
        ("django.contrib.gis.db.backends.postgis", "mysql://u@h/x", "django.db.backends.mysql"),
        (
            "django.db.backends.postgresql",
            "postgis://u@h/x",
            "django.contrib.gis.db.backends.postgis",
        ),
    ],
)
def test_settings_py_engine_kept_for_a_generic_url_of_the_same_database(own, url, engine):
    dbs = databases.settings_from_env(
        {"DATABASE_URL": url}, {"DATABASES": {"default": {"ENGINE": own, "NAME": "own"}}}
    ).values["DATABASES"]
    assert dbs["default"]["ENGINE"] == engine
    assert dbs["default"]["NAME"] == "x"


def test_pool_sizes_become_psycopg_pool_options():
    env = {
        "DATABASE_URL": "postgres://u:p@db:5432/x",
        "DATABASE_POOL": "true",
        "DATABASE_POOL_MIN_SIZE": "2",
        "DATABASE_POOL_MAX_SIZE": "10",
        "DATABASE_POOL_TIMEOUT": "5",
    }
    dbs = databases.settings_from_env(env, {}).values["DATABASES"]
    assert dbs["default"]["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 5}
    bare = databases.settings_from_env({**env, "DATABASE_POOL_MAX_SIZE": ""}, {}).values
    assert bare["DATABASES"]["default"]["OPTIONS"]["pool"] == {"min_size": 2, "timeout": 5}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_POOL_MIN_SIZE": "2"}, "DATABASE_POOL_MIN_SIZE: expected DATABASE_POOL=true"),
        (
            {"DATABASE_POOL": "true", "DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "2"},
            "DATABASE_POOL_MAX_SIZE: expected at least DATABASE_POOL_MIN_SIZE",
        ),
        (
            {"DATABASE_POOL": "true", "DATABASE_POOL_TIMEOUT": "0"},
            "DATABASE_POOL_TIMEOUT: expected a whole number of at least 1",
        ),
    ],
)
def test_bad_pool_sizes(env, message):
    with pytest.raises(ImproperlyConfigured, match=f"^{message}"):
        databases.settings_from_env({"DATABASE_URL": "postgres://u:p@db:5432/x", **env}, {})


def test_options_for_another_database_are_said_to_be_dropped():
    """settings.py's engine chosen by a project variable (MySQL) with PostgreSQL's URL (#36):
    its OPTIONS do not fit and are not kept; changes() names them (not their values)."""
    import divio_settings

    ns: dict[str, Any] = {
        "__file__": "/app/x/settings.py",
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.mysql",
                "OPTIONS": {"charset": "utf8mb4", "read_default_file": "/etc/my.cnf"},
            }
        },
    }
    divio_settings.apply(ns, environ={"DATABASE_URL": "postgres://u:p@db.example.com:5432/x"})
    assert "OPTIONS" not in ns["DATABASES"]["default"]
    assert divio_settings.changes(ns)["replaced"] == [
        {
            "setting": "DATABASES['default']['OPTIONS']",
            "reason": "charset, read_default_file not kept: settings.py's ENGINE "
            "django.db.backends.mysql is not django.db.backends.postgresql of DATABASE_URL",
        }
    ]
    # The same family keeps them: nothing to say.
    ns["DATABASES"]["default"]["ENGINE"] = "django.db.backends.postgresql"
    ns["DATABASES"]["default"]["OPTIONS"] = {"sslmode": "require"}
    del ns["_divio_settings_original"]
    divio_settings.apply(ns, environ={"DATABASE_URL": "postgres://u:p@db.example.com:5432/x"})
    assert ns["DATABASES"]["default"]["OPTIONS"] == {"sslmode": "require"}
    assert divio_settings.changes(ns)["replaced"] == []
