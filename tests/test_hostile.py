"""Hostile input: a corpus of tricky values with expected outcomes, and property-based fuzzing.

HYPOTHESIS_PROFILE=fuzz (tox -e fuzz) runs 10,000 examples per property; the default run fewer.
"""

from __future__ import annotations

import copy
import json
import logging
import string
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import divio_settings
from divio_settings import caches, databases, env, hosts, mail, sentry, variables
from divio_settings.cli.show import Verdict, library_checks, message_lines
from divio_settings.hosts import REDIRECT_MIDDLEWARE
from divio_settings.storage import dsn as storage_dsn

from .hostile_corpus import CONTEXT, CORPUS, ERROR, NO_CHANGE, READERS, SECRET

BASE: dict[str, Any] = {
    "__file__": "/app/mysite/settings.py",
    "SECRET_KEY": "settings-own-key",
    "MEDIA_URL": "/media-own/",
    "ALLOWED_HOSTS": [],
    "INSTALLED_APPS": ["django.contrib.staticfiles"],
    "MIDDLEWARE": ["django.middleware.security.SecurityMiddleware"],
}
PLAIN = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None
)


@pytest.fixture(autouse=True)
def no_sentry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sentry, "init", lambda *args: None)


def test_corpus_covers_every_variable_with_an_error_and_an_accepted_value():
    outcomes: dict[str, set[bool]] = {}
    for name, _, expected in CORPUS:
        outcomes.setdefault(name, set()).add(expected is ERROR)
    # Every registered variable has a value that must fail and one that must be accepted
    # (<PREFIX>_… families are exercised as ALT_DATABASE_DSN and the like).
    for variable in variables.VARIABLES:
        if variable.name.startswith(variables.PREFIX):
            assert any(name.endswith(variable.suffix) for name in outcomes), variable.name
            continue
        if variable.kind in ("string", "comma list"):
            # Free text (a key, a commit): nothing is an error but blanks and controls.
            assert outcomes.get(variable.name), variable.name
            continue
        assert outcomes.get(variable.name) == {True, False}, variable.name


def applied(environ: dict[str, str]) -> dict[str, Any]:
    ns = copy.deepcopy(BASE)
    divio_settings.apply(ns, environ=environ)
    return ns


def comparable(ns: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in ns.items() if k not in (divio_settings.ORIGINAL, divio_settings.REPORT)
    }


@pytest.mark.parametrize(
    ("name", "value", "expected"), CORPUS, ids=[f"{i}-{n}" for i, (n, _, _) in enumerate(CORPUS)]
)
def test_corpus(name, value, expected, caplog):
    environ = {**CONTEXT.get(name, {}), name: value}
    ns = copy.deepcopy(BASE)
    with caplog.at_level(logging.DEBUG):
        if expected is ERROR:
            with pytest.raises(ImproperlyConfigured) as error:
                divio_settings.apply(ns, environ=environ)
            message = str(error.value)
            assert message.startswith(f"{name}: expected "), message
            assert SECRET not in message
            assert ns == BASE  # nothing half-applied
        elif expected is NO_CHANGE:
            divio_settings.apply(ns, environ=environ)
            assert comparable(ns) == comparable(applied(CONTEXT.get(name, {})))
        else:
            divio_settings.apply(ns, environ=environ)
            assert READERS[name](ns) == expected
            assert SECRET not in json.dumps(ns[divio_settings.REPORT], default=str)
    assert SECRET not in caplog.text


# --- properties -------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Co")), max_size=80)
URLISH = st.builds(
    lambda scheme, user, host, port, path, query: (
        f"{scheme}://{user}:{SECRET}{host}{port}{path}{query}"
    ),
    st.sampled_from(
        ["postgres", "mysql", "s3", "az", "redis", "smtp", "amqp", "https", "file", "x"]
    ),
    st.text(alphabet=string.printable, max_size=8),
    st.one_of(st.just("@h.example"), st.text(max_size=12).map(lambda t: "@" + t)),
    st.one_of(st.just(""), st.just(":5432"), st.text(alphabet=":0123456789x", max_size=6)),
    st.text(max_size=20),
    st.one_of(st.just(""), st.text(max_size=20).map(lambda t: "?" + t)),
)
SECRET_VARIABLES = [
    "DATABASE_URL",
    "ALT_DATABASE_DSN",
    "DEFAULT_STORAGE_DSN",
    "CACHE_URL",
    "EMAIL_URL",
    "DEFAULT_AMQP_BROKER_URL",
    "SENTRY_DSN",
    "PRIVATE_STORAGE_DSN",
    "SESSIONS_CACHE_URL",
    "BROKER_URL",
]


