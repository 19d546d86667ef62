from __future__ import annotations

import django
import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import mail

SMTP = mail.SMTP
NEW = django.VERSION >= (6, 1)


@pytest.mark.parametrize(
    ("url", "options"),
    [
        (
            "smtp://h",
            {
                "host": "h",
                "port": 25,
                "username": "",
                "password": "",
                "use_tls": False,
                "use_ssl": False,
            },
        ),
        (
            "submission://USER:PA%2BSS%40W@smtp.mailgun.org",
            {
                "host": "smtp.mailgun.org",
                "port": 587,
                "username": "USER",
                "password": "PA+SS@W",
                "use_tls": True,
                "use_ssl": False,
            },
        ),
        (
            "smtps://u:p@h:465",
            {
                "host": "h",
                "port": 465,
                "username": "u",
                "password": "p",
                "use_tls": False,
                "use_ssl": True,
            },
        ),
        (
            "smtp+tls://u:p@h",
            {
                "host": "h",
                "port": 587,
                "username": "u",
                "password": "p",
                "use_tls": True,
                "use_ssl": False,
            },
        ),
        (
            "smtp+ssl://h:2465?timeout=10",
            {
                "host": "h",
                "port": 2465,
                "username": "",
                "password": "",
                "use_tls": False,
                "use_ssl": True,
                "timeout": 10,
            },
        ),
        (
            "smtp://h:2525?tls=true",
            {
                "host": "h",
                "port": 2525,
                "username": "",
                "password": "",
                "use_tls": True,
                "use_ssl": False,
            },
        ),
    ],
)
def test_smtp(url, options):
    assert mail.parse("EMAIL_URL", url) == {"BACKEND": SMTP, "OPTIONS": options}


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        ("console:", "console", {}),
        ("console://", "console", {}),
        ("dummy:", "dummy", {}),
        ("memory:", "locmem", {}),
        ("file:///tmp/mails", "filebased", {"file_path": "/tmp/mails"}),
    ],
)
def test_other_backends(url, backend, options):
    assert mail.parse("EMAIL_URL", url) == {
        "BACKEND": f"django.core.mail.backends.{backend}.EmailBackend",
        "OPTIONS": options,
    }


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("smtp://u:topsecret@", "the host is missing"),
        ("smtp://u:topsecret@h?tls=1&ssl=1", "tls and ssl exclude each other"),
        ("smtp://u:topsecret@h?timeout=soon", "timeout is not a whole number"),
        ("imap://u:topsecret@h", "its scheme is not one of"),
    ],
)
def test_bad_urls(url, detail):
    with pytest.raises(ImproperlyConfigured, match="^EMAIL_URL: expected ") as error:
        mail.parse("EMAIL_URL", url)
    assert detail in str(error.value)
    assert "topsecret" not in str(error.value)


def test_settings_for_this_django_version():
    values = mail.settings_from_env(
        {
            "EMAIL_URL": "submission://u:p@h",
            "DEFAULT_FROM_EMAIL": "site@example.com",
            "SERVER_EMAIL": "errors@example.com",
        },
        {"MAILERS": {"default": {"BACKEND": "console"}, "bulk": {"BACKEND": "b"}}} if NEW else {},
    ).values
    assert values["DEFAULT_FROM_EMAIL"] == "site@example.com"
    assert values["SERVER_EMAIL"] == "errors@example.com"
    if NEW:
        assert values["MAILERS"]["default"]["BACKEND"] == SMTP
        assert values["MAILERS"]["bulk"] == {"BACKEND": "b"}
        assert "EMAIL_HOST" not in values
    else:
        assert values["EMAIL_BACKEND"] == SMTP
        assert values["EMAIL_HOST"] == "h"
        assert values["EMAIL_PORT"] == 587
        assert values["EMAIL_USE_TLS"] is True
        assert "MAILERS" not in values


def test_settings_py_with_legacy_email_settings_gets_legacy_settings():
    values = mail.settings_from_env({"EMAIL_URL": "smtp://h"}, {"EMAIL_HOST": "old"}).values
    assert values["EMAIL_HOST"] == "h"
    assert "MAILERS" not in values


def test_legacy_mapping():
    assert mail.legacy({"BACKEND": "b", "OPTIONS": {"file_path": "/x", "timeout": 3}}) == {
        "EMAIL_BACKEND": "b",
        "EMAIL_FILE_PATH": "/x",
        "EMAIL_TIMEOUT": 3,
    }


def test_bad_address():
    with pytest.raises(ImproperlyConfigured, match="^SERVER_EMAIL: expected an email address"):
        mail.settings_from_env({"SERVER_EMAIL": "root"}, {})


def test_nothing_set():
    assert mail.settings_from_env({}, {}).values == {}


def test_aldryn_django_email_url_spellings():
    """dj-email-url's submit:// and the sender addresses in the query (aldryn-django's
    EMAIL_URL); DEFAULT_FROM_EMAIL and SERVER_EMAIL, when set, win over the query."""
    url = "submit://u:p@smtp.example.com?_server_email=errors@example.com&_default_from_email=site@example.com&tls=true"
    out = mail.settings_from_env({"EMAIL_URL": url}, {})
    assert out.values["DEFAULT_FROM_EMAIL"] == "site@example.com"
    assert out.values["SERVER_EMAIL"] == "errors@example.com"
    assert out.sources["SERVER_EMAIL"] == "EMAIL_URL's _server_email"
    options = mail.parse("EMAIL_URL", url)["OPTIONS"]
    assert (options["host"], options["port"], options["use_tls"]) == ("smtp.example.com", 587, True)
    both = mail.settings_from_env({"EMAIL_URL": url, "SERVER_EMAIL": "ops@example.com"}, {})
    assert both.values["SERVER_EMAIL"] == "ops@example.com"
    with pytest.raises(ImproperlyConfigured, match="SERVER_EMAIL: expected an email address"):
        mail.settings_from_env({"EMAIL_URL": "submit://h?_server_email=x%0D%0ABcc:a@b"}, {})
