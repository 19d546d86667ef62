"""EMAIL_URL, DEFAULT_FROM_EMAIL, SERVER_EMAIL -> MAILERS (Django 6.1+) or EMAIL_* settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

import django

from . import variables
from .env import TRUE_WORDS, Env, check_url, get, invalid
from .groups import Decisions

SMTP: Final = "django.core.mail.backends.smtp.EmailBackend"
# scheme -> (backend, default port, use_tls (STARTTLS), use_ssl (implicit TLS))
SCHEMES: Final[dict[str, tuple[str, int | None, bool, bool]]] = {
    "smtp": (SMTP, 25, False, False),
    "submission": (SMTP, 587, True, False),
    "submit": (SMTP, 587, True, False),  # dj-email-url's (aldryn-django's) name for it
    "smtp+tls": (SMTP, 587, True, False),
    # Unlike dj-email-url (where smtps means STARTTLS), smtps is SMTP over TLS: port 465.
    "smtps": (SMTP, 465, False, True),
    "smtp+ssl": (SMTP, 465, False, True),
    "console": ("django.core.mail.backends.console.EmailBackend", None, False, False),
    "dummy": ("django.core.mail.backends.dummy.EmailBackend", None, False, False),
    "memory": ("django.core.mail.backends.locmem.EmailBackend", None, False, False),
    "locmem": ("django.core.mail.backends.locmem.EmailBackend", None, False, False),
    "file": ("django.core.mail.backends.filebased.EmailBackend", None, False, False),
}
EXAMPLE: Final = "submission://user:password@smtp.example.com:587"
# Django < 6.1's EMAIL_* settings: the registry lists them among what EMAIL_URL sets.
LEGACY: Final = tuple(name for name in variables.EMAIL_URL.sets if name.startswith("EMAIL_"))


def parse(name: str, url: str) -> dict[str, Any]:
    """Backend and options in MAILERS form: {"BACKEND": …, "OPTIONS": {host, port, …}}."""
    if url.endswith(":") and "/" not in url:
        url += "//"  # console: dummy: memory:
    parts = check_url(name, url, list(SCHEMES), EXAMPLE)
    backend, port, use_tls, use_ssl = SCHEMES[parts.scheme]
    query = dict(parse_qsl(parts.query))
    options: dict[str, Any] = {}
    if backend == SMTP:
        if not parts.hostname:
            raise invalid(name, f"a URL like {EXAMPLE}", "the host is missing")
        use_tls = query.get("tls", str(use_tls)).lower() in TRUE_WORDS
        use_ssl = query.get("ssl", str(use_ssl)).lower() in TRUE_WORDS
        if use_tls and use_ssl:
            raise invalid(name, f"a URL like {EXAMPLE}", "tls and ssl exclude each other")
        options = {
            "host": unquote(parts.hostname),
            "port": parts.port or port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": use_tls,
            "use_ssl": use_ssl,
        }
    elif parts.scheme == "file":
        options = {"file_path": unquote(parts.path)}
    if "timeout" in query:
        if not (query["timeout"].isascii() and query["timeout"].isdigit()):
            raise invalid(name, f"a URL like {EXAMPLE}", "timeout is not a whole number")
        options["timeout"] = int(query["timeout"])
    return {"BACKEND": backend, "OPTIONS": options}


def legacy(mailer: dict[str, Any]) -> dict[str, Any]:
    """The same mailer as Django < 6.1's EMAIL_* settings."""
    names = {
        "host": "EMAIL_HOST",
        "port": "EMAIL_PORT",
        "username": "EMAIL_HOST_USER",
        "password": "EMAIL_HOST_PASSWORD",
        "use_tls": "EMAIL_USE_TLS",
        "use_ssl": "EMAIL_USE_SSL",
        "timeout": "EMAIL_TIMEOUT",
        "file_path": "EMAIL_FILE_PATH",
    }
    settings = {"EMAIL_BACKEND": mailer["BACKEND"]}
    settings.update({names[key]: value for key, value in mailer["OPTIONS"].items()})
    return settings


# dj-email-url's (aldryn-django's) sender addresses in EMAIL_URL's query; the variables win.
URL_SENDERS: Final = {"DEFAULT_FROM_EMAIL": "_default_from_email", "SERVER_EMAIL": "_server_email"}


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    url = get(env, variables.EMAIL_URL)
    in_url = (
        dict(parse_qsl(url.partition("?")[2])) if url and "?_" in url.replace("&_", "?_") else {}
    )
    for sender in (variables.DEFAULT_FROM_EMAIL, variables.SERVER_EMAIL):
        address = get(env, sender)
        source = sender.name
        if address is None and URL_SENDERS[sender.name] in in_url:
            address, source = (
                in_url[URL_SENDERS[sender.name]],
                f"EMAIL_URL's {URL_SENDERS[sender.name]}",
            )
        if address is not None:
            if "@" not in address:
                raise invalid(sender.name, "an email address such as noreply@example.com")
            if any(char in address for char in "\r\n\x00"):
                raise invalid(
                    sender.name,
                    "an email address such as noreply@example.com",
                    "it contains a line break, which would start a new mail header",
                )
            out.set(sender.name, address, source)
    if url is None:
        return out
    mailer = parse("EMAIL_URL", url)
    own_legacy = any(key in current for key in LEGACY) and "MAILERS" not in current
    if django.VERSION >= (6, 1) and not own_legacy:
        mailers = dict(current.get("MAILERS") or {})
        mailers["default"] = mailer
        out.set("MAILERS", mailers, "EMAIL_URL")
    else:
        for setting, value in legacy(mailer).items():
            out.set(setting, value, "EMAIL_URL")
    return out
