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
# settings.py's own settings of the SDK storages that a DSN's storage does not read: the DSN
# replaces each of them (show --changes says so).
REPLACED_BY_DSN: Final = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_REGION_NAME",
    "AWS_S3_CUSTOM_DOMAIN",
    "AWS_LOCATION",
    "AWS_DEFAULT_ACL",
    "AWS_QUERYSTRING_AUTH",
    "AZURE_ACCOUNT_NAME",
    "AZURE_ACCOUNT_KEY",
    "AZURE_CONTAINER",
    "AZURE_SAS_TOKEN",
    "AZURE_CUSTOM_DOMAIN",
    "AZURE_URL_EXPIRATION_SECS",
)


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
    if current.get("AWS_QUERYSTRING_AUTH") is True:
        return "AWS_QUERYSTRING_AUTH = True"
    if current.get("AZURE_URL_EXPIRATION_SECS"):
        return f"AZURE_URL_EXPIRATION_SECS = {current['AZURE_URL_EXPIRATION_SECS']!r}"
    signed = options.get("querystring_auth", current.get("AWS_QUERYSTRING_AUTH", True))
    if backend.startswith(S3_BACKEND) and signed is not False:
        return f"STORAGES['default'] is {backend} (django-storages signs its URLs by default)"
    return None
