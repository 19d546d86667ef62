"""SENTRY_DSN, GIT_COMMIT, STAGE -> sentry_sdk.init() with the Django integration."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any, Final

from . import conf, variables
from .env import Env, check_url, get, invalid, read_rate
from .groups import Decisions

EXAMPLE: Final = "https://key@o1.ingest.sentry.io/1"


def installed() -> bool:
    return importlib.util.find_spec("sentry_sdk") is not None


def started_by_project() -> bool:
    """Whether the process already has an active Sentry client (the project's own init);
    without sentry_sdk imported nobody can have started one."""
    import sys

    sdk = sys.modules.get("sentry_sdk")
    if sdk is None:
        return False
    try:
        return bool(sdk.get_client().is_active())
    except AttributeError:  # sentry-sdk before 2.0
        return sdk.Hub.current.client is not None


def init(
    dsn: str, environment: str, release: str | None, rates: Mapping[str, float] | None = None
) -> None:
    """Start Sentry; called by apply() after every setting is written. *rates*: the sample
    rates that are set (traces_sample_rate, profiles_sample_rate)."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration()],
        before_send=scrub_event,
        before_breadcrumb=scrub_event,
        **sdk_options(rates or {}),
    )


# sentry-sdk 3 renamed or replaced these options of 2.x (and refuses the old names): the first
# name the installed SDK accepts is used.
SCRUBBED_HOOKS: Final = ("before_send_transaction", "before_send_span", "before_send_log")
PROFILES: Final = ("profiles_sample_rate", "profile_session_sample_rate")
# No user, cookies or request bodies in events: 2.x's send_default_pii=False, in 3.x's terms.
NO_PII: Final = {"user_info": False, "http_bodies": [], "cookies": {"mode": "off"}}


def sdk_options(
    rates: Mapping[str, float], accepted: frozenset[str] | None = None
) -> dict[str, Any]:
    """The options whose names differ between sentry-sdk 2 and 3, for the SDK that accepts the
    option names *accepted* (default: the installed one's)."""
    if accepted is None:
        import inspect

        from sentry_sdk.consts import ClientConstructor

        accepted = frozenset(inspect.signature(ClientConstructor.__init__).parameters)
    options: dict[str, Any] = {"traces_sample_rate": rates.get("traces_sample_rate")}
    if "send_default_pii" in accepted:
        options["send_default_pii"] = False
    else:
        options["data_collection"] = NO_PII
    options.update(
        dict.fromkeys([hook for hook in SCRUBBED_HOOKS if hook in accepted], scrub_event)
    )
    profiles = rates.get("profiles_sample_rate")
    if profiles is not None:
        name = next(name for name in PROFILES if name in accepted)
        options[name] = profiles
        if name == "profile_session_sample_rate":
            options["profile_lifecycle"] = "trace"  # profiles of sampled traces, as 2.x did
    return options


def scrub_event(event: Any, hint: Any = None) -> Any:
    """Every string of a Sentry event, transaction or breadcrumb as the report shows it: the
    environment's secret values and URL passwords removed, secret-named fields masked (frame
    locals such as psycopg's ``conn_params``, exception messages, log messages, request data),
    and a form's fields whose names look secret."""
    from .redaction import REDACTED, is_secret_field, redact

    scrubbed = _scrubbed(event, redact)
    request = scrubbed.get("request") if isinstance(scrubbed, dict) else None
    if isinstance(request, dict) and isinstance(data := request.get("data"), dict):
        # A form's fields: a visitor's password, card, one-time code.
        request["data"] = {
            key: REDACTED if is_secret_field(str(key)) and item not in ("", None) else item
            for key, item in data.items()
        }
    return scrubbed


def _scrubbed(value: Any, redact: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {key: _scrubbed(item, redact, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item, redact) for item in value]
    if isinstance(value, str):
        return redact(value, name)
    return value


def _check_dsn(dsn: str) -> None:
    """What sentry_sdk itself refuses (BadDsn), said now: apply() must not fail half-way later."""
    parts = check_url("SENTRY_DSN", dsn, ["http", "https"], EXAMPLE)
    if not parts.username:
        raise invalid("SENTRY_DSN", f"a URL like {EXAMPLE}", "the public key before '@' is missing")
    project = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not (project.isascii() and project.isdigit()):
        raise invalid(
            "SENTRY_DSN", f"a URL like {EXAMPLE}", "the project id at the end is not a number"
        )


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    out = Decisions()
    dsn = get(env, variables.SENTRY_DSN)
    if dsn is None:
        return out
    _check_dsn(dsn)
    environment = (get(env, variables.STAGE) or "local").lower()
    release = get(env, variables.GIT_COMMIT)
    if started_by_project():
        out.keep(
            conf.SENTRY,
            "settings.py started Sentry itself before apply(); SENTRY_DSN, STAGE and "
            "GIT_COMMIT are not applied to it",
        )
        return out
    read = [
        (key, variable.name, rate)
        for key, variable in (
            ("traces_sample_rate", variables.SENTRY_TRACES_SAMPLE_RATE),
            ("profiles_sample_rate", variables.SENTRY_PROFILES_SAMPLE_RATE),
        )
        if (rate := read_rate(env, variable)) is not None
    ]
    rates = {key: rate for key, _, rate in read}
    ready = installed()
    out.set(
        conf.SENTRY,
        {"environment": environment, "release": release, "installed": ready, **rates},
        ", ".join(["SENTRY_DSN, STAGE, GIT_COMMIT", *(name for _, name, _ in read)]),
    )
    if ready:
        out.after.append(lambda: init(dsn, environment, release, rates))
    return out
