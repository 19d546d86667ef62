"""DEFAULT_STORAGE_DSN and <PREFIX>_STORAGE_DSN -> STORAGES, MEDIA_URL, MEDIA_ROOT.

Only the DSN's shape is checked here; no storage backend (boto3, azure, django-storages, furl)
is imported until media is first used (see backends.DSNStorage).
"""

from __future__ import annotations

import os.path
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from .env import Changes, Env, Variable, base_dir, check_url, invalid, prefixed, read_bool

VARIABLES: Final = (
    Variable(
        "DEFAULT_STORAGE_DSN",
        "DSN",
        "Media storage: s3://, az:// or file://.",
        "settings.py's STORAGES['default'], else files in <BASE_DIR>/data/media",
        secret=True,
        sets=("STORAGES", "MEDIA_URL", "MEDIA_ROOT", "DEFAULT_STORAGE_DSN"),
    ),
    Variable(
        "<PREFIX>_STORAGE_DSN",
        "DSN",
        "One more storage per Divio storage service, named after the prefix in lower case.",
        "none",
        secret=True,
        sets=("STORAGES",),
    ),
    Variable(
        "MEDIA_FAST_URLS",
        "boolean",
        "Render public media URLs without loading the storage SDK.",
        "true",
        sets=("STORAGES",),
    ),
)

BACKEND: Final = "divio_settings.backends.DSNStorage"
SCHEMES: Final = ("az", "file", "s3")
EXAMPLE: Final = "s3://KEY:SECRET@bucket.s3.amazonaws.com/?domain=media.example.com"


def check_dsn(name: str, dsn: str) -> SplitResult:
    parts = check_url(name, dsn, SCHEMES, EXAMPLE)
    expected = f"a storage DSN like {EXAMPLE}"
    if parts.scheme == "file":
        if not parts.path.startswith("/") or parts.netloc:
            raise invalid(
                name, "file:///absolute/path/?url=%2Fmedia%2F", "the path is not absolute"
            )
    elif not parts.hostname:
        raise invalid(name, expected, "it has no host")
    elif parts.scheme == "az" and not (parts.username and parts.password):
        raise invalid(
            name,
            "az://ACCOUNT:SAS-OR-KEY@blob.core.windows.net/container",
            "the account name or credential is missing",
        )
    args = dict(parse_qsl(parts.query, keep_blank_values=True))
    for arg in ("endpoint",) if parts.scheme == "file" else ("endpoint", "url"):
        target = urlsplit(args.get(arg, "http://x"))
        if target.scheme not in ("http", "https") or not target.netloc:
            raise invalid(name, expected, f"{arg}= is not an http:// or https:// URL")
    return parts


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Changes:
    out = Changes()
    storages = dict(current.get("STORAGES") or {})
    found = prefixed(env, "_STORAGE_DSN")
    fast = read_bool(env, "MEDIA_FAST_URLS")
    for alias, (name, dsn) in found.items():
        parts = check_dsn(name, dsn)
        options: dict[str, Any] = {"dsn": dsn, "alias": alias}
        if fast is False:
            options["fast_urls"] = False
        storages[alias] = {"BACKEND": BACKEND, "OPTIONS": options}
        if alias != "default":
            continue
        from .media import base_url

        out.set("DEFAULT_STORAGE_DSN", dsn, name)
        url = base_url(parts)
        if url:
            out.set("MEDIA_URL", url, name)
        if parts.scheme == "file":
            out.set("MEDIA_ROOT", unquote(parts.path), name)
    if "default" not in found:
        if "MEDIA_ROOT" not in current:
            out.set("MEDIA_ROOT", os.path.join(base_dir(current), "data", "media"), "default")
        if "MEDIA_URL" not in current:
            out.set("MEDIA_URL", "/media/", "default")
    if found:
        out.set("STORAGES", storages, ", ".join(name for name, _ in found.values()))
    return out
