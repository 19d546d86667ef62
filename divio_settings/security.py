"""SECRET_KEY, DJANGO_DEBUG, STAGE and the TLS settings for Divio's load balancer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from . import conf, variables
from .conventions import KEY_NAMES
from .env import Env, base_dir, clean, get, invalid, is_cloud, read_bool, read_int, read_list
from .groups import Decisions

PROXY_SSL_HEADER: Final = ("HTTP_X_FORWARDED_PROTO", "https")
DEFAULT_HSTS_SECONDS: Final = 3600
REPORTING: Final = {
    "DEFAULT_EXCEPTION_REPORTER": "divio_settings.debug_page.ExceptionReporter",
    "DEFAULT_EXCEPTION_REPORTER_FILTER": "divio_settings.debug_page.SafeExceptionReporterFilter",
}
INSECURE_PREFIX: Final = "django-insecure-"
HSTS_FLAGS: Final = (variables.SECURE_HSTS_INCLUDE_SUBDOMAINS, variables.SECURE_HSTS_PRELOAD)
# The report's source of a key apply() derived on this machine (check E005 looks for it).
DERIVED_KEY: Final = "derived locally (SECRET_KEY unset)"


def settings_from_env(env: Env, current: Mapping[str, Any]) -> Decisions:
    cloud = is_cloud(env)
    out = Decisions()
    _secret_key(env, current, cloud, out)
    _debug(env, current, cloud, out)
    _tls(env, current, cloud, out)
    for setting, path in REPORTING.items():
        if setting not in current:
            out.set(setting, path, "default (masks DSNs and URL passwords)")
    return out


def _secret_key(env: Env, current: Mapping[str, Any], cloud: bool, out: Decisions) -> None:
    """SECRET_KEY (required in the cloud, never a known one there) and the rotation keys."""
    key = get(env, variables.SECRET_KEY)
    if key is not None:
        out.set("SECRET_KEY", key, "SECRET_KEY")
    else:
        own = current.get("SECRET_KEY")
        usable = isinstance(own, str) and own.strip() != "" and not own.startswith(INSECURE_PREFIX)
        if cloud and not usable:
            raise invalid(
                "SECRET_KEY",
                "a secret key in a cloud environment (DOMAIN or STAGE is set)",
                "the variable is unset and settings.py has no key of its own other than "
                "startproject's 'django-insecure-' one" + _renamed_hint(env),
            )
        if (
            cloud
            and not conf.read(conf.ALLOW_COMMITTED_SECRET_KEY, current)
            and _committed(str(own), current)
        ):
            raise invalid(
                "SECRET_KEY",
                "the signing key from the environment in a cloud environment",
                "settings.py's key is written in the project's code, so anyone with the "
                f"repository can sign sessions; set SECRET_KEY{_renamed_hint(env, ',')} or "
                f"keep the key with {conf.ALLOW_COMMITTED_SECRET_KEY} = True in settings.py",
            )
        if not own:
            out.set("SECRET_KEY", local_key(current), DERIVED_KEY)
    _rotation(env, key, out)


# A key rotation that logs nobody out while old and new containers serve together: Django
# re-signs a session checked by a fallback key with the new key, which an old container cannot
# read; so every container must accept the new key before any signs with it.
ROTATION_STEP_1: Final = (
    "step 1 of 2: signing with SECRET_KEY and accepting SECRET_KEY_NEXT; next deploy: "
    "SECRET_KEY_NEXT's key as SECRET_KEY, this SECRET_KEY in SECRET_KEY_FALLBACKS, "
    "SECRET_KEY_NEXT unset"
)
ROTATION_STEP_2: Final = (
    "step 2 of 2: signing with SECRET_KEY and accepting SECRET_KEY_FALLBACKS; unset them once "
    "the sessions they signed have expired (SESSION_COOKIE_AGE); safe during a deploy only if "
    "the containers it replaces accepted this SECRET_KEY (step 1)"
)


def _rotation(env: Env, key: str | None, out: Decisions) -> None:
    """SECRET_KEY_NEXT and SECRET_KEY_FALLBACKS -> SECRET_KEY_FALLBACKS (the next key first),
    and DIVIO_ROTATION_STEP: which step of the two-step rotation this container is in."""
    following = get(env, variables.SECRET_KEY_NEXT)
    fallbacks = read_list(env, variables.SECRET_KEY_FALLBACKS)
    if following is not None and following != key:
        keys = list(dict.fromkeys([following, *fallbacks]))
        sources = "SECRET_KEY_NEXT" + (", SECRET_KEY_FALLBACKS" if fallbacks else "")
        out.set("SECRET_KEY_FALLBACKS", keys, sources)
        out.set(conf.ROTATION_STEP, ROTATION_STEP_1, "SECRET_KEY_NEXT")
    elif fallbacks:
        out.set("SECRET_KEY_FALLBACKS", fallbacks, "SECRET_KEY_FALLBACKS")
        out.set(conf.ROTATION_STEP, ROTATION_STEP_2, "SECRET_KEY_FALLBACKS")


def _renamed_hint(env: Env, lead: str = ";") -> str:
    """Another convention's name for the key (conventions.KEY_NAMES), when it is set instead."""
    present = [name for name in KEY_NAMES if clean(env.get(name)) is not None]
    return f"{lead} {present[0]} is set, but the variable is SECRET_KEY" if present else ""


