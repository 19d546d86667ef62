"""What the SDK-backed storages (cloud_s3, cloud_azure) share; this module imports no SDK.

They are django-storage-url's backends, with three additions: an ``endpoint=`` query argument
for local S3-compatible servers and the Azure emulator (plain http, a port), ``acl=none`` for
buckets whose ACLs are disabled, and MEDIA_HEADERS (aldryn-django's per-path upload headers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from django.conf import settings

MAX_MEMORY: Final = 10 * 1024**2  # roll over to disk above 10 MB, as django-storage-url does
AZURE_HEADERS: Final = {
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
