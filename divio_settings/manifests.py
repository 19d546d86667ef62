"""The manifests of publish_static in the media storage: signed with the signing key, so that
one written by anybody else with write access to the bucket (or by a bug) is never acted on,
and held to a strict schema (at most MAX_NAMES relative, hashed names that stay below
``divio-static/``).

    divio-static/manifests/<seq>-<id>.json   a published version: its files exist
    divio-static/pending/<id>.json           a version being published: its files are kept
"""

from __future__ import annotations

import json
from typing import Any, Final

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from divio_settings.middleware import hashed, plain_name
from divio_settings.published import PUBLISHED

MANIFESTS: Final = PUBLISHED + "manifests/"
PENDING: Final = PUBLISHED + "pending/"
SALT: Final = "divio_settings.publish_static"
# A build with more static files than this is not one publish_static wrote (a manifest of
# 800,000 names kept a prune busy past two minutes).
MAX_NAMES: Final = 50_000


def valid_name(name: object) -> bool:
    """A hashed name publish_static may write or delete: relative, below divio-static/."""
    return isinstance(name, str) and plain_name(name) and hashed().search(name) is not None


def identity(files: list[str]) -> str:
    """The name of a build's manifests: a hash of its sorted hashed names (publish_static
    writes it, preflight looks for it)."""
    import hashlib

    return hashlib.sha256("\n".join(files).encode()).hexdigest()[:16]


def dumps(files: list[str]) -> bytes:
    return signing.dumps({"files": files}, salt=SALT, compress=True).encode()


def loads(text: str) -> set[str] | None:
    """The names of a manifest publish_static wrote, or None."""
    try:
        data: Any = signing.loads(text, salt=SALT)
    except (signing.BadSignature, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or len(files) > MAX_NAMES:
        return None
    if not all(valid_name(name) for name in files):
        return None
    return set(files)


def save(storage: Storage, name: str, content: Any) -> None:
    """*content* (a file, or the names of a manifest) saved as *name*. Another release may
    write the same name at the same moment (the same bytes: content-addressed): whichever
    lands is kept, whether the storage renames the second (S3, files) or refuses it (Azure)."""
    if isinstance(content, list):
        content = ContentFile(dumps(content))
    try:
        saved = storage.save(name, content)
    except Exception:
        if storage.exists(name):
            return
        raise
    if saved != name:
        delete(storage, saved)


def read(storage: Storage, folder: str) -> tuple[dict[str, set[str]], list[str]]:
    """({manifest: its names}, [names of the files that are not publish_static's])."""
    try:
        _, names = storage.listdir(folder)
    except FileNotFoundError:
        return {}, []
    found: dict[str, set[str]] = {}
    foreign: list[str] = []
    # django-storages' Azure listdir() gives whole names below the path, S3 and files the last part.
    for name in sorted(name.rpartition("/")[2] for name in names):
        if not name.endswith(".json"):
            continue
        try:
            with storage.open(folder + name) as handle:
                files = loads(handle.read(MAX_NAMES * 200).decode("utf-8", "replace"))
        except Exception:  # the SDKs' own "not found" (Azure's is no OSError)
            if storage.exists(folder + name):
                raise
            continue  # deleted meanwhile (another release's prune)
        if files is None:
            foreign.append(folder + name)
        else:
            found[folder + name] = files
    return found, foreign


def delete(storage: Storage, name: str) -> None:
    """*name* deleted, also when another release deleted it a moment before."""
    try:
        storage.delete(name)
    except Exception:
        if storage.exists(name):
            raise


def json_index(files: set[str]) -> bytes:
    return json.dumps({"files": sorted(files)}).encode()
