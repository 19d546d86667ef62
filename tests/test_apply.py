from __future__ import annotations

import copy
import json
import os
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

import divio_settings
from divio_settings.env import VariableError
from divio_settings.redaction import REDACTED, fingerprint
from tests.helpers import LIVE_ENV, LIVE_KEY, LOCAL_ENV, STARTPROJECT, child_env, run_tool


def startproject():
    return copy.deepcopy(dict(STARTPROJECT))


def test_no_environment_newcomer_laptop():
    ns = startproject()
    divio_settings.apply(ns, environ={})
    assert ns["SECRET_KEY"] == "django-insecure-abc"
    assert ns["DEBUG"] is True
    assert ns["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert ns["DATABASES"] == STARTPROJECT["DATABASES"]
    assert ns["SECURE_SSL_REDIRECT"] is False
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in ns["MIDDLEWARE"]
    apps = ns["INSTALLED_APPS"]
    assert apps.index("divio_settings") + 1 == apps.index("django.contrib.staticfiles")
    assert apps.count("divio_settings") == 1


def test_app_last_without_staticfiles_and_checks_switch_kept():
    ns = {"INSTALLED_APPS": ["django.contrib.auth"], "__file__": "/app/x/settings.py"}
    divio_settings.apply(ns, environ={})
    assert ns["INSTALLED_APPS"] == ["django.contrib.auth", "divio_settings"]
    assert "DIVIO_SETTINGS_CHECKS" not in ns
    off = startproject()
    divio_settings.apply(off, environ={}, checks=False)
    assert "divio_settings" in off["INSTALLED_APPS"]  # for runserver
    assert off["DIVIO_SETTINGS_CHECKS"] is False
    plain = startproject()
    divio_settings.apply(plain, environ={}, checks=False, static=False)
    assert "divio_settings" not in plain["INSTALLED_APPS"]
    assert "DIVIO_SETTINGS_CHECKS" not in plain


def test_guide_env_local():
    ns = startproject()
    divio_settings.apply(ns, environ=LOCAL_ENV)
    assert ns["DEBUG"] is True
    assert ns["SECURE_SSL_REDIRECT"] is False
    assert ns["DATABASES"]["default"]["HOST"] == "database_default"
    assert ns["MEDIA_URL"] == "/media/"
    assert ns["MEDIA_ROOT"] == "/data/media/"
    assert ns["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]


def test_live_environment():
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV)
    assert ns["SECRET_KEY"] == LIVE_KEY
    assert ns["DEBUG"] is False
    assert ns["MIDDLEWARE"][:4] == [
        "divio_settings.middleware.HealthMiddleware",
        "divio_settings.middleware.DomainRedirectMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert ns["STORAGES"]["default"]["BACKEND"] == "divio_settings.storage.backend.DSNStorage"
    assert ns["STORAGES"]["staticfiles"]["BACKEND"] == (
        "divio_settings.staticstorage.CompressedManifestStaticFilesStorage"
    )


def test_apply_twice_changes_nothing():
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV)
    once = copy.deepcopy(ns)
    divio_settings.apply(ns, environ=LIVE_ENV)
    assert ns == once


def test_apply_again_with_another_environment_starts_from_settings_py():
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV)
    divio_settings.apply(ns, environ={})
    fresh = startproject()
    divio_settings.apply(fresh, environ={})
    del ns[divio_settings.ORIGINAL], fresh[divio_settings.ORIGINAL]
    assert ns == fresh


def test_error_leaves_namespace_untouched_and_lists_every_bad_variable():
    ns = startproject()
    before = copy.deepcopy(ns)
    bad = {**LIVE_ENV, "DJANGO_DEBUG": "maybe", "DATABASE_URL": "postgres://u:hunter2@h:x/db"}
    with pytest.raises(ImproperlyConfigured) as error:
        divio_settings.apply(ns, environ=bad)
    assert ns == before
    lines = str(error.value).splitlines()
    assert [line.split(":")[0] for line in lines] == ["DJANGO_DEBUG", "DATABASE_URL"]
    assert "hunter2" not in str(error.value)
    # The error carries its variables as data (the CLI and a caller read them, not the wording).
    assert isinstance(error.value, VariableError)
    assert error.value.variables == {"DJANGO_DEBUG", "DATABASE_URL"}
    assert [line for _, line in error.value.problems] == lines


def test_error_after_a_good_apply_keeps_the_good_state():
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV)
    good = copy.deepcopy(ns)
    with pytest.raises(ImproperlyConfigured):
        divio_settings.apply(ns, environ={**LIVE_ENV, "DOMAIN_REDIRECTS": "*"})
    assert ns == good


@pytest.mark.parametrize(
    ("switch", "settings"),
    [
        ("security", ["SECRET_KEY", "SECURE_SSL_REDIRECT"]),
        ("hosts", ["ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DIVIO_DOMAIN"]),
        ("databases", ["DATABASES"]),
        ("storage", ["MEDIA_URL", "DEFAULT_STORAGE_DSN"]),
        ("static", ["STATIC_ROOT"]),
    ],
)
def test_each_group_can_be_switched_off(switch, settings):
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV, **{switch: False})
    for name in settings:
        assert ns.get(name) == STARTPROJECT.get(name)


