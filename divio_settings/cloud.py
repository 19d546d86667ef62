"""The SDK-backed storages, imported only when media is first really used.

They are django-storage-url's backends, with three additions: an ``endpoint=`` query argument
for local S3-compatible servers and the Azure emulator (plain http, a port), ``acl=none`` for
buckets whose ACLs are disabled, and MEDIA_HEADERS (aldryn-django's per-path upload headers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import furl
from django.conf import settings
from django_storage_url.backends.az import AzureStorage as DSUAzureStorage
from django_storage_url.backends.s3 import S3Storage as DSUS3Storage
from storages.backends.s3 import S3Storage as BaseS3Storage

from .media import s3_parts

MAX_MEMORY = 10 * 1024**2  # roll over to disk above 10 MB, as django-storage-url does
AZURE_HEADERS = {
    "CacheControl": "cache_control",
    "ContentDisposition": "content_disposition",
    "ContentEncoding": "content_encoding",
    "ContentLanguage": "content_language",
    "ContentType": "content_type",
}


def media_headers() -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """settings.MEDIA_HEADERS: [(regex, {"CacheControl": "max-age=3600", …}), …]."""
    rules: Sequence[tuple[str, dict[str, str]]] = getattr(settings, "MEDIA_HEADERS", ())
    return [(re.compile(pattern), dict(headers)) for pattern, headers in rules]


def headers_for(rules: list[tuple[re.Pattern[str], dict[str, str]]], name: str) -> dict[str, str]:
    for pattern, headers in rules:
        if pattern.search(name):
            return headers
    return {}


class S3Storage(DSUS3Storage):  # type: ignore[misc]
    def __init__(self, dsn: str) -> None:
        url = furl.furl(dsn)
        parts = s3_parts(urlsplit(dsn))
        if parts.own_endpoint:
            BaseS3Storage.__init__(
                self,
                access_key=url.username or "",
                secret_key=url.password or "",
                bucket_name=parts.bucket,
                endpoint_url=parts.endpoint_url,
                use_ssl=parts.endpoint_url.startswith("https:"),
                addressing_style=parts.addressing_style,
                signature_version=parts.signature_version or "s3v4",
                location=parts.location,
                region_name=parts.region,
                custom_domain=parts.custom_domain,
                url_protocol=parts.url_protocol,
                querystring_auth=parts.querystring_auth,
                max_memory_size=MAX_MEMORY,
            )
        else:
            super().__init__(url)
        self.object_parameters = {"ACL": parts.acl} if parts.acl else {}
        self.default_acl = None
        self.media_headers = media_headers()

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params: dict[str, Any] = super().get_object_parameters(name)
        params.update(headers_for(self.media_headers, name))
        return params


class AzureStorage(DSUAzureStorage):  # type: ignore[misc]
    def __init__(self, dsn: str) -> None:
        super().__init__(furl.furl(dsn))
        endpoint = furl.furl(dsn).args.get("endpoint")
        self.account_url = endpoint.rstrip("/") if endpoint else None
        if endpoint:
            self.azure_ssl = endpoint.startswith("https:")
            origin = urlsplit(endpoint)
            self.base_url = f"{origin.scheme}://{origin.netloc}/{self.azure_container}/"
        self.media_headers = media_headers()

    def _get_service_client(self) -> Any:
        if not self.account_url:
            return super()._get_service_client()
        from azure.storage.blob import BlobServiceClient

        credential: Any = self.sas_token
        if self.account_key:
            credential = {"account_name": self.account_name, "account_key": self.account_key}
        return BlobServiceClient(self.account_url, credential=credential)

    def _get_content_settings_parameters(self, name: str, content: Any = None) -> dict[str, Any]:
        params: dict[str, Any] = super()._get_content_settings_parameters(name, content=content)
        for header, value in headers_for(self.media_headers, name).items():
            if header in AZURE_HEADERS:
                params[AZURE_HEADERS[header]] = value
        return params
