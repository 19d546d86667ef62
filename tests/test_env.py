from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import env, variables

V = variables.Variable("V", "test", "string", "a variable of these tests")
N = variables.Variable("N", "test", "integer", "a number of these tests")
L = variables.Variable("L", "test", "comma list", "a list of these tests")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x", "x"),
        ("  x  ", "x"),
        ('"x"', "x"),
        ("' x '", "x"),
        ("", None),
        ("   ", None),
        ('""', None),
        ("'x\"", "'x\""),
    ],
)
def test_get_strips_blanks_and_quotes(raw, expected):
    assert env.get({"V": raw}, V) == expected


def test_get_unset_is_none():
    assert env.get({}, V) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("True", True),
        ("true", True),
        ("1", True),
        ("YES", True),
        ("on", True),
        ("False", False),
        ("false", False),
        ("0", False),
        ("no", False),
        ("Off", False),
    ],
)
def test_read_bool_accepts_the_documented_words(raw, expected):
    assert env.read_bool({"DJANGO_DEBUG": raw}, variables.DJANGO_DEBUG) is expected


@pytest.mark.parametrize("raw", ["yes please", "2", "treu", "T"])
def test_read_bool_unknown_word_names_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match=r"^DJANGO_DEBUG: expected true or false"):
        env.read_bool({"DJANGO_DEBUG": raw}, variables.DJANGO_DEBUG)


@pytest.mark.parametrize("raw", ["-1", "1.5", "ten", "٣"])
def test_read_int_rejects_non_numbers(raw):
    with pytest.raises(ImproperlyConfigured, match="^N: expected a whole number"):
        env.read_int({"N": raw}, N)


def test_read_int_reads_numbers():
    assert env.read_int({"N": " 42 "}, N) == 42
    assert env.read_int({}, N) is None


def test_read_list_splits_strips_and_drops_empties():
    assert env.read_list({"L": ' "a, b" ,, c ,'}, L) == ["a", "b", "c"]
    assert env.read_list({}, L) == []


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("host:5432/db", "no scheme"),
        ("postgres://u:p#ss@h:5432/db", "host or port cannot be read"),
        ("postgres://u:p/ss@h:5432/db", "host or port cannot be read"),
        ("postgres://u:secret@h:port/db", "host or port cannot be read"),
        ("foo://u:secret@h/db", "its scheme is not one of"),
        ("secret://u@h/db", "its scheme is not one of"),  # a pasted secret, not echoed
        ("postgres://u:secret@h/db\n", "control characters"),
        ("postgres://u:secret@h/db#x", "contains '#'"),
        # A '?' in the user name: the credentials land in the query (found by the fuzzing).
        ("postgres://?=:secret@h.example", "must be percent-encoded"),
        ("postgres://us?er=:secret@h.example/db", "must be percent-encoded"),
        ("postgres://u?x=ab:secret@h.example/db", "must be percent-encoded"),
    ],
)
def test_check_url_names_the_problem_never_the_secret(value, detail):
    with pytest.raises(ImproperlyConfigured) as error:
        env.check_url("DATABASE_URL", value, ["postgres"], "postgres://…")
    message = str(error.value)
    assert message.startswith("DATABASE_URL: expected a URL like postgres://…")
    assert detail in message
    assert "secret" not in message
    assert "p#ss" not in message
    assert "p/ss" not in message
    assert error.value.__cause__ is None
    assert error.value.__context__ is None or error.value.__suppress_context__


@pytest.mark.parametrize(
    ("variables", "cloud"),
    [
        ({}, False),
        ({"STAGE": "local"}, False),
        ({"STAGE": "LOCAL"}, False),
        ({"STAGE": "test"}, True),
        ({"DOMAIN": "x.aldryn.io"}, True),
        ({"DOMAIN": " "}, False),
        ({"DOMAIN": "x.io", "STAGE": "local"}, True),
    ],
)
def test_is_cloud(variables, cloud):
    assert env.is_cloud(variables) is cloud


