from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import security
from tests.helpers import LIVE_KEY, STARTPROJECT


def test_cloud_secret_key_from_environment():
    out = security.settings_from_env({"STAGE": "live", "SECRET_KEY": LIVE_KEY}, STARTPROJECT)
    assert out.values["SECRET_KEY"] == LIVE_KEY
    assert out.sources["SECRET_KEY"] == "SECRET_KEY"


@pytest.mark.parametrize("own", [None, "", "django-insecure-abc"])
def test_cloud_without_secret_key_refuses_to_start(own):
    current = {} if own is None else {"SECRET_KEY": own}
    with pytest.raises(
        ImproperlyConfigured, match=r"^SECRET_KEY: expected a secret key in a cloud"
    ) as error:
        security.settings_from_env({"DOMAIN": "x.aldryn.io"}, current)
    assert "django-insecure-abc" not in str(error.value)


def test_cloud_keeps_a_key_settings_py_reads_from_elsewhere(tmp_path):
    """A key read from a secret file or a variable of the project's own is not in the code."""
    settings_py = tmp_path / "settings.py"
    settings_py.write_text("SECRET_KEY = open('/run/secrets/key').read()\n")
    current = {"SECRET_KEY": "read-from-a-secret-file", "__file__": str(settings_py)}
    out = security.settings_from_env({"STAGE": "test"}, current)
    assert "SECRET_KEY" not in out.values


def test_cloud_refuses_a_key_written_in_a_settings_package(tmp_path):
    """The Wagtail demo: base.py holds a literal key, production.py star-imports it, and the
    environment still has the project's old variable name."""
    package = tmp_path / "settings"
    package.mkdir()
    committed = "c-%w3y0a7n+public+on+github+(x)!"
    (package / "base.py").write_text(f"SECRET_KEY = {committed!r}\n")
    (package / "production.py").write_text("from .base import *\n")
    current = {"SECRET_KEY": committed, "__file__": str(package / "production.py")}
    env = {"STAGE": "live", "DOMAIN": "example.com", "DJANGO_SECRET_KEY": "x" * 50}
    with pytest.raises(
        ImproperlyConfigured, match=r"^SECRET_KEY: expected the signing key"
    ) as error:
        security.settings_from_env(env, current)
    message = str(error.value)
    assert "DJANGO_SECRET_KEY is set, but the variable is SECRET_KEY" in message
    assert "DIVIO_SETTINGS_ALLOW_COMMITTED_SECRET_KEY = True" in message
    assert committed not in message
    assert "x" * 50 not in message
    allowed = {**current, "DIVIO_SETTINGS_ALLOW_COMMITTED_SECRET_KEY": True}
    assert "SECRET_KEY" not in security.settings_from_env(env, allowed).values
    # Locally and at build time the committed key keeps working.
    assert "SECRET_KEY" not in security.settings_from_env({}, current).values


