from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import celery, sentry
from tests.helpers import child_env, run_tool

ROOT = Path(__file__).parent.parent


def test_broker_url_from_divio_variable_then_legacy_name():
    out = celery.settings_from_env(
        {"DEFAULT_AMQP_BROKER_URL": "amqp://g:g@rabbit:5672/", "BROKER_URL": "redis://h"}, {}
    )
    assert out.values == {"CELERY_BROKER_URL": "amqp://g:g@rabbit:5672/"}
    out = celery.settings_from_env({"BROKER_URL": "redis://h:6379/0"}, {})
    assert out.values == {"CELERY_BROKER_URL": "redis://h:6379/0"}
    assert out.sources["CELERY_BROKER_URL"] == "BROKER_URL"
    assert celery.settings_from_env({}, {}).values == {}


def test_bad_broker_url():
    with pytest.raises(
        ImproperlyConfigured, match="^DEFAULT_AMQP_BROKER_URL: expected a URL like amqp://"
    ):
        celery.settings_from_env({"DEFAULT_AMQP_BROKER_URL": "guest:guest@rabbit"}, {})


def test_sentry_off_without_dsn():
    out = sentry.settings_from_env({}, {})
    assert out.values == {}
    assert out.after == []


def test_bad_sentry_dsn():
    with pytest.raises(ImproperlyConfigured, match="^SENTRY_DSN: expected a URL like https://"):
        sentry.settings_from_env({"SENTRY_DSN": "key@sentry.io/1"}, {})


def test_sentry_initialised_by_apply_with_stage_and_release():
    pytest.importorskip("sentry_sdk", reason="sentry-sdk is an extra")
    code = """
import json, os
import divio_settings, sentry_sdk
ns = {"__file__": "/app/x/settings.py"}
divio_settings.apply(ns, environ=json.loads(os.environ["ENV_JSON"]))
client = sentry_sdk.get_client()
names = sorted(type(i).__name__ for i in client.integrations.values())
print(json.dumps({"dsn": client.options["dsn"], "environment": client.options["environment"],
                  "release": client.options["release"], "django": "DjangoIntegration" in names,
                  "setting": ns["DIVIO_SENTRY"]}))
"""
    dsn = "https://abc123@o1.ingest.sentry.io/42"
    env = {
        **child_env(),
        "ENV_JSON": json.dumps(
            {"SENTRY_DSN": dsn, "STAGE": "test", "GIT_COMMIT": "a" * 40, "SECRET_KEY": "k" * 50}
        ),
    }
    result = run_tool([sys.executable, "-c", code], env=env, cwd=ROOT)
    assert json.loads(result.stdout) == {
        "dsn": dsn,
        "environment": "test",
        "release": "a" * 40,
        "django": True,
        "setting": {
            "environment": "test",
            "release": "a" * 40,
            "installed": True,
        },
    }


def test_sentry_not_installed_is_recorded_not_imported(monkeypatch):
    monkeypatch.setattr(sentry, "installed", lambda: False)
    out = sentry.settings_from_env({"SENTRY_DSN": "https://k@o1.ingest.sentry.io/1"}, {})
    assert out.values["DIVIO_SENTRY"] == {
        "environment": "local",
        "release": None,
        "installed": False,
    }
    assert out.after == []
