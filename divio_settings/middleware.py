"""HealthMiddleware: the health views (divio_settings.health) answer a probe on any host first.
DomainRedirectMiddleware: DOMAIN_REDIRECTS hosts answer with a redirect to DOMAIN.
StaticMissMiddleware: a static file this container lacks is fetched from the media storage's
published copy, and a missing one is never cached."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
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

GetResponse = Callable[[HttpRequest], Any]
View = Callable[[HttpRequest], HttpResponse]
# The URL names of health_urlpatterns()'s views (divio_settings.health).
ALIVE_NAME: Final = "divio-settings-alive"
READY_NAME: Final = "divio-settings-ready"


class HealthMiddleware:
    """Answer the views of ``health_urlpatterns()`` (``/-/alive``, ``/-/ready``) before any
    other middleware: a probe of a platform, Kubernetes or a load balancer comes to the
    container's own address, which no ALLOWED_HOSTS lists, and over http, which the https
    redirect would turn away. Only those two paths are answered so; everything else goes on.

    Their paths are looked up on the first request, once the URLconf is there; a project whose
    urls.py does not route them pays one dictionary lookup per request.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.views: dict[str, View] | None = None
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def view(self, request: HttpRequest) -> View | None:
        if self.views is None:
            try:
                self.views = health_views()
            except Exception:
                return None  # urls.py cannot be loaded: the request fails as it would anyway
        return self.views.get(request.path)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        view = self.view(request)
        return view(request) if view is not None else self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        view = self.view(request)
        if view is not None:
            # The readiness probes wait on their own threads; the event loop does not.
            response: HttpResponse = await sync_to_async(view, thread_sensitive=False)(request)
            return response
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        return await get_response(request)


def health_views() -> dict[str, View]:
    """{path: view} of the health views that urls.py routes, found by their names (none: an
    empty dict). The views are not imported here: `manage.py check` imports every middleware
    class, and should not pay for the probes behind them."""
    from django.urls import NoReverseMatch, resolve, reverse

    found: dict[str, View] = {}
    for name in (ALIVE_NAME, READY_NAME):
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        found[path] = resolve(path).func
    return found


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
HASHED_NAME: Final = r"\.[0-9a-f]{12}(?:\.[^./]+)?$"


@functools.cache
def hashed() -> re.Pattern[str]:
    """HASHED_NAME, compiled on first use: `manage.py check` imports this module (Django's
    admin check imports every middleware class) and need not compile it."""
    return re.compile(HASHED_NAME)


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
      CDN or browser pins a 404 that the next version (or the next container) would answer; a
      redirect Django answers with (APPEND_SLASH towards a catch-all page pattern) is such a
      404 too, never a cacheable 301.

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
        if self.fallback:  # imported only where there is a published copy to redirect to
            from .published import NAMES, PUBLISHED

            self.names, self.published = NAMES, PUBLISHED
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def redirect(self, request: HttpRequest) -> HttpResponse | None:
        name = request.path[len(self.prefix) :]
        if not (self.fallback and request.method in ("GET", "HEAD") and hashed().search(name)):
            return None
        if not plain_name(name) or name not in self.names:
            # Climbing out of divio-static/ (.., a backslash, an encoded separator), or a name
            # no published version has: never looked up, never cached.
            return self.not_stored(HttpResponseNotFound())
        from django.core.files.storage import default_storage

        response = HttpResponseRedirect(default_storage.url(self.published + name))
        response["Cache-Control"] = NO_STORE  # the copy may be pruned once this version is old
        return response

    @staticmethod
    def not_stored(response: HttpResponse) -> HttpResponse:
        if 300 <= response.status_code < 400:
            # Django's answer for a static name this container lacks, a redirect (APPEND_SLASH
            # to a catch-all pattern such as django CMS' pages) would be cached as permanent:
            # a static file that is not here is a 404.
            response = HttpResponseNotFound()
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