def test_base_dir_prefers_base_dir_then_settings_file(tmp_path):
    assert env.base_dir({"BASE_DIR": tmp_path}) == str(tmp_path)
    assert env.base_dir({"__file__": "/srv/app/mysite/settings.py"}) == "/srv/app"


def test_shown_shortens_long_values():
    assert env.shown("a" * 100) == ascii("a" * 60 + "…")
    assert env.shown("é") == "'\\xe9'"


def test_os_environ_is_searched_like_any_mapping(monkeypatch):
    """os.environ's names are searched through its public mapping; what is found must be what a
    search of a plain copy finds, non-ASCII and undecodable names included."""
    import os

    names = ["ALT_DATABASE_DSN", "ÜBER_CACHE_URL", "X_STORAGE_DSN", "SENTRY_DSN", "NOT_A_DSN_"]
    for name in names:
        monkeypatch.setenv(name, "value")
    undecodable = os.fsdecode(b"\xff_DATABASE_DSN")
    monkeypatch.setitem(os.environ, undecodable, "value")
    plain = dict(os.environ)
    for ending in ("_DATABASE_DSN", "_CACHE_URL", "_STORAGE_DSN", "SENTRY_DSN"):
        found = env.Environment(os.environ).ending(ending)
        assert sorted(found) == sorted(env.Environment(plain).ending(ending))
    assert {"ALT_DATABASE_DSN", undecodable} <= set(
        env.Environment(os.environ).ending("_DATABASE_DSN")
    )
    assert "ÜBER_CACHE_URL" in env.Environment(os.environ).ending("_CACHE_URL")
    # Values are read from the same table, decoded as os.environ decodes them.
    monkeypatch.setenv("WITH_UMLAUT", "Grüße")
    environment = env.Environment(os.environ)
    for name in ("WITH_UMLAUT", undecodable, "ALT_DATABASE_DSN", "NOT_SET_ANYWHERE"):
        assert environment.get(name) == os.environ.get(name)
    assert environment.get("NOT_SET_ANYWHERE", "fallback") == "fallback"


def test_secrets_from_files(tmp_path):
    """<VARIABLE>_FILE for every secret variable (Docker and Kubernetes secrets): the same
    validation, and the value is scrubbed like any other secret."""
    import copy

    import divio_settings
    from divio_settings import redaction
    from tests.helpers import STARTPROJECT

    key = tmp_path / "key"
    key.write_text("file-key-" + "x" * 50 + "\n")
    alt = tmp_path / "alt"
    alt.write_text("postgres://u:from-a-file@db2:5432/alt")
    environ = {
        "STAGE": "live",
        "DOMAIN": "example.com",
        "SECRET_KEY_FILE": str(key),
        "ALT_DATABASE_DSN_FILE": str(alt),
        "DATABASE_URL": "postgres://u:pa55w0rd@db:5432/x",
    }
    namespace = copy.deepcopy(dict(STARTPROJECT))
    divio_settings.apply(namespace, environ=environ)
    assert namespace["SECRET_KEY"] == "file-key-" + "x" * 50
    assert namespace["DATABASES"]["alt"]["PASSWORD"] == "from-a-file"
    assert redaction.process_scrubber()("leaked from-a-file") == "leaked ********"
    assert namespace["DIVIO_SETTINGS_REPORT"].scrub("leaked from-a-file") == "leaked ********"
    shown = repr(list(namespace["DIVIO_SETTINGS_REPORT"]))
    assert "from-a-file" not in shown
    assert "x" * 50 not in shown


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"SECRET_KEY": "a" * 50, "SECRET_KEY_FILE": "/run/secrets/key"},
            "SECRET_KEY_FILE: expected either SECRET_KEY or SECRET_KEY_FILE; both are set",
        ),
        (
            {"SECRET_KEY_FILE": "/nonexistent/key"},
            "SECRET_KEY_FILE: expected a readable regular file of at most 64 KiB that holds SECRET_KEY; '/nonexistent/key': No such file",
        ),
        ({"CACHE_URL_FILE": "EMPTY"}, "CACHE_URL_FILE: expected a file that holds CACHE_URL; "),
        (
            {"ALT_STORAGE_DSN_FILE": "/nonexistent/dsn"},
            "ALT_STORAGE_DSN_FILE: expected a readable regular file",
        ),
    ],
)
def test_secret_files_that_cannot_be_read_name_the_variable(tmp_path, environ, message):
    import divio_settings

    empty = tmp_path / "empty"
    empty.write_text("\n")
    environ = {k: str(empty) if v == "EMPTY" else v for k, v in environ.items()}
    with pytest.raises(ImproperlyConfigured, match=f"^{re.escape(message)}"):
        divio_settings.apply({"__file__": "/app/x/settings.py"}, environ=environ)


