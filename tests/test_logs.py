from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import log_handlers, logs


def test_default_is_stdout_info():
    out = logs.settings_from_env({}, {})
    config = out.values["LOGGING"]
    assert config["root"] == {"handlers": ["stdout"], "level": "INFO"}
    assert config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert config["loggers"]["django"]["level"] == "INFO"
    assert config["loggers"]["azure"] == {"level": "WARNING"}
    assert config["disable_existing_loggers"] is False
    assert out.sources["LOGGING"] == "default (stdout, INFO)"


def test_level_from_variable():
    out = logs.settings_from_env({"LOG_LEVEL": "warning"}, {})
    assert out.values["LOGGING"]["root"]["level"] == "WARNING"
    assert out.sources["LOGGING"] == "LOG_LEVEL"


def test_user_logging_is_respected():
    assert logs.settings_from_env({"LOG_LEVEL": "DEBUG"}, {"LOGGING": {"version": 1}}).values == {}


def test_bad_level():
    with pytest.raises(ImproperlyConfigured, match="^LOG_LEVEL: expected one of DEBUG, INFO"):
        logs.settings_from_env({"LOG_LEVEL": "LOUD"}, {})


def test_formatter_redacts_passwords_in_message_and_traceback():
    formatter = log_handlers.RedactingFormatter("%(message)s")
    try:
        raise ValueError("cannot reach postgres://u:hunter2@db:5432/x")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "url %s", ("redis://:pw9@h",), sys.exc_info()
        )
    text = formatter.format(record)
    assert "hunter2" not in text
    assert "pw9" not in text
    assert "ValueError" in text
    assert "postgres://u:********@db:5432/x" in text


def test_an_empty_logging_dict_in_settings_py_is_kept():
    """LOGGING = {} is a decision (Django's defaults only), not an absent setting."""
    assert "LOGGING" not in logs.settings_from_env({}, {"LOGGING": {}}).values
    assert "LOGGING" not in logs.settings_from_env({"LOG_LEVEL": "DEBUG"}, {"LOGGING": {}}).values
