"""The S3 storage: django-storage-url's, plus endpoint=, acl=none and MEDIA_HEADERS."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import unquote

import furl
from django.conf import settings
from django_storage_url.backends.s3 import S3Storage as DSUS3Storage
from storages.backends.s3 import S3Storage as BaseS3Storage

from .dsn import HeaderRules, StorageDSN

MAX_MEMORY: Final = 10 * 1024**2  # roll over to disk above 10 MB, as django-storage-url does


class S3Storage(DSUS3Storage):  # type: ignore[misc]
    def __init__(self, dsn: StorageDSN, headers: HeaderRules) -> None:
        parts = dsn.s3
        if parts.own_endpoint:
            BaseS3Storage.__init__(
                self,
                access_key=unquote(dsn.parts.username or ""),
                secret_key=unquote(dsn.parts.password or ""),
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
            super().__init__(furl.furl(dsn.value))
        self.file_overwrite = dsn.overwrite  # no silent loss of a same-name upload
        # settings.py's AWS_S3_OBJECT_PARAMETERS (CacheControl, ContentDisposition …) are kept;
        # the DSN's acl= governs who may read (a private one was refused before, storage group).
        own = getattr(settings, "AWS_S3_OBJECT_PARAMETERS", None) or {}
        self.object_parameters = {**own, **({"ACL": parts.acl} if parts.acl else {})}
        self.default_acl = None
        self.media_headers = headers

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params: dict[str, Any] = super().get_object_parameters(name)
        for pattern, headers in self.media_headers:
            if pattern.search(name):
                params.update(headers)
                break
        return params
