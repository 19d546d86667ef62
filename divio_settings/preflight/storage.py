"""The media probes: a small object written under ``divio-preflight/`` in every media storage,
read back, fetched over HTTP(S) at the URL the storage gives it (as a browser would: the public
URL, or the signed one for private media) and deleted; and, with the static fallback on, the
manifest of this build among those publish_static published."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any, Final
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from divio_settings import conf
from divio_settings.variables import PREFIXED_STORAGE_DSN, alias_variables

from .probe import PROBE_PREFIX, Failed, Probe, Skipped

STATIC_ALIAS: Final = "staticfiles"
PUBLIC_READ_HINT: Final = (
    "add a public-read policy to the bucket, or say acl=public-read in the DSN (or "
    "acl=private&qs_auth=true for private media with signed URLs)"
)
# The storage SDKs' error codes that mean "these credentials are not accepted".
REFUSED: Final = frozenset(
    {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "AuthenticationFailed"}
    | {"AuthorizationFailure", "InvalidClientTokenId", "403"}
)


def probes() -> list[Probe]:
    found = [
        Probe("media", alias, partial(media, alias))
        for alias in settings.STORAGES
        if alias != STATIC_ALIAS
    ]
    if conf.read(conf.STATIC_FALLBACK):
        found.append(Probe("static", "published", published))
    return found


def variable(alias: str) -> str:
    return alias_variables(PREFIXED_STORAGE_DSN, alias)[0]


def media(alias: str, timeout: float) -> str:
    storage = storages[alias]
    token = uuid.uuid4().hex
    payload = f"divio-settings preflight {token}\n".encode()
    try:
        name = storage.save(f"{PROBE_PREFIX}{token}.txt", ContentFile(payload))
    except Exception as error:
        raise Failed(f"cannot write: {said(error)}; check {variable(alias)}") from None
    try:
        with storage.open(name) as handle:
            if handle.read() != payload:
                raise Failed("an object written is read back with other bytes")
        fetched = fetch(storage.url(name), payload, timeout, alias)
    except Failed:
        raise
    except Exception as error:
        raise Failed(f"cannot read back: {said(error)}; check {variable(alias)}") from None
    finally:
        remove(storage, name)
    return f"wrote, read back and deleted {PROBE_PREFIX}…; {fetched}"


def remove(storage: Any, name: str) -> None:
    """The probe object, and on a file storage its folder when empty."""
    import os

    try:
        storage.delete(name)
        folder = os.path.dirname(storage.path(name))
        if os.path.basename(folder) == PROBE_PREFIX.strip("/"):
            os.rmdir(folder)
    except Exception:
        pass  # not a file storage, or busy: the line says what failed first


def fetch(url: str, payload: bytes, timeout: float, alias: str) -> str:
    """The object's URL as a browser gets it. The URL itself is never shown: it may be signed."""
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"its URL is served by this site ({parts.path.rsplit('/', 2)[0]}/…): not fetched"
    host = parts.hostname
    try:
        request = Request(url, headers={"User-Agent": "divio-settings preflight"})
        with urlopen(request, timeout=timeout) as answer:
            body = answer.read(len(payload) + 1)
    except HTTPError as error:
        if error.code in (401, 403):
            raise Failed(
                f"{host} answered {error.code} for a public read: {PUBLIC_READ_HINT}"
            ) from None
        if error.code == 404:
            raise Failed(
                f"{host} answered 404 at the object's URL: url= or domain= of "
                f"{variable(alias)} does not lead to the bucket"
            ) from None
        raise Failed(f"{host} answered {error.code} at the object's URL") from None
    except (URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Failed(f"the object's URL host {host} cannot be reached ({said(reason)})") from None
    if body != payload:
        raise Failed(
            f"{host} answers the object's URL with other content: url= or domain= of "
            f"{variable(alias)} lead elsewhere"
        )
    return f"its URL on {host} answers with it"


def said(error: Any) -> str:
    """An SDK error in a few words: its error code where it has one (botocore, Azure), else
    its type and first line (redacted with every line afterwards)."""
    response = getattr(error, "response", None)
    code = None
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
    code = code or getattr(error, "error_code", None)
    code = getattr(code, "value", code)  # Azure's codes are an enumeration
    if code:
        refused = " (the storage refused the credentials)" if str(code) in REFUSED else ""
        return f"the storage answered {code}{refused}"
    if isinstance(error, BaseException):
        first = (str(error).strip().splitlines() or [""])[0][:200]
        return f"{type(error).__name__}: {first}" if first else type(error).__name__
    return str(error)[:200]


def published(timeout: float) -> str:
    """With the static fallback on, publish_static (a release command before this one) must
    have published this build: else other versions' pages lose their assets mid-deploy."""
    from divio_settings import manifests
    from divio_settings.management.commands import publish_static

    static: Any = storages[STATIC_ALIAS]
    if not hasattr(static, "load_manifest"):
        raise Skipped("STORAGES['staticfiles'] does not hash names: nothing is published")
    try:
        files = publish_static.publishable(publish_static.build_files(static))
    except Exception as error:
        raise Failed(f"this build's static manifest cannot be read: {said(error)}") from None
    identity = manifests.identity(files)
    versions, _ = manifests.read(publish_static.target_storage(), manifests.MANIFESTS)
    if not any(name.endswith(f"-{identity}.json") for name in versions):
        raise Failed(
            "this build's static files are not published: run 'python manage.py "
            "publish_static' before preflight (a release command)"
        )
    return f"this build's {len(files)} hashed files are published (versions kept: {len(versions)})"
