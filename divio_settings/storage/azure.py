"""The Azure storage: django-storage-url's, plus endpoint= (Azurite) and MEDIA_HEADERS."""

from __future__ import annotations

import warnings
from typing import Any, Final
from urllib.parse import urlsplit

import furl
from django_storage_url.backends.az import AzureStorage as DSUAzureStorage

from .dsn import HeaderRules, StorageDSN

# MEDIA_HEADERS' names (boto3's spelling) -> the Azure SDK's ContentSettings arguments.
CONTENT_SETTINGS: Final = {
    "CacheControl": "cache_control",
    "ContentDisposition": "content_disposition",
    "ContentEncoding": "content_encoding",
    "ContentLanguage": "content_language",
    "ContentType": "content_type",
}


class AzureStorage(DSUAzureStorage):  # type: ignore[misc]
    def __init__(self, dsn: StorageDSN, headers: HeaderRules) -> None:
        with warnings.catch_warnings():
            # django-storages 1.14 calls datetime.utcnow() here (deprecated on Python 3.12+).
            warnings.filterwarnings("ignore", "datetime.datetime.utcnow", DeprecationWarning)
            super().__init__(furl.furl(dsn.value))
        endpoint = dsn.args.get("endpoint")
        self.account_url = endpoint.rstrip("/") if endpoint else None
        if endpoint:
            self.azure_ssl = endpoint.startswith("https:")
            origin = urlsplit(endpoint)
            self.base_url = f"{origin.scheme}://{origin.netloc}/{self.azure_container}/"
        self.overwrite_files = dsn.overwrite  # no silent loss of a same-name upload
        self.media_headers = headers

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
        for pattern, headers in self.media_headers:
            if pattern.search(name):
                for header, value in headers.items():
                    if header in CONTENT_SETTINGS:
                        params[CONTENT_SETTINGS[header]] = value
                break
        return params
