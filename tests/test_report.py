from __future__ import annotations

import pytest

from divio_settings.report import REDACTED, entries, redact


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://user:pw@host/db", f"postgres://user:{REDACTED}@host/db"),
        ("redis://:pw@host:6379/0", f"redis://:{REDACTED}@host:6379/0"),
        ("https://example.com/static/", "https://example.com/static/"),
        (
            "s3://KEY:SE%2BCRET@bucket.s3.amazonaws.com/",
            f"s3://KEY:{REDACTED}@bucket.s3.amazonaws.com/",
        ),
        ("no url", "no url"),
    ],
)
def test_redact_removes_url_passwords(value, expected):
    assert redact(value) == expected


def test_redact_masks_secret_names_recursively():
    value = {
        "default": {"PASSWORD": "pw", "HOST": "h", "OPTIONS": {"dsn": "s3://k:s@b/"}},
        "list": ["amqp://u:pw@h//"],
        "tuple": ("x",),
    }
    assert redact(value) == {
        "default": {"PASSWORD": REDACTED, "HOST": "h", "OPTIONS": {"dsn": REDACTED}},
        "list": [f"amqp://u:{REDACTED}@h//"],
        "tuple": ("x",),
    }
    assert redact("key", "SECRET_KEY") == REDACTED
    assert redact("", "SECRET_KEY") == ""


def test_entries_are_sorted_and_redacted():
    rows = entries(
        {"SECRET_KEY": "k", "DEBUG": False}, {"SECRET_KEY": "SECRET_KEY", "DEBUG": "DJANGO_DEBUG"}
    )
    assert rows == [
        {"setting": "DEBUG", "value": False, "source": "DJANGO_DEBUG"},
        {"setting": "SECRET_KEY", "value": REDACTED, "source": "SECRET_KEY"},
    ]
