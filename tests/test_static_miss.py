"""StaticMissMiddleware: what a request under STATIC_URL gets when this container lacks the file.
A real WhiteNoise in front of it, over a real collectstatic, for the hit; the rolling deploy
itself is tests/e2e/test_rolling_deploy.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.core.management import call_command
from django.http import Http404, HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from divio_settings.middleware import NO_STORE, StaticMissMiddleware

FILE_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3 = {
    "BACKEND": "divio_settings.storage.backend.DSNStorage",
    "OPTIONS": {"dsn": "s3://KEY:SECRET@bucket.s3.amazonaws.com/site?domain=media.example.com"},
}
HASHED = "/static/css/app.4f2a9c81d3e7.css"
factory = RequestFactory()


@pytest.fixture(autouse=True)
def published(monkeypatch: pytest.MonkeyPatch) -> None:
    """The names publish_static published, as a container has read them from the index."""
    import time

    from divio_settings import published

    names = {
        "css/app.4f2a9c81d3e7.css",
        "fonts/icons.0123456789ab",
        "js/vendor.min.0123456789ab.js",
    }
    monkeypatch.setattr(published.NAMES, "names", frozenset(names))
    monkeypatch.setattr(published.NAMES, "fetched", time.monotonic())


def not_found(request: HttpRequest) -> HttpResponse:
    return HttpResponse("not here", status=404)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("page")


def storages(default: Any) -> dict[str, Any]:
    return {"default": default, "staticfiles": FILE_STORAGE}


@override_settings(DIVIO_STATIC_FALLBACK=True, STORAGES=storages(S3))
def test_a_hashed_name_this_container_lacks_goes_to_the_published_copy():
    response = StaticMissMiddleware(not_found)(factory.get(HASHED))
    assert response.status_code == 302
    assert response["Location"] == (
        "https://media.example.com/site/divio-static/css/app.4f2a9c81d3e7.css"
    )
    assert response["Cache-Control"] == NO_STORE
    # HEAD too; names without an extension, and names with several dots.
    for path, target in (
        ("/static/fonts/icons.0123456789ab", "fonts/icons.0123456789ab"),
        ("/static/js/vendor.min.0123456789ab.js", "js/vendor.min.0123456789ab.js"),
    ):
        response = StaticMissMiddleware(not_found)(factory.head(path))
        assert response["Location"].endswith("/site/divio-static/" + target)


@override_settings(DIVIO_STATIC_FALLBACK=True, STORAGES=storages(S3))
def test_what_is_not_a_hashed_get_is_never_redirected():
    for request in (
        factory.get("/static/css/app.css"),  # not hashed: no published copy of it
        factory.get("/static/css/app.4f2a9c81d3e.css"),  # 11 digits
        factory.get("/static/css/app.4F2A9C81D3E7.css"),  # not md5's spelling
        factory.post(HASHED),
        factory.get("/static/../secret.4f2a9c81d3e7.txt"),
        factory.get("/static//etc/app.4f2a9c81d3e7.css"),
        factory.get("/static/css/..\\..\\private/app.4f2a9c81d3e7.css"),  # backslashes
        factory.get("/static/css/%2e%2e/app.4f2a9c81d3e7.css"),  # ../ once decoded
        factory.get("/static/css/%252e%252e%252fapp.4f2a9c81d3e7.css"),  # and twice
        factory.get("/static/css/./app.4f2a9c81d3e7.css"),
        factory.get("/static/css/app.4f2a9c81d3e8.css"),  # hashed, but published by no one
    ):
        response = StaticMissMiddleware(not_found)(request)
        assert response.status_code == 404, request.path
        assert response["Cache-Control"] == NO_STORE


@override_settings(STORAGES=storages(FILE_STORAGE))
def test_without_the_fallback_a_miss_is_a_404_nobody_caches():
    response = StaticMissMiddleware(not_found)(factory.get(HASHED))
    assert response.status_code == 404
    assert response["Cache-Control"] == NO_STORE


def test_an_error_drops_expires_and_a_page_or_a_hit_is_left_alone():
    def expiring(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(status=500)
        response["Expires"] = "Thu, 01 Dec 2099 16:00:00 GMT"
        return response

    response = StaticMissMiddleware(expiring)(factory.get("/static/x.css"))
    assert response["Cache-Control"] == NO_STORE
    assert "Expires" not in response
    for path in ("/static/found.css", "/missing/", "/staticx/a.css"):
        middleware = StaticMissMiddleware(page if path.startswith("/static/") else not_found)
        response = middleware(factory.get(path))
        assert "Cache-Control" not in response, path


@pytest.mark.parametrize(
    ("static_url", "path"),
    [("https://cdn.example.com/assets/", "/assets/a.css"), ("static", "/static/a.css")],
)
def test_the_prefix_is_static_url_s_path(static_url, path):
    with override_settings(STATIC_URL=static_url):
        response = StaticMissMiddleware(not_found)(factory.get(path))
    assert response["Cache-Control"] == NO_STORE


def test_static_files_at_the_root_turn_it_off():
    with override_settings(STATIC_URL="/"), pytest.raises(MiddlewareNotUsed):
        StaticMissMiddleware(page)


@override_settings(DIVIO_STATIC_FALLBACK=True, STORAGES=storages(S3))
def test_async_stack():
    async def async_not_found(request: HttpRequest) -> HttpResponse:
        return HttpResponse(status=404)

    async def async_page(request: HttpRequest) -> HttpResponse:
        return HttpResponse("page")

    middleware = StaticMissMiddleware(async_not_found)
    assert asyncio.run(middleware(factory.get(HASHED))).status_code == 302
    miss = asyncio.run(middleware(factory.get("/static/a.css")))
    assert miss["Cache-Control"] == NO_STORE
    assert "Cache-Control" not in asyncio.run(middleware(factory.get("/page/")))
    assert asyncio.run(StaticMissMiddleware(async_page)(factory.get("/x"))).content == b"page"


def test_behind_whitenoise_a_hit_keeps_its_caching(tmp_path: Path) -> None:
    """The real order apply() writes: WhiteNoise answers a hit (immutable, far future) before
    this middleware sees it; the miss gets here."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    source = tmp_path / "source" / "css"
    source.mkdir(parents=True)
    (source / "app.css").write_text("body { color: red }")
    with override_settings(
        STATIC_ROOT=str(tmp_path / "root"),
        STATICFILES_DIRS=[str(tmp_path / "source")],
        STORAGES={
            "default": FILE_STORAGE,
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
        from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
        from django.core.files.storage import storages as all_storages

        storage = all_storages["staticfiles"]
        assert isinstance(storage, ManifestStaticFilesStorage)
        hashed = "/static/" + storage.stored_name("css/app.css")

        def raising(request: HttpRequest) -> HttpResponse:
            raise Http404  # what Django's URL resolver does for a path no pattern matches

        def resolver(request: HttpRequest) -> HttpResponse:
            try:
                return raising(request)
            except Http404:
                return HttpResponse(status=404)

        stack = WhiteNoiseMiddleware(StaticMissMiddleware(resolver))
        hit = stack(factory.get(hashed))
        assert hit.status_code == 200
        assert "immutable" in hit["Cache-Control"]
        hit.close()  # WhiteNoise's file
        miss = stack(factory.get(hashed.replace(".css", ".css.map")))
        assert miss.status_code == 404
        assert miss["Cache-Control"] == NO_STORE


def test_only_names_of_the_published_index_are_redirected_and_it_is_read_sparingly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index (divio-static/published.json) over HTTP from the storage's URL: read when a
    name is first asked for, again when an unknown name comes after REFRESH seconds (a newer
    version published meanwhile), never more often; unreadable, nothing is redirected."""
    import http.server
    import json
    import threading
    import time

    from divio_settings import published

    folder = tmp_path / "divio-static"
    folder.mkdir()
    index = folder / "published.json"
    index.write_text(json.dumps({"files": ["css/app.4f2a9c81d3e7.css"]}))
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args: Any) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    dsn = f"s3://K:S@bucket/?endpoint={base}&url={base}%2F"
    store = {"BACKEND": "divio_settings.storage.backend.DSNStorage", "OPTIONS": {"dsn": dsn}}
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(published.NAMES, "names", frozenset())
    monkeypatch.setattr(published.NAMES, "fetched", None)
    newer = "/static/css/app.0123456789ab.css"
    try:
        with override_settings(DIVIO_STATIC_FALLBACK=True, STORAGES=storages(store)):
            middleware = StaticMissMiddleware(not_found)
            assert middleware(factory.get(HASHED))["Location"] == (
                f"{base}/divio-static/css/app.4f2a9c81d3e7.css"
            )
            assert middleware(factory.get(newer)).status_code == 404  # not published yet
            index.write_text(json.dumps({"files": ["css/app.0123456789ab.css"]}))
            for _ in range(50):  # a flood of unknown names: no new fetch within REFRESH
                assert middleware(factory.get(newer)).status_code == 404
            assert len(requests) == 1
            clock[0] += published.REFRESH + 1
            assert middleware(factory.get(newer)).status_code == 302
            assert len(requests) == 2
            index.unlink()
            clock[0] += published.REFRESH + 1
            response = middleware(factory.get("/static/css/app.aaaaaaaaaaaa.css"))
            assert (response.status_code, response["Cache-Control"]) == (404, NO_STORE)
            assert middleware(factory.get(newer)).status_code == 302  # known names stay known
    finally:
        server.shutdown()
        server.server_close()


def test_a_missing_static_file_is_never_a_cacheable_redirect():
    """django CMS' catch-all page pattern makes CommonMiddleware answer a missing unhashed
    static name with a 301 to the name plus a slash (#38, item 7): a 404 with no-store instead."""
    from django.http import HttpResponsePermanentRedirect

    def append_slash(request):
        return HttpResponsePermanentRedirect(request.path + "/")

    response = StaticMissMiddleware(append_slash)(factory.get("/static/cms/js/missing.js"))
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-cache, no-store, max-age=0, must-revalidate"
    # Outside STATIC_URL, Django's redirect stays.
    other = StaticMissMiddleware(append_slash)(factory.get("/about"))
    assert (other.status_code, other["Location"]) == (301, "/about/")
