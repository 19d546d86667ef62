"""Media storage, the group: DEFAULT_STORAGE_DSN and <PREFIX>_STORAGE_DSN -> STORAGES, MEDIA_URL,
MEDIA_ROOT. The DSN itself is read by storage/dsn.py; settings.py's private media are never
made public by a move (storage/access.py)."""

from __future__ import annotations

import os.path
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote

from divio_settings import conf, variables
from divio_settings.env import Env, base_dir, invalid, is_cloud, prefixed, read_bool
from divio_settings.groups import Decisions

from .access import PRIVATE_HINT, REPLACED_BY_DSN, private_because
from .dsn import StorageDSN

BACKEND: Final = "divio_settings.storage.backend.DSNStorage"


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    storages = dict(current.get("STORAGES") or {})
    found = prefixed(env, variables.PREFIXED_STORAGE_DSN)
    fast = read_bool(env, variables.MEDIA_FAST_URLS)
    for alias, (name, value) in found.items():
        dsn = StorageDSN.checked(name, value)
        _never_wider(env, current, alias, name, dsn)
        options: dict[str, Any] = {"dsn": value, "alias": alias}
        if fast is False:
            options["fast_urls"] = False
        storages[alias] = {"BACKEND": BACKEND, "OPTIONS": options}
        if alias != "default":
            continue
        out.set("DEFAULT_STORAGE_DSN", value, name)
        url = dsn.base_url()
        if url:
            out.set("MEDIA_URL", url, name)
        if dsn.scheme == "file":
            out.set("MEDIA_ROOT", unquote(dsn.parts.path), name)
        elif conf.STATIC_FALLBACK not in current:
            # Shared storage: the static files publish_static copies there answer the requests
            # a container of another version cannot (divio_settings.middleware).
            out.set(conf.STATIC_FALLBACK, True, name)
    if "default" in found:
        _replaced(current, found["default"], out)
    else:
        if "MEDIA_ROOT" not in current:
            out.set("MEDIA_ROOT", os.path.join(base_dir(current), "data", "media"), "default")
        if "MEDIA_URL" not in current:
            out.set("MEDIA_URL", "/media/", "default")
    if found:
        out.set("STORAGES", storages, ", ".join(name for name, _ in found.values()))
    return out


def _replaced(current: Mapping[str, Any], default: tuple[str, str], out: Decisions) -> None:
    """settings.py's storage settings the DSN's storage does not read, each with what says the
    same in the DSN, and a media prefix that moves (AWS_LOCATION 'media' and a DSN whose path
    is the bucket's root: new uploads land elsewhere than the old ones)."""
    name, value = default
    replaced = [setting for setting in REPLACED_BY_DSN if setting in current]
    for setting in replaced:
        reason = (
            f"not read: {name} configures the storage; say it there as {REPLACED_BY_DSN[setting]}"
        )
        if setting in ("AWS_LOCATION", "AZURE_CONTAINER"):
            reason += _prefix_moves(current[setting], StorageDSN(value), setting)
        out.replace(setting, reason)
    if replaced:
        out.set(conf.REPLACED_STORAGE_SETTINGS, replaced, name)


def _prefix_moves(old: Any, dsn: StorageDSN, setting: str) -> str:
    """What the DSN's path makes of settings.py's media prefix."""
    new = (dsn.s3.location if dsn.scheme == "s3" else unquote(dsn.parts.path)).strip("/")
    before = str(old or "").strip("/")
    if setting == "AZURE_CONTAINER" or before == new:
        return ""
    return (
        f" (media were below {before + '/' if before else 'the root'}, the DSN's path puts new "
        f"ones below {new + '/' if new else 'the root'})"
    )


def _never_wider(
    env: Env, current: Mapping[str, Any], alias: str, name: str, dsn: StorageDSN
) -> None:
    """A move never widens media access: settings.py's private storage refuses a DSN that
    publishes (a file DSN only in the cloud, where its URLs are public)."""
    why = private_because(current, alias)
    private = dsn.scheme == "s3" and dsn.s3.querystring_auth
    if private and (dsn.s3.acl or "").startswith("public"):
        private = False  # signed URLs to objects anyone may read
    if why is None or private or (dsn.scheme == "file" and not is_cloud(env)):
        return
    raise invalid(
        name,
        f"a private storage DSN, since settings.py's media are private ({why})",
        PRIVATE_HINT,
    )
