"""DomainRedirectMiddleware: DOMAIN_REDIRECTS hosts answer with a redirect to DOMAIN."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)

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
        redirects = tuple(getattr(settings, "DIVIO_DOMAIN_REDIRECTS", ()) or ())
        domain = getattr(settings, "DIVIO_DOMAIN", "")
        if not redirects or not domain:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.exact = frozenset(host for host in redirects if not host.startswith("."))
        self.suffixes = tuple(host for host in redirects if host.startswith("."))
        self.bare = frozenset(host[1:] for host in self.suffixes)
        self.always_https = bool(settings.SECURE_SSL_REDIRECT)
        self.domain = domain
        permanent = getattr(settings, "DIVIO_DOMAIN_REDIRECT_PERMANENT", False)
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
        return self.response_class(f"{scheme}://{self.domain}{request.get_full_path()}")

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
