"""The app's start-up work: check registration, the signing key's fingerprints, the 404 page."""

from __future__ import annotations

import logging
import sys

import pytest
from django.test import override_settings

from divio_settings import apps
from divio_settings.redaction import fingerprint


def test_server_processes_log_the_key_fingerprints_once(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "gunicorn", sys.modules[__name__])
    assert apps.server_process()
    with (
        caplog.at_level(logging.INFO, logger="divio_settings"),
        override_settings(SECRET_KEY="k" * 50, SECRET_KEY_FALLBACKS=["old-key-1", "old-key-2"]),
    ):
        apps.log_key_fingerprints()
    assert caplog.messages == [
        f"SECRET_KEY fingerprint {fingerprint('k' * 50)}; SECRET_KEY_FALLBACKS fingerprints: "
        f"{fingerprint('old-key-1')}, {fingerprint('old-key-2')}; "
        "key rotation: settings.py's fallbacks"
    ]
    assert "k" * 50 not in caplog.text


def test_the_start_up_line_says_which_step_of_a_key_rotation_a_container_is_in(capsys):
    """Step 1 (the next key accepted, not signing), step 2 (signing with it, the former key
    accepted): the line names the step, the keys only by fingerprint."""
    from django.conf import settings

    import divio_settings
    from divio_settings import security

    base = {"STAGE": "live", "DOMAIN": "example.com"}
    for extra, step, fallbacks in (
        (
            {"SECRET_KEY": "a" * 40, "SECRET_KEY_NEXT": "b" * 40},
            security.ROTATION_STEP_1,
            ["b" * 40],
        ),
        (
            {"SECRET_KEY": "b" * 40, "SECRET_KEY_FALLBACKS": "a" * 40},
            security.ROTATION_STEP_2,
            ["a" * 40],
        ),
        # SECRET_KEY_NEXT left behind after the swap: step 2, the key not listed twice.
        (
            {"SECRET_KEY": "b" * 40, "SECRET_KEY_NEXT": "b" * 40, "SECRET_KEY_FALLBACKS": "a" * 40},
            security.ROTATION_STEP_2,
            ["a" * 40],
        ),
    ):
        ns: dict[str, object] = {"INSTALLED_APPS": [], "DEBUG": False}
        divio_settings.apply(ns, environ={**base, **extra})
        assert ns["SECRET_KEY_FALLBACKS"] == fallbacks
        assert ns["DIVIO_ROTATION_STEP"] == step
        with override_settings(
            SECRET_KEY=ns["SECRET_KEY"],
            SECRET_KEY_FALLBACKS=ns["SECRET_KEY_FALLBACKS"],
            DIVIO_ROTATION_STEP=step,
            LOGGING_CONFIG=None,
        ):
            apps.log_key_fingerprints()
        line = capsys.readouterr().err
        assert f"key rotation: {step}" in line, line
        assert "a" * 40 not in line
        assert "b" * 40 not in line
    assert settings.SECRET_KEY != "a" * 40


def test_the_fingerprint_line_survives_a_project_s_own_logging(monkeypatch, capsys):
    """A settings.py LOGGING that leaves divio_settings' INFO out (#36): the line goes to
    stderr once instead of nowhere."""
    logger = logging.getLogger("divio_settings")
    monkeypatch.setattr(logger, "level", logging.WARNING)
    with override_settings(SECRET_KEY="k" * 50, SECRET_KEY_FALLBACKS=[]):
        apps.log_key_fingerprints()
    err = capsys.readouterr().err
    assert err == (
        f"divio_settings: SECRET_KEY fingerprint {fingerprint('k' * 50)}; "
        "SECRET_KEY_FALLBACKS fingerprints: none; key rotation: none\n"
    )


def test_management_commands_are_not_server_processes(monkeypatch):
    for name in apps.SERVERS:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys, "argv", ["manage.py", "dumpdata"])
    assert not apps.server_process()
    monkeypatch.setattr(sys, "argv", ["manage.py", "runserver"])
    assert apps.server_process()


def test_ready_installs_the_404_redaction_while_debug(settings):
    from django.apps import apps as registry
    from django.views import debug

    original = debug.technical_404_response
    try:
        settings.DEBUG = True
        registry.get_app_config("divio_settings").ready()
        assert getattr(debug.technical_404_response, "divio_settings_redacted", False)
        wrapped = debug.technical_404_response
        registry.get_app_config("divio_settings").ready()  # idempotent
        assert debug.technical_404_response is wrapped
    finally:
        debug.technical_404_response = original