def _committed(key: str, current: Mapping[str, Any]) -> bool:
    """Whether the key is written in a Python file of the settings module's folder (settings.py
    and the modules of a settings package); a key read from a variable or a secret file is not."""
    import os.path
    from pathlib import Path

    settings_file = current.get("__file__")
    if not isinstance(settings_file, str):
        return False
    for path in Path(os.path.dirname(os.path.abspath(settings_file))).glob("*.py"):
        try:
            if key in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def local_key(current: Mapping[str, Any]) -> str:
    """Outside the cloud without any key: one derived from this machine and the project's
    folder, never a fixed string and never stored, the same in every process (runserver's
    reloads, several workers), so sessions survive a restart."""
    import hashlib
    import socket

    try:
        with open("/etc/machine-id") as machine_id:
            machine = machine_id.read().strip()
    except OSError:
        machine = ""
    seed = f"{machine}|{socket.gethostname()}|{base_dir(current)}"
    return "divio-local-" + hashlib.blake2b(seed.encode(), digest_size=32).hexdigest()


def _debug(env: Env, current: Mapping[str, Any], cloud: bool, out: Decisions) -> None:
    debug = read_bool(env, variables.DJANGO_DEBUG)
    if debug is not None:
        out.set("DEBUG", debug, "DJANGO_DEBUG")
    elif cloud:
        # startproject writes DEBUG = True; the cloud must not inherit it by accident.
        out.set("DEBUG", False, "default in the cloud (DJANGO_DEBUG unset)")
    elif "DEBUG" not in current:
        out.set("DEBUG", False, "default (DJANGO_DEBUG unset)")


def _tls(env: Env, current: Mapping[str, Any], cloud: bool, out: Decisions) -> None:
    redirect = read_bool(env, variables.SECURE_SSL_REDIRECT)
    seconds = read_int(env, variables.SECURE_HSTS_SECONDS)
    flags = {flag.name: read_bool(env, flag) for flag in HSTS_FLAGS}
    if redirect is not None:
        out.set("SECURE_SSL_REDIRECT", redirect, "SECURE_SSL_REDIRECT")
    elif "SECURE_SSL_REDIRECT" in current:
        redirect = bool(current["SECURE_SSL_REDIRECT"])
    else:
        redirect = cloud
        out.set(
            "SECURE_SSL_REDIRECT", redirect, f"default {'in the cloud' if cloud else 'locally'}"
        )
    if cloud and "SECURE_PROXY_SSL_HEADER" not in current:
        out.set(
            "SECURE_PROXY_SSL_HEADER",
            PROXY_SSL_HEADER,
            "default in the cloud (TLS ends at the load balancer)",
        )
    if redirect:
        for setting in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
            if setting not in current:
                out.set(setting, True, "SECURE_SSL_REDIRECT")
    _hsts(seconds, flags, current, cloud and redirect, out)


def _hsts(
    seconds: int | None,
    flags: dict[str, bool | None],
    current: Mapping[str, Any],
    default_on: bool,
    out: Decisions,
) -> None:
    """One rule: a variable always wins (also without the https redirect); without one, the
    cloud while redirecting gets a short HSTS, and whenever HSTS is on (from any source)
    includeSubDomains defaults to on and preload follows includeSubDomains (the preload list
    refuses a header without it)."""
    if seconds is not None:
        out.set("SECURE_HSTS_SECONDS", seconds, "SECURE_HSTS_SECONDS")
    elif default_on and "SECURE_HSTS_SECONDS" not in current:
        seconds = DEFAULT_HSTS_SECONDS
        out.set("SECURE_HSTS_SECONDS", seconds, "default in the cloud")
    else:
        seconds = int(current.get("SECURE_HSTS_SECONDS") or 0)
    include_name, preload_name = (flag.name for flag in HSTS_FLAGS)
    include = flags[include_name]
    if include is not None:
        out.set(include_name, include, include_name)
    elif seconds and include_name not in current:
        include = True
        out.set(include_name, include, "default with HSTS on")
    else:
        include = bool(current.get(include_name))
    preload = flags[preload_name]
    if preload is not None:
        out.set(preload_name, preload, preload_name)
    elif seconds and preload_name not in current:
        out.set(preload_name, include, "default with HSTS on: follows includeSubDomains")
