"""DSNStorage: the STORAGES backend for a storage DSN, built on first use."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from os import PathLike
from typing import IO, Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage

from . import BACKEND
from .dsn import HeaderRules, StorageDSN


def media_headers() -> HeaderRules:
    """settings.MEDIA_HEADERS: [(regex, {"CacheControl": "max-age=3600", …}), …]. Header names
    in HTTP's spelling, as aldryn-django wrote them ("Cache-Control"), become boto3's
    ("CacheControl"); boto3 refuses the other spelling and every upload would fail."""
    rules: Sequence[tuple[str, dict[str, str]]] = getattr(settings, "MEDIA_HEADERS", ())
    return [
        (re.compile(pattern), {_sdk_name(name): value for name, value in headers.items()})
        for pattern, headers in rules
    ]


def _sdk_name(header: str) -> str:
    if "-" not in header:
        return header
    return "".join(part[:1].upper() + part[1:].lower() for part in header.split("-"))


def build(dsn: StorageDSN) -> Storage:
    """The real backend. boto3, the Azure SDK, django-storages and furl are imported here."""
    if dsn.scheme == "file":
        from urllib.parse import unquote

        return FileSystemStorage(location=unquote(dsn.parts.path), base_url=dsn.args["url"])
    if dsn.scheme == "s3":
        from .s3 import S3Storage

        return S3Storage(dsn, media_headers())
    from .azure import AzureStorage

    return AzureStorage(dsn, media_headers())


class DSNStorage(Storage):
    """A storage configured by a DSN through django-storage-url, created on first need.

    Importing boto3 or the Azure SDK costs 100-200 ms and tens of MiB, so nothing is imported
    until a method needs the real backend. ``deconstruct()`` (used by migrations) keeps only the
    STORAGES alias, never the DSN and its credentials.
    """

    def __init__(
        self, dsn: str | None = None, alias: str = "default", fast_urls: bool = True
    ) -> None:
        self.alias = alias
        self._dsn = StorageDSN(dsn) if dsn is not None else None
        self._backend: Storage | None = None
        self._fast_urls = fast_urls
        self._url_ready = False
        self._url: Callable[[str], str] | None = None

    def __repr__(self) -> str:
        return f"<DSNStorage alias={self.alias!r}>"

    @property
    def dsn(self) -> StorageDSN:
        if self._dsn is None:
            self._dsn = StorageDSN(str(settings.STORAGES[self.alias]["OPTIONS"]["dsn"]))
        return self._dsn

    @property
    def backend(self) -> Storage:
        if self._backend is None:
            self._backend = build(self.dsn)
        return self._backend

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return (BACKEND, (), {"alias": self.alias})

    def __getattr__(self, name: str) -> Any:
        # Backend specifics (bucket, location, azure_container, …) without listing them all.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.backend, name)

    def open(self, name: str, mode: str = "rb") -> File[Any]:
        return self.backend.open(name, mode)

    def save(self, name: str | None, content: IO[Any], max_length: int | None = None) -> str:
        return self.backend.save(name, content, max_length=max_length)

    def get_valid_name(self, name: str) -> str:
        return self.backend.get_valid_name(name)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self.backend.get_alternative_name(file_root, file_ext)

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return self.backend.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename: str | PathLike[str]) -> str:
        return self.backend.generate_filename(filename)

    def path(self, name: str) -> str:
        return self.backend.path(name)

    def delete(self, name: str) -> None:
        self.backend.delete(name)

    def exists(self, name: str) -> bool:
        return self.backend.exists(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return self.backend.listdir(path)

    def size(self, name: str) -> int:
        return self.backend.size(name)

    def url(self, name: str | None) -> str:
        if not self._url_ready:
            # Public URLs that are a pure function of the DSN need no SDK.
            self._url = self.dsn.url_function() if self._fast_urls else None
            self._url_ready = True
        if self._url is not None and name is not None:
            return self._url(name)
        return self.backend.url(name)

    def get_accessed_time(self, name: str) -> datetime:
        return self.backend.get_accessed_time(name)

    def get_created_time(self, name: str) -> datetime:
        return self.backend.get_created_time(name)

    def get_modified_time(self, name: str) -> datetime:
        return self.backend.get_modified_time(name)
