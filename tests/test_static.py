from __future__ import annotations

import json

from divio_settings import static
from divio_settings.hosts import HEALTH_MIDDLEWARE, REDIRECT_MIDDLEWARE
from tests.helpers import STARTPROJECT

WN = static.WHITENOISE_MIDDLEWARE
SEC = static.SECURITY_MIDDLEWARE
MISS = static.MISS_MIDDLEWARE


def test_startproject_gets_whitenoise_after_security_and_our_runserver():
    values = static.settings_from_env({}, STARTPROJECT).values
    assert values["MIDDLEWARE"][:4] == [
        SEC,
        WN,
        MISS,
        "django.contrib.sessions.middleware.SessionMiddleware",
    ]
    apps = values["INSTALLED_APPS"]
    assert apps.index("divio_settings") + 1 == apps.index("django.contrib.staticfiles")
    assert "whitenoise.runserver_nostatic" not in apps
    assert values["STORAGES"] == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "divio_settings.staticstorage.CompressedManifestStaticFilesStorage"
        },
    }
    assert values["STATIC_ROOT"] == "/app/staticfiles"
    assert "STATIC_URL" not in values  # startproject's 'static/' is kept


def test_whitenoise_moved_and_deduplicated():
    assert static.with_whitenoise([WN, "a", SEC, WN]) == ["a", SEC, WN, MISS]
    assert static.with_whitenoise(("a", "b")) == [WN, MISS, "a", "b"]  # type: ignore[arg-type]
    assert static.with_whitenoise([REDIRECT_MIDDLEWARE, "a"]) == [
        REDIRECT_MIDDLEWARE,
        WN,
        MISS,
        "a",
    ]
    # After all of our own first ones (health probes, domain redirect) without a SecurityMiddleware.
    assert static.with_whitenoise([HEALTH_MIDDLEWARE, REDIRECT_MIDDLEWARE, "a"]) == [
        HEALTH_MIDDLEWARE,
        REDIRECT_MIDDLEWARE,
        WN,
        MISS,
        "a",
    ]
    assert static.with_whitenoise([REDIRECT_MIDDLEWARE, SEC]) == [
        REDIRECT_MIDDLEWARE,
        SEC,
        WN,
        MISS,
    ]
    # The static-miss middleware follows WhiteNoise wherever settings.py had put it.
    assert static.with_whitenoise([MISS, SEC, WN]) == [SEC, WN, MISS]


def test_nothing_changes_when_already_right():
    current = {
        "MIDDLEWARE": [SEC, WN, MISS],
        "INSTALLED_APPS": ["whitenoise.runserver_nostatic", "django.contrib.staticfiles"],
        "STATIC_URL": "/s/",
        "STATIC_ROOT": "/r",
        "STORAGES": {"default": {"BACKEND": "x"}, "staticfiles": {"BACKEND": "mine"}},
    }
    assert static.settings_from_env({}, current).values == {}


def test_our_app_moves_before_staticfiles_unless_whitenoise_app_is_listed():
    assert static.with_runserver(["a"]) == ["a"]
    assert static.with_runserver(["divio_settings", "a"]) == ["divio_settings", "a"]
    staticfiles = "django.contrib.staticfiles"
    assert static.with_runserver([staticfiles, "x", "divio_settings"]) == [
        "divio_settings",
        staticfiles,
        "x",
    ]
    own = ["whitenoise.runserver_nostatic", staticfiles, "divio_settings"]
    assert static.with_runserver(own) == own


def test_user_storages_are_preserved():
    storages = {"staticfiles": {"BACKEND": "mine"}, "thumbs": {"BACKEND": "t"}}
    values = static.settings_from_env({}, {"STORAGES": storages}).values
    assert values["STORAGES"] == {
        **storages,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    assert "default" not in storages


def test_a_reference_to_a_missing_file_does_not_fail_the_build(tmp_path, caplog):
    """Under the storage apply() chooses (#36): collectstatic passes where Django's plain
    storage passed; the missing reference stays as written and one line names it, the others
    are hashed as WhiteNoise hashes them."""
    import logging

    from django.core.management import call_command
    from django.test import override_settings

    source = tmp_path / "assets"
    (source / "css").mkdir(parents=True)
    (source / "css" / "logo.png").write_bytes(b"\x89PNG")
    (source / "css" / "site.css").write_text(
        "body { background: url(logo.png); }\n/*# sourceMappingURL=site.css.map */\n"
    )
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": static.WHITENOISE_STORAGE},
    }
    with (
        override_settings(
            STATIC_ROOT=str(tmp_path / "collected"),
            STATICFILES_DIRS=[str(source)],
            STORAGES=storages,
            INSTALLED_APPS=["django.contrib.staticfiles"],
        ),
        caplog.at_level(logging.WARNING, logger="divio_settings"),
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
    assert caplog.messages == [
        "static files: css/site.css references site.css.map, which does not exist: left as written"
    ]
    collected = json.loads((tmp_path / "collected" / "staticfiles.json").read_text())["paths"]
    css = (tmp_path / "collected" / collected["css/site.css"]).read_text()
    assert f'url("{collected["css/logo.png"].split("/")[-1]}")' in css
    assert "/*# sourceMappingURL=site.css.map */" in css


def test_committed_collected_files_keep_their_manifest_entries(tmp_path, caplog):
    """A project that commits its collected files and their staticfiles.json (#36): files that
    no source holds any more keep their entries, so the pages that name them still render."""
    import logging

    from django.core.management import call_command
    from django.test import override_settings

    source = tmp_path / "assets"
    source.mkdir()
    (source / "site.css").write_text("body { color: red; }\n")
    collected = tmp_path / "collected"
    (collected / "legacy").mkdir(parents=True)
    (collected / "legacy" / "app.0123456789ab.js").write_text("run();\n")
    (collected / "staticfiles.json").write_text(
        json.dumps({"paths": {"legacy/app.js": "legacy/app.0123456789ab.js"}, "version": "1.1"})
    )
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": static.WHITENOISE_STORAGE},
    }
    with (
        override_settings(
            STATIC_ROOT=str(collected),
            STATICFILES_DIRS=[str(source)],
            STORAGES=storages,
            INSTALLED_APPS=["django.contrib.staticfiles"],
        ),
        caplog.at_level(logging.WARNING, logger="divio_settings"),
    ):
        call_command("collectstatic", "--noinput", verbosity=0)
        from django.utils.module_loading import import_string

        served = import_string(static.WHITENOISE_STORAGE)()  # a new process's storage
        assert served.url("legacy/app.js").endswith("legacy/app.0123456789ab.js")
    paths = json.loads((collected / "staticfiles.json").read_text())["paths"]
    assert set(paths) == {"legacy/app.js", "site.css"}
    assert caplog.messages == [
        "static files: 1 entries of the existing staticfiles.json kept, their files are in "
        "STATIC_ROOT but collected from no source: legacy/app.js"
    ]
