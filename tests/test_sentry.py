"""SENTRY_DSN and its rates: the SDK started by apply(), events without secrets."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from divio_settings import sentry
from tests.helpers import SentrySink, child_env, run_tool

ROOT = Path(__file__).parent.parent


def test_sentry_off_without_dsn():
    out = sentry.settings_from_env({}, {})
    assert out.values == {}
    assert out.after == []


def test_bad_sentry_dsn():
    with pytest.raises(ImproperlyConfigured, match="^SENTRY_DSN: expected a URL like https://"):
        sentry.settings_from_env({"SENTRY_DSN": "key@sentry.io/1"}, {})


@pytest.mark.e2e  # a child process with the SDK and a sink on a real port
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


@pytest.mark.e2e  # a child process with the SDK and a sink on a real port
def test_sentry_events_carry_no_secret():
    """An error whose message holds the broker's password, with the database password, the
    storage secret and the signing key in frame locals, logged and raised: the envelopes that
    reach the (local) Sentry hold none of them."""
    pytest.importorskip("sentry_sdk", reason="sentry-sdk is an extra")
    sink = SentrySink()
    markers = {
        "SECRET_KEY": "Zq8keyMarker" + "k" * 40,
        "DATABASE_URL": "postgres://u:Zq8dbMarker7@db.example.com:5432/x",
        "DEFAULT_STORAGE_DSN": "s3://AK:Zq8s3Marker9@b.s3.amazonaws.com/?domain=m.example.com",
        "DEFAULT_AMQP_BROKER_URL": "amqp://guest:Zq8brokerMarker@rabbit:5672/",
    }
    code = """
import json, logging, os, sys
import divio_settings, sentry_sdk
from urllib.parse import urlsplit
ns = {"__file__": "/app/x/settings.py"}
env = json.loads(os.environ["ENV_JSON"])
divio_settings.apply(ns, environ=env)
logging.basicConfig()
def connect(conninfo, parts, key):
    raise RuntimeError("cannot reach " + env["DEFAULT_AMQP_BROKER_URL"])
try:
    connect("host=db.example.com password=" + urlsplit(env["DATABASE_URL"]).password,
            urlsplit(env["DEFAULT_STORAGE_DSN"]), env["SECRET_KEY"])
except RuntimeError:
    logging.getLogger("app").exception("failed with %s", env["DEFAULT_AMQP_BROKER_URL"])
    sentry_sdk.capture_exception()
sentry_sdk.flush(5)
"""
    env = {
        **child_env(),
        "ENV_JSON": json.dumps(
            {**markers, "SENTRY_DSN": f"http://publickey@127.0.0.1:{sink.port}/1", "STAGE": "live"}
        ),
    }
    try:
        run_tool([sys.executable, "-c", code], env=env, cwd=ROOT)
    finally:
        sink.close()
    assert sink.bodies, "no envelope reached the sink"
    text = b"\n".join(sink.bodies).decode("utf-8", "replace")
    assert "RuntimeError" in text
    assert "conninfo" in text  # frame locals were sent, scrubbed
    for marker in ("Zq8keyMarker", "Zq8dbMarker7", "Zq8s3Marker9", "Zq8brokerMarker"):
        assert marker not in text, marker


@pytest.mark.e2e  # a child process with the SDK and a sink on a real port
def test_sample_rates_and_a_project_s_own_sentry():
    """SENTRY_TRACES_SAMPLE_RATE / SENTRY_PROFILES_SAMPLE_RATE reach the client apply() starts;
    a client settings.py started itself before apply() is left as it is (its environment and
    rates), and the changes report says so."""
    pytest.importorskip("sentry_sdk", reason="sentry-sdk is an extra")
    code = """
import json, os
import divio_settings, sentry_sdk
env = json.loads(os.environ["ENV_JSON"])
if os.environ.get("OWN"):
    sentry_sdk.init(dsn="https://own@o1.ingest.sentry.io/7", environment="production",
                    traces_sample_rate=0.25)
ns = {"__file__": "/app/x/settings.py"}
divio_settings.apply(ns, environ=env)
options = sentry_sdk.get_client().options
print(json.dumps({"dsn": options["dsn"], "environment": options["environment"],
                  "traces": options["traces_sample_rate"],
                  # sentry-sdk 3 calls it profile_session_sample_rate
                  "profiles": options.get("profiles_sample_rate", options.get("profile_session_sample_rate")),
                  "pii": options.get("send_default_pii", (options.get("data_collection") or {}).get("user_info")),
                  "kept": divio_settings.changes(ns)["kept"]}))
