from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from divio_settings.urls import media_urlpatterns


class MediaUrlpatternsTests(SimpleTestCase):
    @override_settings(DEBUG=True, MEDIA_URL="/media/", MEDIA_ROOT="/data/media/")
    def test_debug_with_local_media_serves_it(self):
        patterns = media_urlpatterns()
        assert len(patterns) == 1
        assert str(patterns[0].pattern).startswith("^media/")

    @override_settings(DEBUG=False, MEDIA_URL="/media/")
    def test_production_serves_nothing(self):
        assert media_urlpatterns() == []

    @override_settings(DEBUG=True, MEDIA_URL="https://bucket.example.com/")
    def test_remote_media_serves_nothing(self):
        assert media_urlpatterns() == []

    def test_a_media_url_at_the_site_root_is_never_a_catch_all(self):
        for url in ("/", "", "//"):
            with self.settings(DEBUG=True, MEDIA_URL=url, MEDIA_ROOT="/"):
                assert media_urlpatterns() == []


def test_file_media_served_in_debug(tmp_path, settings, client):
    """The real round trip: a file saved through default_storage, fetched over the urls helper."""
    import importlib

    from django.core.files.base import ContentFile
    from django.core.files.storage import storages
    from django.urls import clear_url_caches

    import tests.urls

    settings.DEBUG = True
    settings.MEDIA_URL = "/media/"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        "default": {
            "BACKEND": "divio_settings.storage.backend.DSNStorage",
            "OPTIONS": {"dsn": f"file://{tmp_path}/?url=%2Fmedia%2F"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    name = storages["default"].save("dir/hello wörld.txt", ContentFile(b"hi"))
    url = storages["default"].url(name)
    assert url == "/media/dir/hello%20w%C3%B6rld.txt"
    importlib.reload(tests.urls)
    clear_url_caches()
    try:
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"hi"
    finally:
        settings.DEBUG = False
        importlib.reload(tests.urls)
        clear_url_caches()


def test_the_media_server_never_leaves_the_media_folder(tmp_path, rf):
    """A link inside the media folder to a file or folder outside it is not served (it would
    serve /etc/passwd or /proc/self/environ), and a name the system cannot open is a 404, not
    a 500; a file of the folder is served."""
    import pytest
    from django.http import Http404

    from divio_settings.urls import serve_media

    media, outside = tmp_path / "media", tmp_path / "outside"
    media.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET_KEY=x")
    (media / "photo.txt").write_text("a photo")
    (media / "link.txt").symlink_to(outside / "secret.txt")
    (media / "folder").symlink_to(outside)
    request = rf.get("/media/")
    response = serve_media(request, "photo.txt", str(media))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"a photo"  # type: ignore[attr-defined]
    response.close()
    for name in ("link.txt", "folder/secret.txt", "../outside/secret.txt", "x" * 300, "a\x00b"):
        with pytest.raises(Http404):
            serve_media(request, name, str(media))


def test_a_media_folder_behind_a_link_into_the_system_is_refused(tmp_path):
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from divio_settings.storage.dsn import StorageDSN

    (tmp_path / "media").symlink_to("/etc")
    with pytest.raises(ImproperlyConfigured, match="inside the system tree /etc"):
        StorageDSN.checked("DEFAULT_STORAGE_DSN", f"file://{tmp_path}/media/?url=%2Fmedia%2F")