def test_a_secret_file_is_a_small_regular_file_read_once(tmp_path):
    """<VARIABLE>_FILE: a FIFO or a device is refused at once (it would hang start-up or fill
    memory), so is a file above 64 KiB; the file is read once per apply(), so the setting and
    the scrubber hold the same value even if the file changes meanwhile."""
    import os

    import divio_settings
    from divio_settings import env as env_module
    from divio_settings.redaction import process_scrubber

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big"
    big.write_text("k" * (64 * 1024 + 1))
    for path, reason in (
        ("/dev/urandom", "'/dev/urandom' is not a regular file"),
        ("/dev/zero", "'/dev/zero' is not a regular file"),
        (str(fifo), "is not a regular file"),
        (str(big), "has 65,537 bytes"),
    ):
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE: expected a readable") as e:
            divio_settings.apply({}, environ={"SECRET_KEY_FILE": path})
        assert reason in str(e.value)
    key = tmp_path / "key"
    key.write_text("first-key-" + "x" * 40)
    reads: list[str] = []
    original = env_module.read_secret_file

    def counted(variable: str, path: str, holds: str) -> str:
        reads.append(path)
        text = original(variable, path, holds)
        key.write_text("second-key-" + "y" * 40)  # rotated on disk right after the read
        return text

    ns: dict[str, object] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(env_module, "read_secret_file", counted)
        divio_settings.apply(ns, environ={"SECRET_KEY_FILE": str(key)})
    assert reads == [str(key)]
    assert ns["SECRET_KEY"] == "first-key-" + "x" * 40
    assert process_scrubber()("first-key-" + "x" * 40) == "********"


def test_a_short_password_is_refused_in_the_cloud_only():
    """A password or key the scrubber cannot mask by value (under 6 characters) is no password
    in the cloud: an error naming the variable, never the value; locally it is accepted."""
    import divio_settings

    short = {
        "DATABASE_URL": "postgres://site:Zq8m5@db.example.com:5432/site",
        "EMAIL_URL": "smtp://mailer:Zq8m6@mail.example.com:587",
        "SECRET_KEY_FALLBACKS": "Zq8m7",
    }
    cloud = {"STAGE": "live", "DOMAIN": "example.com", "SECRET_KEY": "k" * 50}
    with pytest.raises(ImproperlyConfigured) as error:
        divio_settings.apply({"__file__": "/app/x/settings.py"}, environ={**cloud, **short})
    lines = str(error.value).splitlines()
    assert sorted(line.split(":")[0] for line in lines) == sorted(short)
    assert all("at least 6 characters in a cloud environment" in line for line in lines)
    assert not any(marker in str(error.value) for marker in ("Zq8m5", "Zq8m6", "Zq8m7"))
    ns: dict[str, object] = {"__file__": "/app/x/settings.py"}
    divio_settings.apply(ns, environ=short)  # locally: a developer's own database
    assert ns["DATABASES"]["default"]["PASSWORD"] == "Zq8m5"  # type: ignore[index]
