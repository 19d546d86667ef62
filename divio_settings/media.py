"""What a storage DSN means, worked out without any SDK: its parts, its base URL, a file's URL.

The rules are django-storage-url's (bucket, endpoint and region from the S3 host name) and
django-storages' (name cleaning, location joining, quoting), restated here so that rendering a
public media URL needs neither boto3 nor the Azure SDK. tests/test_media_urls.py compares every
result with the real backends on generated names.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urljoin, urlsplit

from .env import TRUE_WORDS

# django-storage-url's markers between bucket and endpoint in an S3 host name, in its order.
S3_MARKERS: Final = (
    ".s3-accesspoint-fips.dualstack.",
    ".s3-fips.dualstack.",
    ".s3-accesspoint.dualstack.",
    ".s3.dualstack.",
    ".s3-accesspoint.",
    ".s3-fips.",
    ".s3-",
    ".s3.",
)
PUBLIC_ACLS: Final = frozenset({"public-read", "public-read-write"})
NO_ACL: Final = frozenset({"", "none"})
FURL_SAFE: Final = ":@-._~!$&'()*+,;="


class S3Parts:
    """django-storage-url's reading of an S3 DSN. A plain class: NamedTuple and dataclass
    creation cost more start-up time than the whole of apply()."""

    __slots__ = (
        "acl",
        "addressing_style",
        "bucket",
        "custom_domain",
        "endpoint_url",
        "location",
        "own_endpoint",
        "querystring_auth",
        "region",
        "signature_version",
        "url_protocol",
    )

    def __init__(self, **fields: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, fields[name])

    bucket: str
    endpoint_url: str
    region: str | None
    location: str
    addressing_style: str
    custom_domain: str | None
    url_protocol: str
    acl: str | None
    querystring_auth: bool
    signature_version: str | None
    own_endpoint: bool


def args_of(parts: SplitResult) -> dict[str, str]:
    return dict(parse_qsl(parts.query, keep_blank_values=True))


def s3_parts(parts: SplitResult) -> S3Parts:
    """django-storage-url's reading of an s3:// DSN, plus our ``endpoint=`` for local servers."""
    args = args_of(parts)
    host = parts.hostname or ""
    own_endpoint = "endpoint" in args
    if own_endpoint:
        bucket, endpoint_url = host, args["endpoint"].rstrip("/")
        region: str | None = args.get("region_name") or "us-east-1"
    else:
        bucket, storage_host, region = _split_s3_host(host, args)
        endpoint_url = f"https://{storage_host}"
    location = unquote(parts.path).lstrip("/")
    style = args.get("addressing_style") or ("path" if "." in bucket or own_endpoint else "auto")
    if "url" in args:
        url = urlsplit(args["url"])
        protocol, domain = f"{url.scheme}:", url.netloc
        if own_endpoint:
            # Our form keeps url='s path: a bucket behind http://localhost:9000/<bucket>.
            domain += url.path.rstrip("/")
    else:
        protocol, domain = "https:", args.get("domain") or ""
    acl = args.get("acl", "public-read")
    return S3Parts(
        bucket=bucket,
        endpoint_url=endpoint_url,
        region=region,
        location=location,
        addressing_style=style,
        custom_domain=domain or None,
        url_protocol=protocol,
        acl=None if acl.lower() in NO_ACL else acl,
        querystring_auth=args.get("qs_auth", "false").lower() in TRUE_WORDS,
        signature_version=args.get("auth") or None,
        own_endpoint=own_endpoint,
    )


def _split_s3_host(host: str, args: dict[str, str]) -> tuple[str, str, str | None]:
    for marker in S3_MARKERS:
        bucket, found, rest = host.partition(marker)
        if not found:
            continue
        region: str | None = rest.split(".", 1)[0]
        if region == "amazonaws":
            region = None
        elif region in ("control", "control-fips"):
            continue
        return bucket, marker.lstrip(".") + rest, region
    pieces = host.rsplit(".", 3)
    region = args.get("region_name", pieces[1].partition("-")[2] if len(pieces) > 1 else "")
    return pieces[0], ".".join(pieces[1:]), region or None


