"""A storage DSN (``s3://``, ``az://``, ``file://``) read once into a :class:`StorageDSN`, and the
public URLs of its files rendered without any SDK.

Everything that needs a DSN takes a StorageDSN: the storage group (checks and settings), the
Django backend (storage/backend.py, built on first use) and the SDK backends (storage/s3.py,
storage/azure.py). Nothing here imports boto3, the Azure SDK, django-storages or furl.

The public-URL rules are django-storage-url's (bucket, endpoint and region from the S3 host
name) and django-storages' (name cleaning, location joining, quoting), restated so that
rendering a public media URL needs no SDK; tests/test_media_urls.py compares every result with
the real backends on generated names.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urljoin, urlsplit

from divio_settings.env import TRUE_WORDS, check_url, invalid

SCHEMES: Final = ("az", "file", "s3")
EXAMPLE: Final = "s3://KEY:SECRET@bucket.s3.amazonaws.com/?domain=media.example.com"
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
NO_ACL: Final = frozenset({"", "none"})
FURL_SAFE: Final = ":@-._~!$&'()*+,;="
# A file DSN's folder is served at MEDIA_URL while DEBUG is on: never inside the system's own
# trees, at any depth (/proc/self/ serves the process's environment, /etc/ssl/private/ keys), and
# never the top of a folder shared by others; links are resolved first. /lib* covers lib32,
# lib64 and libx32. The platform's data folder is /data (docs/reference/variables.md).
SYSTEM_TREES: Final = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/root", "/run", "/sbin", "/sys", "/usr",
    "/var",
)  # fmt: skip
SHARED_TOPS: Final = ("/", "/home", "/tmp", "/opt", "/srv", "/mnt", "/media")
FILE_URL: Final = "/media/"  # the guide's MEDIA_URL, for a file DSN without url=
# MEDIA_HEADERS compiled: [(pattern, {"CacheControl": "max-age=3600", …}), …]; first match wins.
HeaderRules = list[tuple[re.Pattern[str], dict[str, str]]]


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

    def bucket_url(self) -> str:
        """The bucket's URL as botocore builds it, unsigned: with an explicit endpoint_url
        (django-storage-url always passes one) "auto" addressing means the path style, and an
        endpoint on an IP address is always addressed by path."""
        scheme, _, host = self.endpoint_url.partition("://")
        if self.addressing_style != "virtual" or _is_ip(urlsplit(self.endpoint_url).hostname or ""):
            return f"{self.endpoint_url}/{self.bucket}/"
        return f"{scheme}://{self.bucket}.{host}/"


def _server_form(parts: SplitResult) -> bool:
    try:
        port = parts.port
    except ValueError:
        return False  # check_url has reported a bad port already
    return port is not None or _is_ip(parts.hostname or "")


def _is_ip(host: str) -> bool:
    """An IPv4 address, or an IPv6 one with or without its brackets."""
    return ":" in host or host.startswith("[") or host.replace(".", "").isdigit()


class StorageDSN:
    """One storage DSN, split once: its scheme, credentials, host, path and query arguments."""

    __slots__ = ("_s3", "args", "parts", "value")

    def __init__(self, value: str, parts: SplitResult | None = None) -> None:
        self.value = value
        self.parts = urlsplit(value) if parts is None else parts
        self.args = dict(parse_qsl(self.parts.query, keep_blank_values=True))
        if self.parts.scheme == "file":
            self.args.setdefault("url", FILE_URL)
        self._s3: S3Parts | None = None

    @classmethod
    def checked(cls, name: str, value: str) -> StorageDSN:
        """The DSN of variable *name*, or an ImproperlyConfigured that names it."""
        parts = check_url(name, value, SCHEMES, EXAMPLE)
        dsn = cls(value, parts)
        if parts.scheme == "file":
            _check_file(name, dsn)
        elif not parts.hostname:
            raise invalid(name, f"a storage DSN like {EXAMPLE}", "it has no host")
        elif parts.scheme == "s3" and "endpoint" not in dsn.args and _server_form(parts):
            # MinIO's own spelling, s3://KEY:SECRET@host:port/bucket: the host is the server, not
            # a bucket, and would be read as bucket "0.0" on endpoint https://1:9000.
            server = "http://" + parts.netloc.rpartition("@")[2]
            bucket = parts.path.strip("/").partition("/")[0] or "BUCKET"
            raise invalid(
                name,
                f"the bucket as host and the server in endpoint=: "
                f"s3://KEY:SECRET@{bucket}/?endpoint={server}",
                "the host is a server address (a port or an IP address), not a bucket",
            )
        elif parts.scheme == "az" and not (parts.username and parts.password):
            raise invalid(
                name,
                "az://ACCOUNT:SAS-OR-KEY@blob.core.windows.net/container",
                "the account name or credential is missing",
            )
        for arg in ("endpoint",) if parts.scheme == "file" else ("endpoint", "url"):
            _check_server_arg(name, arg, dsn.args.get(arg, "http://x"))
        return dsn

    @property
    def scheme(self) -> str:
        return self.parts.scheme

    @property
    def overwrite(self) -> bool:
        """``overwrite=true`` lets a save replace an object of the same name (django-storages'
        default); without it a second file of that name gets a new name, as file storage does."""
        return self.args.get("overwrite", "false").lower() in TRUE_WORDS

    @property
    def s3(self) -> S3Parts:
        """django-storage-url's reading of an s3:// DSN, plus our ``endpoint=`` for local
        servers."""
        if self._s3 is None:
            self._s3 = _s3_parts(self)
        return self._s3

    def base_url(self) -> str | None:
        """The URL a file named '' would have: what MEDIA_URL should be."""
        if self.scheme == "file":
            return self.args.get("url")
        if self.scheme == "s3":
            s3 = self.s3
            folder = f"{s3.location.rstrip('/')}/" if s3.location else ""
            if s3.custom_domain:
                return f"{s3.url_protocol}//{s3.custom_domain}/{folder}"
            return f"{s3.bucket_url()}{folder}"
        return self.azure_prefix()

    def azure_prefix(self) -> str:
        """The URL of the container: the origin, the account's path on a local endpoint
        (Azurite serves http://host:10000/<account>/<container>/), the container."""
        endpoint = self.args.get("endpoint")
        account_path = urlsplit(endpoint).path.strip("/") + "/" if endpoint else ""
        return f"{self.azure_origin()}/{account_path}{quote(self.parts.path.strip('/'))}/"

    def azure_origin(self) -> str:
        if "endpoint" in self.args:
            endpoint = urlsplit(self.args["endpoint"])
            return f"{endpoint.scheme}://{endpoint.netloc}"
        if "url" in self.args:
            url = urlsplit(self.args["url"])
            return f"{url.scheme}://{url.netloc}"
        account = unquote(self.parts.username or "")
        return "https://" + (self.args.get("domain") or f"{account}.{self.parts.hostname}")

    def url_function(self) -> Callable[[str], str] | None:
        """A function name -> URL equal to the real backend's, or None where only the real
        backend can tell: signed S3 URLs (``qs_auth=true``)."""
        if self.scheme == "s3":
            return _s3_url_function(self.s3)
        if self.scheme == "az":
            return _azure_url_function(self)
        root = self.args["url"]
        return _file_url_function(root if root.endswith("/") else root + "/")


def _s3_parts(dsn: StorageDSN) -> S3Parts:
    args = dsn.args
    host = dsn.parts.hostname or ""
    own_endpoint = "endpoint" in args
    if own_endpoint:
        bucket, endpoint_url = host, args["endpoint"].rstrip("/")
        region: str | None = args.get("region_name") or "us-east-1"
    else:
        bucket, storage_host, region = _split_s3_host(host, args)
        endpoint_url = f"https://{storage_host}"
    location = unquote(dsn.parts.path).lstrip("/")
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


def _s3_url_function(s3: S3Parts) -> Callable[[str], str] | None:
    """Unsigned URLs (no ``qs_auth``) are a pure function of the DSN whatever the ACL: with a
    custom domain django-storages joins it with the name, without one botocore builds the
    bucket's URL and quotes the key (safe="/~"). Signed URLs need the SDK."""
    from django.utils.encoding import filepath_to_uri  # at first use: not at settings time

    if s3.querystring_auth:
        return None
    location = s3.location
    if s3.custom_domain:
        prefix = f"{s3.url_protocol}//{s3.custom_domain}/"

        def s3_url(name: str) -> str:
            return prefix + filepath_to_uri(safe_join(location, clean_name(name)))

        return s3_url
    bucket = s3.bucket_url()

    def s3_key_url(name: str) -> str:
        key = safe_join(location, clean_name(name))
        if not key:
            raise ValueError("an object URL needs a name (botocore: the Key is empty)")
        return bucket + quote(key, safe="/~")

    return s3_key_url


def _azure_url_function(dsn: StorageDSN) -> Callable[[str], str]:
    path_prefix = dsn.azure_prefix()

    def azure_url(name: str) -> str:
        blob = safe_join("", clean_name(name)).strip("./")
        if not blob:
            raise ValueError("File name must contain one or more printable characters")
        # The SDK quotes the name; django-storage-url's furl then re-quotes each segment.
        return path_prefix + "/".join(quote(part, safe=FURL_SAFE) for part in blob.split("/"))

    return azure_url


def _file_url_function(root: str) -> Callable[[str], str]:
    from django.utils.encoding import filepath_to_uri  # at first use: not at settings time

    def file_url(name: str) -> str:
        return urljoin(root, (filepath_to_uri(name) or "").lstrip("/"))

    return file_url


def _check_file(name: str, dsn: StorageDSN) -> None:
    """A file DSN: an absolute folder of its own, served below a path of its own."""
    parts = dsn.parts
    if not parts.path.startswith("/") or parts.netloc:
        raise invalid(name, "file:///absolute/path/?url=%2Fmedia%2F", "the path is not absolute")
    folder = posixpath.normpath(unquote(parts.path))
    system = system_folder(folder)
    if system:
        raise invalid(
            name,
            "a folder of its own for media, such as file:///data/media/?url=%2Fmedia%2F",
            f"{folder} is {system}, which DEBUG would serve to anyone",
        )
    url = dsn.args["url"]
    if "://" not in url and url.strip("/") == "":
        raise invalid(
            name,
            "url= with a path of its own, such as url=%2Fmedia%2F",
            "media served at the site's root would answer every URL",
        )


def system_folder(folder: str) -> str | None:
    """What makes *folder* unfit for media ("inside the system tree /proc", "the shared folder
    /tmp"), as written and with its links resolved, or None."""
    import os.path

    for path in dict.fromkeys((posixpath.normpath(folder), os.path.realpath(folder))):
        top = "/" + path.split("/")[1]
        if path in SHARED_TOPS:
            return f"the shared folder {path}"
        if top in SYSTEM_TREES or top.startswith("/lib"):
            return f"inside the system tree {top}"
    return None


def _check_server_arg(name: str, arg: str, value: str) -> None:
    """endpoint= and url=: an http(s) URL with a readable port."""
    expected = f"a storage DSN like {EXAMPLE}"
    try:
        target = urlsplit(value)
        port = target.port
    except ValueError:
        raise invalid(
            name, expected, f"{arg}= cannot be read: an unclosed [ or a port above 65535"
        ) from None
    if port == 0:
        raise invalid(name, expected, f"{arg}= has port 0; ports are 1 to 65535")
    if target.scheme not in ("http", "https") or not target.netloc:
        raise invalid(name, expected, f"{arg}= is not an http:// or https:// URL")