"""
    environ = {
        "SENTRY_DSN": "https://abc@o1.ingest.sentry.io/42",
        "STAGE": "live",
        "SECRET_KEY": "k" * 50,
        "SENTRY_TRACES_SAMPLE_RATE": "0.1",
        "SENTRY_PROFILES_SAMPLE_RATE": "0.5",
    }
    env = {**child_env(), "ENV_JSON": json.dumps(environ)}
    ours = json.loads(run_tool([sys.executable, "-c", code], env=env, cwd=ROOT).stdout)
    assert (ours["environment"], ours["traces"], ours["profiles"]) == ("live", 0.1, 0.5)
    assert ours["pii"] is False  # no user, cookies or bodies, in either SDK's terms
    assert ours["kept"] == []
    own = json.loads(
        run_tool([sys.executable, "-c", code], env={**env, "OWN": "1"}, cwd=ROOT).stdout
    )
    assert (own["dsn"], own["environment"], own["traces"]) == (
        "https://own@o1.ingest.sentry.io/7",
        "production",
        0.25,
    )
    assert own["kept"][0]["setting"] == "DIVIO_SENTRY"
    assert "settings.py started Sentry itself" in own["kept"][0]["reason"]


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "ten", "nan", "½"])
def test_bad_sample_rate_names_the_variable(rate):
    with pytest.raises(ImproperlyConfigured, match="^SENTRY_TRACES_SAMPLE_RATE: expected a number"):
        sentry.settings_from_env(
            {"SENTRY_DSN": "https://k@o1.ingest.sentry.io/1", "SENTRY_TRACES_SAMPLE_RATE": rate}, {}
        )


@pytest.mark.e2e  # a child process with the SDK and a sink on a real port
def test_the_traces_rate_decides_what_reaches_sentry():
    """Twenty transactions with SENTRY_TRACES_SAMPLE_RATE 1, 0 and unset: all of them, none,
    none (tracing stays off unless asked) reach a local Sentry."""
    pytest.importorskip("sentry_sdk", reason="sentry-sdk is an extra")
    code = """
import json, os
import divio_settings, sentry_sdk
divio_settings.apply({"__file__": "/app/x/settings.py"}, environ=json.loads(os.environ["ENV_JSON"]))
# sentry-sdk 2: transactions; 3: spans (a segment span per job)
start = getattr(sentry_sdk, "start_transaction", None) or sentry_sdk.start_span
for number in range(20):
    with start(name=f"job {number}"):
        pass
sentry_sdk.flush(5)
"""
    received = {}
    for rate in ("1", "0", None):
        sink = SentrySink()
        environ = {"SENTRY_DSN": f"http://publickey@127.0.0.1:{sink.port}/1", "STAGE": "live"}
        environ |= {"SECRET_KEY": "k" * 50} | ({"SENTRY_TRACES_SAMPLE_RATE": rate} if rate else {})
        try:
            run_tool(
                [sys.executable, "-c", code],
                env={**child_env(), "ENV_JSON": json.dumps(environ)},
                cwd=ROOT,
            )
        finally:
            sink.close()
        text = b"\n".join(sink.bodies).decode("utf-8", "replace")
        # The transactions' (2.x) or segment spans' (3.x) names.
        received[rate] = len(set(re.findall(r'"(?:transaction|name)":"job (\d+)"', text)))
    assert received == {"1": 20, "0": 0, None: 0}


def test_sdk_options_speak_the_installed_sdk_s_names():
    """sentry-sdk 3 refuses 2.x's option names (a TypeError at settings import): the options
    whose names changed are given in the installed SDK's terms, with the same meaning."""
    from divio_settings.sentry import NO_PII, scrub_event, sdk_options

    two = frozenset({"send_default_pii", "before_send_transaction", "profiles_sample_rate"})
    rates = {"traces_sample_rate": 0.1, "profiles_sample_rate": 0.5}
    assert sdk_options(rates, two) == {
        "traces_sample_rate": 0.1,
        "send_default_pii": False,
        "before_send_transaction": scrub_event,
        "profiles_sample_rate": 0.5,
    }
    three = frozenset({"data_collection", "before_send_span", "before_send_log"})
    three |= {"profile_session_sample_rate", "profile_lifecycle"}
    assert sdk_options(rates, three) == {
        "traces_sample_rate": 0.1,
        "data_collection": NO_PII,
        "before_send_span": scrub_event,
        "before_send_log": scrub_event,
        "profile_session_sample_rate": 0.5,
        "profile_lifecycle": "trace",
    }
    assert "profile_session_sample_rate" not in sdk_options({}, three)
