from __future__ import annotations

import pytest

from divio_settings.redaction import REDACTED, Scrubber, fingerprint, redact
from divio_settings.report import entries


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
        {
            "setting": "SECRET_KEY",
            "value": f"{REDACTED} ({fingerprint('k')})",
            "source": "SECRET_KEY",
        },
    ]


def test_fingerprints_compare_secrets_without_showing_them():
    key = "AX1Rxxxxxxwdm1klEQOPukngZFO58vbbpeqp5l0ogdRspdKZTuutJ5V2ov"
    assert fingerprint(key) == fingerprint(key)
    assert fingerprint(key) != fingerprint(key[:-1] + "w")
    assert len(fingerprint(key)) == 12
    assert int(fingerprint(key), 16) >= 0  # hex
    assert fingerprint(key) not in key
    # A list of keys (SECRET_KEY_FALLBACKS) shows one fingerprint per key.
    rows = entries({"SECRET_KEY_FALLBACKS": ["old-1", "old-2"]}, {"SECRET_KEY_FALLBACKS": "x"})
    assert rows[0]["value"] == [
        f"{REDACTED} ({fingerprint('old-1')})",
        f"{REDACTED} ({fingerprint('old-2')})",
    ]


def test_secrets_of_a_url_are_its_password_and_credential_arguments():
    from divio_settings.redaction import secrets_of

    assert secrets_of("redis://h:6379/0?password=Pa%2Bss1234&db=1") == {
        "Pa%2Bss1234",
        "Pa+ss1234",
    }
    assert secrets_of("s3://KEY:SE%2BCRET9@b.s3.amazonaws.com/") == {"SE%2BCRET9", "SE+CRET9"}
    assert secrets_of("k1-abcdefgh, k2-abcdefgh") == {
        "k1-abcdefgh, k2-abcdefgh",
        "k1-abcdefgh",
        "k2-abcdefgh",
    }


def test_values_of_secret_variables_are_scrubbed_from_the_report_wherever_they_appear():
    """A password outside user:pass@ (redis' ?password=) is not caught by shape; the registry
    says CACHE_URL is secret, so its value is scrubbed as a value."""
    import divio_settings

    ns = {"__file__": "/app/x/settings.py"}
    divio_settings.apply(ns, environ={"CACHE_URL": "redis://h:6379/0?password=Sw0rdfish99"})
    text = str(ns["DIVIO_SETTINGS_REPORT"])
    assert "Sw0rdfish99" not in text
    assert f"password={REDACTED}" in text
    # And in anything else redact() is given (log lines, the debug page), for this process.
    assert redact("connect failed: auth Sw0rdfish99 refused") == (
        f"connect failed: auth {REDACTED} refused"
    )
    divio_settings.apply(ns, environ={})
    assert redact("Sw0rdfish99") == "Sw0rdfish99"  # a new environment, new secrets


def test_short_secret_values_are_not_scrubbed_by_value():
    from divio_settings.redaction import MIN_SECRET_LENGTH, Scrubber

    scrub = Scrubber(["abc", "x" * MIN_SECRET_LENGTH])
    assert scrub("abc abcdef " + "x" * MIN_SECRET_LENGTH) == f"abc abcdef {REDACTED}"


def test_the_report_shows_databases_as_apply_set_them():
    """Django fills each DATABASES entry with its defaults in place when it first connects; the
    report (built when first read) and divio_settings.changes() show what apply() set."""
    import copy

    import divio_settings
    from tests.helpers import STARTPROJECT

    namespace = copy.deepcopy(dict(STARTPROJECT))
    divio_settings.apply(namespace, environ={"DATABASE_URL": "postgres://u:p@db:5432/x"})
    namespace["DATABASES"]["default"].setdefault("AUTOCOMMIT", True)  # what Django does
    namespace["DATABASES"]["default"].setdefault("TEST", {})["NAME"] = None
    row = next(r for r in namespace["DIVIO_SETTINGS_REPORT"] if r["setting"] == "DATABASES")
    assert "AUTOCOMMIT" not in row["value"]["default"]
    assert "TEST" not in row["value"]["default"]
    changed = {r["setting"]: r for r in divio_settings.changes(namespace)["changed"]}
    assert "AUTOCOMMIT" not in changed["DATABASES"]["after"]["default"]


def test_a_report_keeps_the_secrets_of_its_own_apply():
    """Rows are built when first read: a later apply() in the process (the command loads more
    than one settings module) must not change what an earlier report masks."""
    from divio_settings import redaction
    from divio_settings.report import Report

    saved = redaction.process_scrubber()
    try:
        secret = "s3cret-value-of-the-first-environment"
        first = Report({"GREETING": f"hello {secret}"}, {"GREETING": "X"}, None, Scrubber([secret]))
        redaction.remember(["another-environment-s-secret"])
        assert secret not in repr(list(first))
        assert first[0]["value"] == "hello ********"
    finally:
        redaction.remember(saved.raw)


def test_a_short_secret_is_masked_as_a_word_never_inside_one():
    """An S3 secret that is an ordinary word does not mangle unrelated text (the start-up line
    'SECRET_KEY fingerprint …'), and is still masked where it stands alone, quoted or escaped;
    a long secret is masked wherever it occurs."""
    from divio_settings.redaction import REDACTED, Scrubber

    scrub = Scrubber(["SECRET", "Zq8mLongSecret0001"])
    line = "divio_settings: SECRET_KEY fingerprint 1a2b3c; SECRETS, MYSECRET"
    assert scrub(line) == line
    for shown, masked in (
        ("secret=SECRET&x", f"secret={REDACTED}&x"),
        ("s3://K:SECRET@bucket/", f"s3://K:{REDACTED}@bucket/"),
        ("u%3ASECRET%40h", f"u%3A{REDACTED}%40h"),
        ("'a\\nSECRET'", f"'a\\n{REDACTED}'"),
        ("SECRET", REDACTED),
        ("xZq8mLongSecret0001y", f"x{REDACTED}y"),
    ):
        assert scrub(shown) == masked


def test_every_spelling_of_a_secret_is_scrubbed():
    """The spellings a secret leaves in: HTML-escaped (the debug page), repr- and JSON-escaped
    (logs, Sentry), percent-encoded in either case, base64 as HTTP Basic and SMTP AUTH send it."""
    import base64
    import html
    import json
    from urllib.parse import quote

    from divio_settings.redaction import REDACTED, Scrubber

    password = "p@ss&<w\"o'rd\\é +%"
    scrub = Scrubber([f"smtp://mailer:{quote(password, safe='')}@mail.example.com:587"])
    forms = {
        "raw": password,
        "html": html.escape(password),
        "html (markupsafe)": html.escape(password)
        .replace("&#x27;", "&#39;")
        .replace("&quot;", "&#34;"),
        "repr": repr(password)[1:-1],
        "repr in html": html.escape(repr(password)[1:-1]),
        "json": json.dumps(password)[1:-1],
        "json in html": html.escape(json.dumps(password)[1:-1]),
        "quoted": quote(password, safe=""),
        "quoted, lower case": quote(password, safe="").lower(),
        "basic": base64.b64encode(f"mailer:{password}".encode()).decode(),
        "auth plain": base64.b64encode(f"\0mailer\0{password}".encode()).decode(),
        "auth login": base64.b64encode(password.encode()).decode(),
    }
    for name, form in forms.items():
        shown = scrub(f"before [{form}] after")
        assert shown == f"before [{REDACTED}] after", name
