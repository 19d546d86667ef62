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


def test_cloud_keeps_a_deliberate_key_from_settings_py():
    out = security.settings_from_env({"STAGE": "test"}, {"SECRET_KEY": "read-from-a-secret-file"})
    assert "SECRET_KEY" not in out.values


def test_local_without_key_gets_an_ephemeral_one_never_fixed():
    first = security.settings_from_env({}, {}).values["SECRET_KEY"]
    second = security.settings_from_env({}, {}).values["SECRET_KEY"]
    assert first != second
    assert len(first) >= 50
    assert len(set(first)) > 5


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