def test_local_without_key_gets_a_derived_one_never_fixed(tmp_path):
    """The same key in every process of one project on one machine (runserver's reloads,
    several workers), another for another project; never a string anyone else knows."""
    first = security.settings_from_env({}, {"BASE_DIR": str(tmp_path / "a")}).values
    again = security.settings_from_env({}, {"BASE_DIR": str(tmp_path / "a")}).values
    other = security.settings_from_env({}, {"BASE_DIR": str(tmp_path / "b")}).values
    assert first["SECRET_KEY"] == again["SECRET_KEY"] != other["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 50
    assert len(set(first["SECRET_KEY"])) > 5


def test_local_keeps_settings_py_key():
    assert "SECRET_KEY" not in security.settings_from_env({}, STARTPROJECT).values


def test_secret_key_fallbacks():
    out = security.settings_from_env({"SECRET_KEY_FALLBACKS": "old1, old2"}, {})
    assert out.values["SECRET_KEY_FALLBACKS"] == ["old1", "old2"]


@pytest.mark.parametrize(
    ("variables", "current", "debug"),
    [
        ({"DJANGO_DEBUG": "True"}, {}, True),
        ({"DJANGO_DEBUG": "off"}, {"DEBUG": True}, False),
        ({"STAGE": "test", "SECRET_KEY": LIVE_KEY, "DJANGO_DEBUG": "true"}, {}, True),
        ({"STAGE": "live", "SECRET_KEY": LIVE_KEY}, {"DEBUG": True}, False),
        ({"STAGE": "live", "SECRET_KEY": LIVE_KEY, "DEBUG": "True"}, {}, False),
        ({}, {}, False),
    ],
)
def test_debug(variables, current, debug):
    assert security.settings_from_env(variables, current).values["DEBUG"] is debug


def test_local_debug_kept_from_settings_py():
    assert "DEBUG" not in security.settings_from_env({}, {"DEBUG": True}).values


def test_bad_debug_value_names_variable():
    with pytest.raises(ImproperlyConfigured, match="^DJANGO_DEBUG: expected true or false"):
        security.settings_from_env({"DJANGO_DEBUG": "maybe"}, {})


def test_cloud_tls_defaults_pass_the_deploy_checks():
    values = security.settings_from_env({"STAGE": "live", "SECRET_KEY": LIVE_KEY}, {}).values
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True


def test_ssl_redirect_disabled_in_the_cloud():
    values = security.settings_from_env(
        {"STAGE": "test", "SECRET_KEY": LIVE_KEY, "SECURE_SSL_REDIRECT": "False"}, {}
    ).values
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    for name in ("SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        assert name not in values


def test_local_has_no_redirect_no_proxy_header_no_hsts():
    values = security.settings_from_env({}, {}).values
    assert values["SECURE_SSL_REDIRECT"] is False
    for name in ("SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE"):
        assert name not in values


def test_hsts_variables_win():
    values = security.settings_from_env(
        {
            "STAGE": "live",
            "SECRET_KEY": LIVE_KEY,
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
            "SECURE_HSTS_PRELOAD": "0",
        },
        {},
    ).values
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is False


def test_settings_py_tls_choices_are_kept():
    current = {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "DEFAULT_EXCEPTION_REPORTER_FILTER": "mine.Filter",
    }
    values = security.settings_from_env({"STAGE": "live", "SECRET_KEY": LIVE_KEY}, current).values
    for name in current:
        assert name not in values
    assert values["CSRF_COOKIE_SECURE"] is True


def test_bad_hsts_seconds_is_an_error_even_when_unused():
    with pytest.raises(ImproperlyConfigured, match="^SECURE_HSTS_SECONDS: expected a whole number"):
        security.settings_from_env({"SECURE_HSTS_SECONDS": "1y"}, {})


def test_hsts_variables_apply_also_without_the_https_redirect():
    """The rule: a variable always wins; locally or with SECURE_SSL_REDIRECT=false too."""
    for env in (
        {"SECURE_HSTS_SECONDS": "31536000"},
        {"STAGE": "test", "SECRET_KEY": LIVE_KEY, "SECURE_SSL_REDIRECT": "false"}
        | {"SECURE_HSTS_SECONDS": "31536000"},
    ):
        values = security.settings_from_env(env, {}).values
        assert values["SECURE_HSTS_SECONDS"] == 31536000
        assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
        assert values["SECURE_HSTS_PRELOAD"] is True


def test_hsts_turned_on_by_settings_py_gets_the_documented_flags():
    values = security.settings_from_env({}, {"SECURE_HSTS_SECONDS": 31536000}).values
    assert "SECURE_HSTS_SECONDS" not in values  # settings.py's own value stays
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True


def test_preload_follows_include_subdomains():
    """max-age=3600; preload without includeSubDomains is refused by the preload list."""
    cloud = {"STAGE": "live", "SECRET_KEY": LIVE_KEY}
    values = security.settings_from_env(cloud, {"SECURE_HSTS_INCLUDE_SUBDOMAINS": False}).values
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert "SECURE_HSTS_INCLUDE_SUBDOMAINS" not in values
    assert values["SECURE_HSTS_PRELOAD"] is False
    values = security.settings_from_env(
        {**cloud, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false"}, {}
    ).values
    assert values["SECURE_HSTS_PRELOAD"] is False
    # An explicit SECURE_HSTS_PRELOAD still wins: the variable is the user's decision.
    values = security.settings_from_env(
        {**cloud, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false", "SECURE_HSTS_PRELOAD": "true"}, {}
    ).values
    assert values["SECURE_HSTS_PRELOAD"] is True


def test_no_hsts_locally_without_a_variable():
    values = security.settings_from_env({}, {}).values
    for name in ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"):
        assert name not in values
