"""manage.py publish_static on a storage of files (what a user with a shared volume has): the
copies, the manifests, idempotence, the order of versions, pruning and every refusal. The same
command against the S3 server and Azurite: tests/integration/test_storage_servers.py; a
rolling deploy through it: tests/e2e/test_rolling_deploy.py."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from divio_settings import manifests
from divio_settings.management.commands.publish_static import MANIFESTS
from divio_settings.published import INDEX, PUBLISHED


class Build:
    """collectstatic of one version's files into a STATIC_ROOT of its own, publishing to one
    media folder shared by every version."""

    def __init__(self, tmp: Path, version: str, files: dict[str, str]) -> None:
        self.source = tmp / f"source-{version}"
        for name, text in files.items():
            (self.source / name).parent.mkdir(parents=True, exist_ok=True)
            (self.source / name).write_text(text)
        self.root = tmp / f"static-{version}"
        self.media = tmp / "media"
        self.settings: dict[str, Any] = {
            "STATIC_ROOT": str(self.root),
            "STATICFILES_DIRS": [str(self.source)],
            "DIVIO_STATIC_FALLBACK": True,
            "STORAGES": {
                "default": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(self.media)},
                },
                "staticfiles": {
                    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                },
            },
        }
        with override_settings(**self.settings):
            call_command("collectstatic", "--noinput", verbosity=0)
        manifest = json.loads((self.root / "staticfiles.json").read_text())
        self.hashed: dict[str, str] = manifest["paths"]

    def publish(self, *args: str) -> str:
        out = io.StringIO()
        with override_settings(**self.settings):
            call_command("publish_static", *args, stdout=out)
        return out.getvalue()

    def published(self) -> set[str]:
        folder = self.media / PUBLISHED
        return {
            str(path.relative_to(folder))
            for path in folder.rglob("*")
            if path.is_file()
            and not str(path.relative_to(self.media)).startswith(MANIFESTS)
            and str(path.relative_to(self.media)) != INDEX
        }

    def index(self) -> list[str]:
        names: list[str] = json.loads((self.media / INDEX).read_text())["files"]
        return names

    def manifests(self) -> list[str]:
        return sorted(path.name for path in (self.media / MANIFESTS).iterdir())


def test_publish_copies_each_hashed_file_once_and_prunes_old_versions(tmp_path):
    shared = {"js/shared.js": "let shared = 1;"}
    v1 = Build(tmp_path, "1", {"css/app.css": "body { color: red }", **shared})
    v2 = Build(tmp_path, "2", {"css/app.css": "body { color: blue }", **shared})
    assert v1.hashed["css/app.css"] != v2.hashed["css/app.css"]

    out = v1.publish()
    assert out.startswith("published 2 new static files of 2 to divio-static/")
    assert v1.published() == set(v1.hashed.values())
    for original, hashed in v1.hashed.items():  # the bytes of the build, under the hashed name
        assert (v1.media / PUBLISHED / hashed).read_bytes() == (v1.root / original).read_bytes()
    assert "published 0 new static files of 2" in v1.publish()  # again: nothing uploaded

    out = v2.publish()
    assert (
        "published 1 new static files of 2 to divio-static/ in the media storage (1 already" in out
    )
    assert v2.published() == set(v1.hashed.values()) | set(v2.hashed.values())
    assert len(v2.manifests()) == 2  # the same build published twice has one manifest

    # Version 1 again (a rollback) becomes the newest: keeping one version keeps its files.
    v1.publish("--keep", "0")
    out = v1.publish("--keep", "1")
    assert "pruned 1 older versions (1 files); kept the newest 1" in out
    assert v1.published() == set(v1.hashed.values())
    assert len(v1.manifests()) == 1
    assert manifests.loads((v1.media / MANIFESTS / v1.manifests()[0]).read_text()) == set(
        v1.hashed.values()
    )
    # The index containers redirect by lists exactly the kept versions' names.
    assert v1.index() == sorted(v1.hashed.values())


def test_refusals_name_what_to_do(tmp_path):
    build = Build(tmp_path, "1", {"a.css": "a {}"})
    with pytest.raises(CommandError, match="--keep: expected 0"):
        build.publish("--keep", "-1")
    (build.root / "staticfiles.json").unlink()
    with pytest.raises(CommandError, match=r"no staticfiles.json in STATIC_ROOT .*collectstatic"):
        build.publish()
    plain = {
        **build.settings["STORAGES"],
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Names without hashes (settings.py's own choice): nothing to publish, the release goes on.
    out = io.StringIO()
    with override_settings(**{**build.settings, "STORAGES": plain}):
        call_command("publish_static", stdout=out)
    assert out.getvalue().startswith(
        "nothing to publish: STORAGES['staticfiles'] "
        "(django.contrib.staticfiles.storage.StaticFilesStorage) does not hash"
    )
    (build.media / MANIFESTS).mkdir(parents=True)
    (build.media / MANIFESTS / "0-x.json").write_text("[1, 2]")
    # A manifest publish_static did not write (not signed with this SECRET_KEY): left alone,
    # said so, and nothing it lists is ever deleted.
    with override_settings(**build.settings):
        call_command("collectstatic", "--noinput", verbosity=0)
    published = build.publish("--keep", "1")
    assert "left alone: divio-static/manifests/0-x.json (not written by publish_static" in published
    assert (build.media / MANIFESTS / "0-x.json").read_text() == "[1, 2]"
    assert build.published() == {build.hashed["a.css"]}


def test_without_shared_storage_there_is_nothing_to_publish(tmp_path):
    build = Build(tmp_path, "1", {"a.css": "a {}"})
    with override_settings(**{**build.settings, "DIVIO_STATIC_FALLBACK": False}):
        out = io.StringIO()
        call_command("publish_static", stdout=out)
    assert out.getvalue().startswith("nothing to publish: DIVIO_STATIC_FALLBACK is off")
    assert not build.media.exists()


def test_versions_are_ordered_by_publication_not_by_the_clock(tmp_path, monkeypatch):
    """A release container whose clock is an hour behind publishes the newest version: it
    keeps its files when pruning (it pruned them when versions were ordered by the clock);
    manifests written by earlier releases (nanosecond names) stay in order below it."""
    import time

    v1 = Build(tmp_path, "1", {"css/app.css": "body { color: red }"})
    v2 = Build(tmp_path, "2", {"css/app.css": "body { color: blue }"})
    v1.publish()
    # A manifest of an earlier release, named by its clock.
    earlier = v1.media / MANIFESTS / f"{time.time_ns():020d}-0123456789abcdef.json"
    earlier.write_bytes(manifests.dumps([]))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 3600)
    monkeypatch.setattr(time, "time_ns", lambda: int((now - 3600) * 1e9))
    out = v2.publish("--keep", "1")
    assert "kept the newest 1" in out
    assert v2.published() == set(v2.hashed.values())
    (newest,) = v2.manifests()
    assert newest.endswith(".json")
    assert manifests.loads((v2.media / MANIFESTS / newest).read_text()) == set(v2.hashed.values())


def test_only_signed_manifests_of_hashed_names_below_the_prefix_are_acted_on(tmp_path):
    """A manifest prune would act on is signed with SECRET_KEY (or a fallback) and lists at most
    MAX_NAMES hashed names that stay below divio-static/; anything else is left alone, and
    nothing it lists is deleted, however it was written."""
    from django.core import signing

    build = Build(tmp_path, "1", {"a.css": "a {}"})
    victim = build.media / "uploads" / "victim.jpg"
    victim.parent.mkdir(parents=True)
    victim.write_bytes(b"photo")
    with override_settings(**build.settings):
        signed_bad = signing.dumps(
            {"files": ["../uploads/victim.jpg", "uploads\\\\victim.0123456789ab.jpg"]},
            salt=manifests.SALT,
        )
        too_many = signing.dumps(
            {"files": [f"x/{n}.0123456789ab.css" for n in range(manifests.MAX_NAMES + 1)]},
            salt=manifests.SALT,
            compress=True,
        )
        other_key = signing.dumps({"files": ["uploads/victim.0123456789ab.jpg"]}, key="other")
    (build.media / MANIFESTS).mkdir(parents=True)
    for number, text in enumerate((signed_bad, too_many, other_key)):
        (build.media / MANIFESTS / f"{number:020d}-bad{number}.json").write_text(text)
    out = build.publish("--keep", "1")
    assert out.count("divio-static/manifests/0000") == 3, out
    assert f"at most {manifests.MAX_NAMES:,}" in out
    assert victim.read_bytes() == b"photo"
    assert len(build.manifests()) == 4  # the three left alone, and this build's
    assert manifests.loads(signed_bad) is None
    assert manifests.loads(too_many) is None
