"""DomainRedirectMiddleware: DOMAIN_REDIRECTS hosts answer with a redirect to DOMAIN.
StaticMissMiddleware: a static file this container lacks is fetched from the media storage's
published copy, and a missing one is never cached."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)

from . import conf
from .published import NAMES, PUBLISHED

GetResponse = Callable[[HttpRequest], Any]


class DomainRedirectMiddleware:
    """Redirect requests for a DOMAIN_REDIRECTS host to the same path on DOMAIN.

    Configuration is read once; with nothing to redirect the middleware removes itself
    (``MiddlewareNotUsed``), and otherwise costs one set lookup on the Host header per request.
    The target is always DIVIO_DOMAIN: neither the Host header nor X-Forwarded-Host can move it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        redirects = tuple(conf.read(conf.DOMAIN_REDIRECTS) or ())
        domain = conf.read(conf.DOMAIN)
        if not redirects or not domain:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.exact = frozenset(host for host in redirects if not host.startswith("."))
        self.suffixes = tuple(host for host in redirects if host.startswith("."))
        self.bare = frozenset(host[1:] for host in self.suffixes)
        self.always_https = bool(settings.SECURE_SSL_REDIRECT)
        self.domain = domain
        permanent = conf.read(conf.DOMAIN_REDIRECT_PERMANENT)
        self.response_class = HttpResponsePermanentRedirect if permanent else HttpResponseRedirect
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def redirect(self, request: HttpRequest) -> HttpResponse | None:
        host = request.META.get("HTTP_HOST", "")
        if host[-1:] != "]" and ":" in host:
            host = host.rpartition(":")[0]
        host = host.lower().rstrip(".")
        if host not in self.exact and not (
            self.suffixes and (host in self.bare or host.endswith(self.suffixes))
        ):
            return None
        # Validates the host against ALLOWED_HOSTS (DisallowedHost becomes a 400 as usual).
        request.get_host()
        # https when the redirect to https is on, else the scheme the request came with: never
        # a downgrade of an https request to http.
        scheme = "https" if self.always_https or request.is_secure() else "http"
        # The target is DOMAIN and the request's path only: a request line that is not an
        # absolute path (uvicorn passes `GET @evil.example/` on) must not become the target's
        # user info or host.
        path = request.get_full_path()
        if not path.startswith("/"):
            path = "/" + path
        return self.response_class(f"{scheme}://{self.domain}{path}")

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.redirect(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = self.redirect(request)
        if response is None:
            get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
            response = await get_response(request)
        return response


# The last path segment of a name ManifestStaticFilesStorage hashed: name.<12 hex>[.ext].
HASHED: Final = re.compile(r"\.[0-9a-f]{12}(?:\.[^./]+)?$")
NO_STORE: Final = "no-cache, no-store, max-age=0, must-revalidate"


def plain_name(name: str) -> bool:
    """A static name that stays where it is put: relative segments of printable characters,
    none empty, none ``.`` or ``..``, no backslash (a separator to some servers), no ``%`` (an
    encoded separator once decoded again)."""
    if not name.isprintable() or "\\" in name or "%" in name:
        return False
    return all(segment not in ("", ".", "..") for segment in name.split("/"))


class StaticMissMiddleware:
    """What happens to a request under STATIC_URL that WhiteNoise (placed before this) did not
    answer: the static file is not in this container.

    - A hashed name (``app.4f2a9c81d3e7.css``) that ``publish_static`` copied to the media
      storage (``DIVIO_STATIC_FALLBACK``): a redirect to that copy. During a rolling deploy a
      page of the new version can ask an old container for its assets.
    - Anything else goes on to Django, and an error response carries ``no-store``, so that no
      CDN or browser pins a 404 that the next version (or the next container) would answer.

    A hit never reaches this middleware (WhiteNoise answers first); every other request costs
    one ``str.startswith``.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        prefix = urlsplit(str(settings.STATIC_URL or "")).path
        if not prefix.strip("/"):
            raise MiddlewareNotUsed  # static files at the site's root: nothing to tell apart
        self.get_response = get_response
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.fallback = bool(conf.read(conf.STATIC_FALLBACK))
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def redirect(self, request: HttpRequest) -> HttpResponse | None:
        name = request.path[len(self.prefix) :]
        if not (self.fallback and request.method in ("GET", "HEAD") and HASHED.search(name)):
            return None
        if not plain_name(name) or name not in NAMES:
            # Climbing out of divio-static/ (.., a backslash, an encoded separator), or a name
            # no published version has: never looked up, never cached.
            return self.not_stored(HttpResponseNotFound())
        from django.core.files.storage import default_storage

        response = HttpResponseRedirect(default_storage.url(PUBLISHED + name))
        response["Cache-Control"] = NO_STORE  # the copy may be pruned once this version is old
        return response

    @staticmethod
    def not_stored(response: HttpResponse) -> HttpResponse:
        if response.status_code >= 400:
            response["Cache-Control"] = NO_STORE
            if "Expires" in response:
                del response["Expires"]
        return response

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        if not request.path.startswith(self.prefix):
            return self.get_response(request)
        return self.redirect(request) or self.not_stored(self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        if not request.path.startswith(self.prefix):
            return await get_response(request)
        return self.redirect(request) or self.not_stored(await get_response(request))