def clean_name(name: str) -> str:
    """django-storages' ``clean_name``."""
    cleaned = posixpath.normpath(name).replace("\\", "/")
    if name.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return "" if cleaned == "." else cleaned


def safe_join(base: str, path: str) -> str:
    """django-storages' ``safe_join`` for one path: ValueError when *path* leaves *base*."""
    base_path = base.rstrip("/")
    final = posixpath.normpath(posixpath.join(base_path + "/", path))
    if path.endswith("/") or final + "/" == base_path + "/":
        final += "/"
    if final == base_path:
        final += "/"
    if not final.startswith(base_path) or final[len(base_path)] != "/":
        raise ValueError("the joined path is outside of the base path")
    return final.lstrip("/")


def base_url(parts: SplitResult) -> str | None:
    """The URL a file named '' would have: what MEDIA_URL should be."""
    args = args_of(parts)
    if parts.scheme == "file":
        return args.get("url")
    if parts.scheme == "s3":
        s3 = s3_parts(parts)
        folder = f"{s3.location.rstrip('/')}/" if s3.location else ""
        if s3.custom_domain:
            return f"{s3.url_protocol}//{s3.custom_domain}/{folder}"
        if s3.addressing_style != "virtual":
            # With an explicit endpoint_url (django-storage-url always passes one) botocore's
            # "auto" addressing uses the path style.
            return f"{s3.endpoint_url}/{s3.bucket}/{folder}"
        scheme, _, host = s3.endpoint_url.partition("://")
        return f"{scheme}://{s3.bucket}.{host}/{folder}"
    container = parts.path.strip("/")
    return f"{azure_origin(parts)}/{container}/"


def azure_origin(parts: SplitResult) -> str:
    args = args_of(parts)
    if "endpoint" in args:
        endpoint = urlsplit(args["endpoint"])
        return f"{endpoint.scheme}://{endpoint.netloc}"
    if "url" in args:
        url = urlsplit(args["url"])
        return f"{url.scheme}://{url.netloc}"
    account = unquote(parts.username or "")
    return "https://" + (args.get("domain") or f"{account}.{parts.hostname}")


def url_function(dsn: str) -> Callable[[str], str] | None:
    """A function name -> public URL equal to the real backend's, or None where only the real
    backend can tell (signed or ACL-restricted S3 URLs, S3 without a custom domain)."""
    from django.utils.encoding import filepath_to_uri

    parts = urlsplit(dsn)
    if parts.scheme == "s3":
        s3 = s3_parts(parts)
        if s3.querystring_auth or not s3.custom_domain or s3.acl not in PUBLIC_ACLS:
            return None
        prefix = f"{s3.url_protocol}//{s3.custom_domain}/"
        location = s3.location

        def s3_url(name: str) -> str:
            return prefix + filepath_to_uri(safe_join(location, clean_name(name)))

        return s3_url
    if parts.scheme == "az":
        endpoint = args_of(parts).get("endpoint")
        account_path = urlsplit(endpoint).path.strip("/") + "/" if endpoint else ""
        path_prefix = f"{azure_origin(parts)}/{account_path}{quote(parts.path.strip('/'))}/"

        def azure_url(name: str) -> str:
            blob = safe_join("", clean_name(name)).strip("./")
            if not blob:
                raise ValueError("File name must contain one or more printable characters")
            # The SDK quotes the name; django-storage-url's furl then re-quotes each segment.
            return path_prefix + "/".join(quote(part, safe=FURL_SAFE) for part in blob.split("/"))

        return azure_url
    if parts.scheme == "file":
        root = args_of(parts).get("url")
        if root is None:
            return None
        root = root if root.endswith("/") else root + "/"

        def file_url(name: str) -> str:
            return urljoin(root, (filepath_to_uri(name) or "").lstrip("/"))

        return file_url
    return None