@pytest.mark.parametrize("switch", ["security", "hosts", "databases", "static", "storage"])
def test_the_environment_is_known_whatever_group_is_switched_off(switch):
    """The cloud-only checks (W005-W007, E005) read DIVIO_ENVIRONMENT and DIVIO_STAGE."""
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV, **{switch: False})
    assert (ns["DIVIO_ENVIRONMENT"], ns["DIVIO_STAGE"]) == ("cloud", "live")
    local = startproject()
    divio_settings.apply(local, environ={}, **{switch: False})
    assert (local["DIVIO_ENVIRONMENT"], local["DIVIO_STAGE"]) == ("local", "local")


def test_every_bad_variable_gets_its_own_line():
    """Five bad variables, two of them in one group: five lines, in the groups' order."""
    bad = {
        **LIVE_ENV,
        "DJANGO_DEBUG": "maybe",
        "SECURE_HSTS_SECONDS": "soon",
        "DATABASE_CONN_MAX_AGE": "-1",
        "DATABASE_URL": "nope",
        "CACHE_URL": "nope",
    }
    with pytest.raises(ImproperlyConfigured) as error:
        divio_settings.apply(startproject(), environ=bad)
    names = [line.split(":")[0] for line in str(error.value).splitlines()]
    assert sorted(names) == sorted(
        [
            "DJANGO_DEBUG",
            "SECURE_HSTS_SECONDS",
            "DATABASE_CONN_MAX_AGE",
            "DATABASE_URL",
            "CACHE_URL",
        ]
    )


def test_switching_off_checks_keeps_installed_apps():
    ns = startproject()
    divio_settings.apply(ns, environ={}, checks=False, static=False)
    assert ns["INSTALLED_APPS"] == STARTPROJECT["INSTALLED_APPS"]


def test_report_lists_sources_and_redacts_every_secret():
    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV)
    report = {row["setting"]: row for row in ns["DIVIO_SETTINGS_REPORT"]}
    assert report["SECRET_KEY"] == {
        "setting": "SECRET_KEY",
        "value": f"{REDACTED} ({fingerprint(LIVE_KEY)})",
        "source": "SECRET_KEY",
    }
    assert report["DEBUG"]["source"] == "default in the cloud (DJANGO_DEBUG unset)"
    # Masked without a fingerprint: a password's fingerprint is a way to check guesses offline.
    assert report["DATABASES"]["value"]["default"]["PASSWORD"] == REDACTED
    assert report["MIDDLEWARE"]["source"] == (
        "DOMAIN_REDIRECTS; default (health probes); default (WhiteNoise)"
    )
    text = json.dumps(list(ns["DIVIO_SETTINGS_REPORT"]))  # a sequence, built on first read
    for secret in (LIVE_KEY, "OIut5vYvWjI3UQzc_yKYAl5-aw0F", "t62LdAvROXgFR14"):
        assert secret not in text


def test_apply_reads_os_environ_by_default(tmp_path):
    """The real process environment, in a subprocess with an explicit env."""
    code = (
        "import divio_settings; ns = {'__file__': '/app/x/settings.py'}; divio_settings.apply(ns); "
        "print(ns['ALLOWED_HOSTS'], ns['DEBUG'])"
    )
    env = {**child_env(), "DOMAIN": "site.example.org", "SECRET_KEY": LIVE_KEY}
    result = run_tool(
        [sys.executable, "-c", code], env=env, cwd=os.path.dirname(os.path.dirname(__file__))
    )
    assert result.stdout.strip() == "['site.example.org'] False"


def test_bookkeeping_is_plain_data_that_survives_copy_and_pickle():
    import pickle

    ns = startproject()
    divio_settings.apply(ns, environ=LIVE_ENV)
    original = ns[divio_settings.ORIGINAL]
    # settings.py's own values of what apply() wrote, and the names it did not define.
    assert original["values"]["DEBUG"] is True
    assert original["values"]["ALLOWED_HOSTS"] == []
    assert "SECURE_HSTS_SECONDS" in original["absent"]
    for copied in (copy.deepcopy(ns), pickle.loads(pickle.dumps(ns))):
        divio_settings.apply(copied, environ={})
        fresh = startproject()
        divio_settings.apply(fresh, environ={})
        skip = {"SECRET_KEY", divio_settings.ORIGINAL, divio_settings.REPORT}
        assert {k: v for k, v in copied.items() if k not in skip} == {
            k: v for k, v in fresh.items() if k not in skip
        }


def test_an_unknown_switch_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'media'"):
        divio_settings.apply(startproject(), environ={}, media=False)  # type: ignore[call-arg]


def test_groups_see_earlier_decisions_over_settings_py_like_a_chainmap():
    """Each group reads the earlier groups' settings over settings.py's own (groups.Layered,
    the lookups of a two-layer ChainMap without its per-layer generator)."""
    from collections import ChainMap

    from divio_settings.groups import Layered

    top = {"DEBUG": False, "ALLOWED_HOSTS": ["example.com"]}
    base = {"DEBUG": True, "SECRET_KEY": "settings-py", "ALLOWED_HOSTS": []}
    layered, chained = Layered(top, base), ChainMap(top, base)
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "MISSING"):
        assert (key in layered) is (key in chained)
        assert layered.get(key, "default") == chained.get(key, "default")
    assert layered["DEBUG"] is False
    assert layered["SECRET_KEY"] == "settings-py"
    with pytest.raises(KeyError):
        layered["MISSING"]
    assert list(layered) == list(chained)
    assert len(layered) == len(chained) == 3
    assert dict(layered.items()) == dict(chained)