def test_the_debug_404_page_shows_no_secret(settings, client):
    """An Http404 whose message carries a URL password: Django's DEBUG page, redacted."""
    from django.http import Http404
    from django.urls import path
    from django.views import debug

    from divio_settings.debug_page import redact_technical_404

    def view(request):
        raise Http404("no object at redis://u:Zq8NotFoundSecret@h:6379/0")

    import types

    urlconf = types.ModuleType("leaky_urls")
    urlconf.urlpatterns = [path("thing/", view)]  # type: ignore[attr-defined]
    sys.modules["leaky_urls"] = urlconf
    original = debug.technical_404_response
    try:
        settings.DEBUG = True
        settings.ROOT_URLCONF = "leaky_urls"
        redact_technical_404()
        response = client.get("/thing/")
        assert response.status_code == 404
        assert b"Zq8NotFoundSecret" not in response.content
        assert b"redis://u:********@h:6379/0" in response.content
    finally:
        debug.technical_404_response = original
        del sys.modules["leaky_urls"]


def test_ready_registers_the_checks_unless_switched_off(settings, monkeypatch):
    from django.apps import apps as registry
    from django.core import checks

    from divio_settings import apps

    calls: list[object] = []
    monkeypatch.setattr(checks, "register", lambda check, *tags: calls.append(check))
    registry.get_app_config("divio_settings").ready()
    assert calls == [apps.run_checks, apps.run_database_checks]
    settings.DIVIO_SETTINGS_CHECKS = False  # apply(checks=False) with the app kept for runserver
    registry.get_app_config("divio_settings").ready()
    assert calls == [apps.run_checks, apps.run_database_checks]


def test_a_server_process_does_not_import_the_checks():
    """django.setup() registers the checks without importing their modules: they are imported
    when checks run (check, migrate), not in every worker (start-up, #35)."""
    import subprocess
    import sys

    from tests.helpers import ROOT, child_env

    code = (
        "import django, sys; from django.conf import settings\n"
        "import divio_settings\n"
        "ns = {'INSTALLED_APPS': ['django.contrib.contenttypes'], '__file__': '/app/x/settings.py'}\n"
        "divio_settings.apply(ns, environ={})\n"
        "settings.configure(**{k: v for k, v in ns.items() if k.isupper()}); django.setup()\n"
        "print(sorted(m for m in ('divio_settings.checks', 'divio_settings.service_checks', "
        "'divio_settings.health', 'divio_settings.preflight') if m in sys.modules))\n"
        "from django.core.checks import run_checks; run_checks()\n"
        "print('divio_settings.checks' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), cwd=ROOT, capture_output=True, text=True
    )
    assert result.stdout.splitlines() == ["[]", "True"], result.stderr


@pytest.mark.e2e  # migrate in a child process
def test_migrate_keeps_the_site_domain_equal_to_domain(tmp_path):
    """django CMS and sitemaps build absolute URLs from the current Site: migrate (Divio's
    release command) sets it to DOMAIN, as aldryn-django did, and again when DOMAIN changes."""
    from tests.helpers import LIVE_KEY, django_process

    body = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.sites.models import Site
print("SITE", Site.objects.get(pk=1).domain, Site.objects.count())
"""
    own = {
        "INSTALLED_APPS": [
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sites",
        ],
        "SITE_ID": 1,
    }
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    for domain in ("www.example.com", "new.example.org"):
        environ = {"DOMAIN": domain, "SECRET_KEY": LIVE_KEY, "DATABASE_URL": database}
        result = django_process(environ, body, own)
        line = next(line for line in result.stdout.splitlines() if line.startswith("SITE"))
        assert line.split() == ["SITE", domain, "1"]
    local = django_process({"DATABASE_URL": database}, body, own)  # no DOMAIN: left alone
    assert "SITE new.example.org 1" in local.stdout


def test_runserver_is_whitenoise_s_only_where_whitenoise_serves(settings):
    """The app's runserver: WhiteNoise's runserver_nostatic with WhiteNoise in MIDDLEWARE,
    staticfiles' own without it, Django's plain one without staticfiles."""
    import importlib

    from django.apps import apps as registry

    module = "divio_settings.management.commands.runserver"
    own_middleware = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
    command = importlib.reload(importlib.import_module(module)).Command
    assert command.__module__ == "whitenoise.runserver_nostatic.management.commands.runserver"
    settings.MIDDLEWARE = []
    command = importlib.reload(importlib.import_module(module)).Command
    assert command.__module__ == "django.contrib.staticfiles.management.commands.runserver"
    original = registry.is_installed
    try:
        registry.is_installed = lambda name: name != "django.contrib.staticfiles"  # type: ignore[method-assign,assignment]
        command = importlib.reload(importlib.import_module(module)).Command
    finally:
        registry.is_installed = original  # type: ignore[method-assign]
    assert command.__module__ == "django.core.management.commands.runserver"
    settings.MIDDLEWARE = own_middleware
    importlib.reload(importlib.import_module(module))  # as the test settings have it
