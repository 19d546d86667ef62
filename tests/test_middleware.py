from __future__ import annotations

import asyncio

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, SimpleTestCase, override_settings

from divio_settings.hosts import REDIRECT_MIDDLEWARE
from divio_settings.middleware import DomainRedirectMiddleware

REDIRECTING = {
    "DIVIO_DOMAIN": "example.com",
    "DIVIO_DOMAIN_REDIRECTS": ["old.example.com", ".legacy.org"],
    "ALLOWED_HOSTS": ["example.com", "old.example.com", ".legacy.org"],
    "SECURE_SSL_REDIRECT": True,
}


def view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("view")


async def async_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async view")


@override_settings(**REDIRECTING)
class DirectTests(SimpleTestCase):
    factory = RequestFactory()

    def test_redirect_keeps_path_and_query(self):
        request = self.factory.get("/a/b%20c/?x=1&y=%C3%A9", HTTP_HOST="old.example.com")
        response = DomainRedirectMiddleware(view)(request)
        assert response.status_code == 302
        assert response["Location"] == "https://example.com/a/b%20c/?x=1&y=%C3%A9"

    def test_port_and_case_and_trailing_dot_are_ignored(self):
        for host in ("OLD.example.com:8443", "old.example.com."):
            response = DomainRedirectMiddleware(view)(self.factory.get("/", HTTP_HOST=host))
            assert response["Location"] == "https://example.com/"

    def test_wildcard_redirect_domain(self):
        for host in ("legacy.org", "www.legacy.org"):
            response = DomainRedirectMiddleware(view)(self.factory.get("/p", HTTP_HOST=host))
            assert response["Location"] == "https://example.com/p"

    def test_other_hosts_reach_the_view(self):
        for host in ("example.com", "notlegacy.org", "evil.com", "[::1]:80"):
            response = DomainRedirectMiddleware(view)(self.factory.get("/", HTTP_HOST=host))
            assert response.content == b"view"

    def test_forwarded_host_cannot_move_the_target(self):
        request = self.factory.get(
            "/x", HTTP_HOST="old.example.com", HTTP_X_FORWARDED_HOST="evil.com"
        )
        request.path = "//evil.com/x"
        response = DomainRedirectMiddleware(view)(request)
        assert response["Location"] == "https://example.com//evil.com/x"

    @override_settings(SECURE_SSL_REDIRECT=False, DIVIO_DOMAIN_REDIRECT_PERMANENT=True)
    def test_http_and_permanent(self):
        response = DomainRedirectMiddleware(view)(
            self.factory.get("/", HTTP_HOST="old.example.com")
        )
        assert response.status_code == 301
        assert response["Location"] == "http://example.com/"

    def test_async(self):
        middleware = DomainRedirectMiddleware(async_view)
        assert asyncio.iscoroutinefunction(middleware)
        redirected = asyncio.run(middleware(self.factory.get("/z", HTTP_HOST="old.example.com")))
        assert redirected["Location"] == "https://example.com/z"
        passed = asyncio.run(middleware(self.factory.get("/", HTTP_HOST="example.com")))
        assert passed.content == b"async view"

    @override_settings(DIVIO_DOMAIN_REDIRECTS=[])
    def test_not_used_without_redirects(self):
        with pytest.raises(MiddlewareNotUsed):
            DomainRedirectMiddleware(view)


@override_settings(
    MIDDLEWARE=[REDIRECT_MIDDLEWARE, "django.middleware.security.SecurityMiddleware"], **REDIRECTING
)
class ClientTests(SimpleTestCase):
    def test_one_hop_from_http_redirect_domain(self):
        response = self.client.get("/x?q=1", headers={"host": "old.example.com"})
        assert response.status_code == 302
        assert response["Location"] == "https://example.com/x?q=1"

    def test_disallowed_host_is_400_never_a_redirect(self):
        with self.settings(ALLOWED_HOSTS=["example.com"]):
            response = self.client.get("/", headers={"host": "old.example.com"})
        assert response.status_code == 400

    def test_primary_domain_gets_the_ssl_redirect_only(self):
        response = self.client.get("/", headers={"host": "example.com"})
        assert response["Location"] == "https://example.com/"

    async def test_async_client(self):
        # The async test client always sends Host: testserver, so redirect that host.
        with self.settings(DIVIO_DOMAIN_REDIRECTS=["testserver"], ALLOWED_HOSTS=["testserver"]):
            response = await self.async_client.get("/q?a=1")
        assert response.status_code == 302
        assert response["Location"] == "https://example.com/q?a=1"


@override_settings(**REDIRECTING)
def test_redirect_answers_before_anything_else_runs():
    def must_not_run(request: HttpRequest) -> HttpResponse:
        raise AssertionError("the URL resolver and the rest of the stack were reached")

    response = DomainRedirectMiddleware(must_not_run)(
        RequestFactory().get("/", HTTP_HOST="old.example.com")
    )
    assert response.status_code == 302


@override_settings(**{**REDIRECTING, "SECURE_SSL_REDIRECT": False})
def test_without_the_https_redirect_an_https_request_stays_https():
    """SECURE_SSL_REDIRECT=False must not downgrade a request that arrived over https."""
    factory = RequestFactory()
    middleware = DomainRedirectMiddleware(view)
    secure = middleware(factory.get("/x?y=1", HTTP_HOST="old.example.com", secure=True))
    assert secure["Location"] == "https://example.com/x?y=1"
    plain = middleware(factory.get("/x", HTTP_HOST="old.example.com"))
    assert plain["Location"] == "http://example.com/x"


@override_settings(**REDIRECTING)
def test_a_path_that_is_not_absolute_never_becomes_the_target_s_host():
    """A request line such as `GET @evil.example/` (uvicorn passes it on): the target is DOMAIN
    with the path made absolute, not https://example.com@evil.example/."""
    from urllib.parse import urlsplit

    for raw in ("@evil.example/", "evil.example/x", ".evil.example"):
        request = RequestFactory().get("/", HTTP_HOST="old.example.com")
        request.path = request.path_info = raw
        location = DomainRedirectMiddleware(view)(request)["Location"]
        assert urlsplit(location).hostname == "example.com", location
        assert location == f"https://example.com/{raw}"
