"""publish_static's manifests when another release races it: a name saved twice at once, a
file deleted between listing and reading it, a delete of what is gone (the storages' own ways
of saying so differ: S3 renames the second copy, Azure refuses it, files raise OSError)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from divio_settings import manifests


class Racing:
    """A storage whose other writer always comes first."""

    def __init__(self, there: set[str], refuse: bool = False) -> None:
        self.there, self.refuse, self.deleted = there, refuse, []  # type: ignore[var-annotated]

    def exists(self, name: str) -> bool:
        return name in self.there

    def save(self, name: str, content: Any) -> str:
        if self.refuse:
            raise RuntimeError("BlobAlreadyExists")
        return name + "_x"  # renamed: the other release's copy has the name

    def delete(self, name: str) -> None:
        if name not in self.there:
            raise RuntimeError("BlobNotFound")
        self.deleted.append(name)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        return [], ["1-a.json", "2-b.json"]

    def open(self, name: str) -> Any:
        raise RuntimeError("BlobNotFound")  # deleted by another release's prune meanwhile


def test_a_name_another_release_wrote_a_moment_before_is_kept():
    renaming = Racing({"divio-static/a.0123456789ab.css"})
    renaming.there.add("divio-static/a.0123456789ab.css_x")
    manifests.save(renaming, "divio-static/a.0123456789ab.css", ContentFile(b"x"))  # type: ignore[arg-type]
    assert renaming.deleted == ["divio-static/a.0123456789ab.css_x"]
    refusing = Racing({"divio-static/a.0123456789ab.css"}, refuse=True)
    manifests.save(refusing, "divio-static/a.0123456789ab.css", ContentFile(b"x"))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):  # refused, and not there: a real failure
        manifests.save(Racing(set(), refuse=True), "divio-static/b.css", ContentFile(b"x"))  # type: ignore[arg-type]


def test_gone_meanwhile_is_no_failure_but_a_real_error_is():
    manifests.delete(Racing(set()), "divio-static/gone.json")  # type: ignore[arg-type]
    assert manifests.read(Racing(set()), manifests.MANIFESTS) == ({}, [])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):  # listed, still there, and unreadable: said
        manifests.read(Racing({manifests.MANIFESTS + "1-a.json"}), manifests.MANIFESTS)  # type: ignore[arg-type]

    class Stuck(Racing):
        def delete(self, name: str) -> None:
            raise RuntimeError("AuthorizationFailure")

    with pytest.raises(RuntimeError):
        manifests.delete(Stuck({"divio-static/x.json"}), "divio-static/x.json")  # type: ignore[arg-type]


@override_settings(SECRET_KEY="k" * 50)
def test_a_manifest_is_names_publish_static_signed():
    from django.core import signing

    assert manifests.loads(manifests.dumps(["css/a.0123456789ab.css"]).decode()) == {
        "css/a.0123456789ab.css"
    }
    for data in ([1, 2], {"files": "css/a.0123456789ab.css"}, {"files": ["css/a.css"]}):
        assert manifests.loads(signing.dumps(data, salt=manifests.SALT)) is None
    assert manifests.loads("not signed") is None


def test_an_unreadable_published_index_redirects_nothing(monkeypatch):
    """An index that is not a list of names, or too large: read as nothing, one warning."""
    import io
    import json
    import urllib.request

    from divio_settings import published

    bodies = [json.dumps({"files": "x"}).encode(), b"[", b"x" * (published.MAX_INDEX + 1)]

    def urlopen(url: str, timeout: float) -> Any:
        return io.BytesIO(bodies.pop(0))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with override_settings(
        STORAGES={
            "default": {
                "BACKEND": "divio_settings.storage.backend.DSNStorage",
                "OPTIONS": {"dsn": "s3://K:s3cr3t-key@bucket.s3.amazonaws.com/"},
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        assert [published.fetch_index() for _ in range(3)] == [None, None, None]