def check_no_echo(name: str, value: str, report_too: bool) -> None:
    ns = copy.deepcopy(BASE)
    try:
        divio_settings.apply(ns, environ={name: value})
    except ImproperlyConfigured as error:
        assert SECRET not in str(error)
        assert ns == BASE
    else:
        if report_too:
            assert SECRET not in json.dumps(ns[divio_settings.REPORT], default=str)
    # What `divio-settings check` prints for the same environment.
    verdict = Verdict(Path.cwd(), {name: value}, None)
    lines = verdict.errors or message_lines(library_checks(verdict.settings))
    assert SECRET not in "\n".join(lines)


def check_file_no_echo(name: str, value: str, report_too: bool) -> None:
    """The same value read from a file named by <NAME>_FILE."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "secret"
        path.write_bytes(value.encode("utf-8", "surrogatepass"))
        check_no_echo(f"{name}_FILE", str(path), report_too)


# Each secret as the variable itself, and read from the file <NAME>_FILE names.
FROM_VALUE_OR_FILE = pytest.mark.parametrize(
    "check", [check_no_echo, check_file_no_echo], ids=["value", "file"]
)


@FROM_VALUE_OR_FILE
@PLAIN
@given(name=st.sampled_from(SECRET_VARIABLES), value=URLISH)
def test_secret_variables_never_echo_their_password(check, name, value):
    """A password in the credentials never reaches an error, the report or the CLI."""
    check(name, value, report_too=True)


@FROM_VALUE_OR_FILE
@PLAIN
@given(name=st.sampled_from(SECRET_VARIABLES), value=TEXT.map(lambda t: t + SECRET))
def test_secret_variables_errors_never_echo_the_value(check, name, value):
    """Anything typed into a secret variable never comes back in an error or the CLI. (The
    report may show non-secret parts such a value lands in, e.g. db://<table> or a database
    name, as it should.)"""
    check(name, value, report_too=False)


ALL_VARIABLES = sorted(
    {n for n, _, _ in CORPUS}
    | {"DOMAIN_REDIRECTS", "DATABASE_POOL", "DATABASE_CONN_HEALTH_CHECKS", "STAGE"}
)


@PLAIN
@given(environ=st.dictionaries(st.sampled_from(ALL_VARIABLES), TEXT, max_size=4))
def test_any_environment_gives_settings_or_one_clear_error(environ):
    ns = copy.deepcopy(BASE)
    try:
        divio_settings.apply(ns, environ=environ)
    except ImproperlyConfigured as error:
        assert ns == BASE
        for line in str(error).splitlines():
            assert line.split(":", 1)[0] in ALL_VARIABLES, line
    else:
        assert "*" not in ns["ALLOWED_HOSTS"] or any("*" in v for v in environ.values())
        assert "" not in ns["ALLOWED_HOSTS"]


@PLAIN
@given(item=TEXT)
def test_host_normalization_is_stable(item):
    try:
        host = hosts.normalize_host("DOMAIN_ALIASES", item)
    except ImproperlyConfigured:
        return
    # Normalising a normalised host changes nothing; a wildcard keeps its meaning when it is
    # written back in the form users type (*.example.com).
    assert hosts.normalize_host("DOMAIN_ALIASES", host) == host
    if host.startswith("."):
        assert hosts.normalize_host("DOMAIN_ALIASES", "*" + host) == host
    assert host == host.strip().lower()


@PLAIN
@given(value=TEXT)
def test_bool_and_int_readers(value):
    for reader in (env.read_bool, env.read_int):
        try:
            reader({"V": value}, variables.Variable("V", "test", "integer", "a test variable"))
        except ImproperlyConfigured as error:
            assert str(error).startswith("V: expected")


PARTS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


@PLAIN
@given(
    user=PARTS,
    password=PARTS,
    name=PARTS,
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["postgres", "mysql"]),
)
def test_database_url_round_trip(user, password, name, port, scheme):
    url = f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@db.example:{port}/{quote(name, safe='')}"
    config = databases.parse("DATABASE_URL", url, 0, False, {})
    assert (config["USER"], config["PASSWORD"], config["NAME"], config["PORT"]) == (
        user,
        password,
        name,
        port,
    )
    again = f"{scheme}://{quote(config['USER'], safe='')}:{quote(config['PASSWORD'], safe='')}@{config['HOST']}:{config['PORT']}/{quote(config['NAME'], safe='')}"
    assert databases.parse("DATABASE_URL", again, 0, False, {}) == config


@PLAIN
@given(user=PARTS, password=PARTS, port=st.integers(1, 65535))
def test_email_url_round_trip(user, password, port):
    url = f"submission://{quote(user, safe='')}:{quote(password, safe='')}@smtp.example:{port}"
    options = mail.parse("EMAIL_URL", url)["OPTIONS"]
    assert (options["username"], options["password"], options["port"]) == (user, password, port)


@PLAIN
@given(dsn=st.one_of(URLISH, TEXT))
def test_storage_dsn_checks_and_urls_never_crash(dsn):
    try:
        parsed = storage_dsn.StorageDSN.checked("DEFAULT_STORAGE_DSN", dsn)
    except ImproperlyConfigured as error:
        assert SECRET not in str(error)
        return
    base = parsed.base_url()
    assert base is None or SECRET not in base
    function = parsed.url_function()
    if function is not None:
        try:
            url = function("a b/c.txt")
        except ValueError:
            return
        assert SECRET not in url


@PLAIN
@given(url=st.one_of(URLISH, TEXT))
def test_cache_urls_never_crash(url):
    try:
        caches.parse("CACHE_URL", url)
    except ImproperlyConfigured as error:
        assert SECRET not in str(error)


HEADER = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@override_settings(
    MIDDLEWARE=[REDIRECT_MIDDLEWARE, "django.middleware.security.SecurityMiddleware"],
    DIVIO_DOMAIN="example.com",
    DIVIO_DOMAIN_REDIRECTS=["old.example.com", ".legacy.org"],
    ALLOWED_HOSTS=["example.com", "old.example.com", ".legacy.org"],
    SECURE_SSL_REDIRECT=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    DEBUG=False,
)
@PLAIN
@given(
    host=st.one_of(
        HEADER, st.sampled_from(["old.example.com", "x.legacy.org:443", "OLD.example.com."])
    ),
    forwarded=HEADER,
    proto=st.sampled_from(["https", "http", "", "https, http"]),
    path=st.text(alphabet=string.ascii_letters + "/%.?&=#\\", max_size=30),
)
def test_hostile_headers_never_redirect_elsewhere_and_never_500(host, forwarded, proto, path):
    client = Client(raise_request_exception=False)
    response = client.get(
        "/" + path.lstrip("/"),
        headers={"host": host, "x-forwarded-host": forwarded, "x-forwarded-proto": proto},
    )
    assert response.status_code in (200, 301, 302, 400, 404), response.status_code
    if response.status_code in (301, 302):
        assert response["Location"].startswith(
            (
                "https://example.com/",
                "https://old.example.com/",
                "https://" + host.lower().rstrip(".").split(":")[0] + "/",
            )
        )
        if "example.com" not in host.lower() and "legacy.org" not in host.lower():
            pytest.fail(f"redirect for a foreign host: {host!r} -> {response['Location']}")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    filler=st.text(alphabet=string.ascii_letters + string.digits + ":/@?#. +-", max_size=40),
    password=st.text(
        alphabet=string.ascii_letters + string.digits + "!$&*()~", min_size=1, max_size=20
    ),
    position=st.floats(0, 1),
)
def test_redaction_of_a_megabyte_keeps_no_password(filler, password, position):
    """Text of up to 1 MB built from hostile pieces (long runs of scheme characters, many
    "://", many "@"), with one URL whose password must go, wherever it stands."""
    from divio_settings.redaction import redact

    chunk = filler or "a"
    text = chunk * (1_000_000 // len(chunk))
    at = int(len(text) * position)
    # Blanks around the URL end the filler's own userinfo, as they would in a real log line.
    text = f"{text[:at]} redis://user:{password}X9@cache.example.com:6379/0 {text[at:]}"
    out = redact(text)
    assert f":{password}X9@" not in out
    assert "redis://user:********@cache.example.com:6379/0" in out
