"""Who may read settings.py's media: what makes its storage private. A move never widens
access: a private settings.py storage refuses a DSN that publishes (storage/__init__.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

S3_BACKEND: Final = "storages.backends.s3"
PRIVATE_HINT: Final = (
    "add acl=private&qs_auth=true to an s3:// DSN (objects private, URLs signed), or remove "
    "the private settings from settings.py to publish the media"
)
# settings.py's own settings of the SDK storages that a DSN's storage does not read, and what
# says the same in the DSN: the DSN replaces each of them (show --changes and W018 say so). The
# others (AWS_S3_OBJECT_PARAMETERS, AWS_IS_GZIPPED, AWS_S3_PROXIES, …) are read as django-storages
# reads them.
REPLACED_BY_DSN: Final = {
    "AWS_ACCESS_KEY_ID": "the DSN's user",
    "AWS_SECRET_ACCESS_KEY": "the DSN's password",
    "AWS_STORAGE_BUCKET_NAME": "the DSN's host",
    "AWS_S3_ENDPOINT_URL": "endpoint=",
    "AWS_S3_REGION_NAME": "region_name=",
    "AWS_S3_CUSTOM_DOMAIN": "domain= or url=",
    "AWS_LOCATION": "the DSN's path",
    "AWS_DEFAULT_ACL": "acl=",
    "AWS_QUERYSTRING_AUTH": "qs_auth=",
    "AWS_S3_ADDRESSING_STYLE": "addressing_style=",
    "AWS_S3_SIGNATURE_VERSION": "auth=",
    "AWS_S3_USE_SSL": "an https:// or http:// endpoint=",
    "AWS_S3_URL_PROTOCOL": "url=",
    "AWS_S3_FILE_OVERWRITE": "overwrite=",
    "AZURE_ACCOUNT_NAME": "the DSN's user",
    "AZURE_ACCOUNT_KEY": "the DSN's password",
    "AZURE_CONTAINER": "the DSN's path",
    "AZURE_SAS_TOKEN": "the DSN's password",
    "AZURE_CUSTOM_DOMAIN": "domain= or url=",
    "AZURE_URL_EXPIRATION_SECS": "—",
    "AZURE_OVERWRITE_FILES": "overwrite=",
}


def _private_acl(acl: Any) -> bool:
    return isinstance(acl, str) and acl.strip() != "" and not acl.startswith("public")


def private_because(current: Mapping[str, Any], alias: str) -> str | None:
    """Why settings.py's storage *alias* keeps media private (its own setting, as written),
    or None when its media are public (or it has none)."""
    entry = (current.get("STORAGES") or {}).get(alias) or {}
    options = entry.get("OPTIONS") or {}
    backend = str(entry.get("BACKEND", ""))
    if _private_acl(options.get("default_acl")):
        return f"STORAGES[{alias!r}]['OPTIONS']['default_acl'] = {options['default_acl']!r}"
    if options.get("querystring_auth") is True or options.get("expiration_secs"):
        name = "querystring_auth" if "querystring_auth" in options else "expiration_secs"
        return f"STORAGES[{alias!r}]['OPTIONS'][{name!r}] = {options[name]!r}"
    if alias != "default":
        return None
    if _private_acl(current.get("AWS_DEFAULT_ACL")):
        return f"AWS_DEFAULT_ACL = {current['AWS_DEFAULT_ACL']!r}"
    parameters = current.get("AWS_S3_OBJECT_PARAMETERS")
    if isinstance(parameters, Mapping) and _private_acl(parameters.get("ACL")):
        return f"AWS_S3_OBJECT_PARAMETERS['ACL'] = {parameters['ACL']!r}"
    if current.get("AWS_QUERYSTRING_AUTH") is True:
        return "AWS_QUERYSTRING_AUTH = True"
    if current.get("AZURE_URL_EXPIRATION_SECS"):
        return f"AZURE_URL_EXPIRATION_SECS = {current['AZURE_URL_EXPIRATION_SECS']!r}"
    signed = options.get("querystring_auth", current.get("AWS_QUERYSTRING_AUTH", True))
    if backend.startswith(S3_BACKEND) and signed is not False:
        return f"STORAGES['default'] is {backend} (django-storages signs its URLs by default)"
    return None
