"""DEFAULT_AMQP_BROKER_URL (and the legacy BROKER_URL) -> the Celery broker settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import celery


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
