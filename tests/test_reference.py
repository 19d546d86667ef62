"""The variables reference, row by row, generated from the registry the docs are checked against:
each variable set to its documented example (with the variables it needs) in each kind of
environment changes only the settings the reference says it sets, and changes something in at
least one of them."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

import divio_settings
from divio_settings import sentry, variables
from tests.helpers import LIVE_KEY, LOCAL_ENV, STARTPROJECT

# Build: the Docker build has no variables at all. Local: the guide's .env-local. Cloud: what
# Divio sets on a test and a live environment (without services, which have rows of their own).
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "build": {},
    "local": dict(LOCAL_ENV),
    "cloud test": {"STAGE": "test", "DOMAIN": "site-stage.us.aldryn.io", "SECRET_KEY": LIVE_KEY},
    "cloud live": {"STAGE": "live", "DOMAIN": "site.us.aldryn.io", "SECRET_KEY": LIVE_KEY},
}
BOOKKEEPING = {divio_settings.ORIGINAL, divio_settings.REPORT}


def settings_for(environ: dict[str, str]) -> dict[str, Any]:
    namespace = copy.deepcopy(dict(STARTPROJECT))
    divio_settings.apply(namespace, environ=environ)
    return {k: v for k, v in namespace.items() if k not in BOOKKEEPING}


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


@pytest.fixture(autouse=True)
def no_sentry(monkeypatch):
    monkeypatch.setattr(sentry, "init", lambda *args: None)


@pytest.mark.parametrize("variable", variables.VARIABLES, ids=lambda variable: variable.name)
def test_each_variable_changes_only_what_the_reference_says(variable):
    name = variable.name.replace(variables.PREFIX, "ALT")
    assert variable.example, f"{variable.name} has no documented example"
    effects: dict[str, set[str]] = {}
    for kind, base in ENVIRONMENTS.items():
        without = {k: v for k, v in base.items() if k != name} | dict(variable.context)
        with_it = without | {name: variable.example}
        if variable is variables.SECRET_KEY and kind.startswith("cloud"):
            # The one required variable: the reference says "required in the cloud".
            with pytest.raises(ImproperlyConfigured, match="^SECRET_KEY: expected"):
                settings_for(without)
            continue
        before = settings_for(without)
        effects[kind] = changed(before, settings_for(with_it))
        undocumented = effects[kind] - set(variable.sets)
        assert not undocumented, f"{name} in a {kind} environment also changes {undocumented}"
    assert any(effects.values()), f"{name}={variable.example} changes nothing anywhere"


def documented_settings() -> set[str]:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "reference" / "settings.md").read_text()
    names: set[str] = set()
    for row in text.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*\*?)`", row.split("|")[1]))
    return names


def test_the_settings_reference_lists_exactly_what_apply_writes():
    """Every setting apply() writes, in every kind of environment with every documented
    example, has a row in docs/reference/settings.md, and every row is written somewhere."""
    written: set[str] = set()
    # startproject's settings, and a settings.py that sets almost nothing itself.
    bare: dict[str, Any] = {
        "__file__": "/app/x/settings.py",
        "INSTALLED_APPS": ["django.contrib.staticfiles"],
    }
    project: dict[str, Any]
    for project in (dict(STARTPROJECT), bare):
        for base in ENVIRONMENTS.values():
            for variable in variables.VARIABLES:
                name = variable.name.replace(variables.PREFIX, "ALT")
                environ = base | dict(variable.context) | {name: variable.example}
                environ.setdefault("SECRET_KEY", LIVE_KEY)
                namespace = copy.deepcopy(project)
                divio_settings.apply(namespace, environ=environ)
                written |= set(namespace[divio_settings.ORIGINAL]["absent"])
                written |= set(namespace[divio_settings.ORIGINAL]["values"])
    # The conflict list shows only when two variables disagree.
    namespace = copy.deepcopy(dict(STARTPROJECT))
    divio_settings.apply(
        namespace,
        environ={"DATABASE_URL": "sqlite:////a.db", "DEFAULT_DATABASE_DSN": "sqlite:////b.db"},
    )
    written |= set(namespace[divio_settings.ORIGINAL]["absent"])
    # A pattern for any host, and a variable of another convention.
    namespace = copy.deepcopy(dict(STARTPROJECT))
    divio_settings.apply(namespace, environ={"DOMAIN_ALIASES": ".*", "DJANGO_LOG_LEVEL": "INFO"})
    written |= set(namespace[divio_settings.ORIGINAL]["absent"])
    # settings.py's own bucket settings under a DSN (W018).
    namespace = copy.deepcopy(dict(STARTPROJECT)) | {"AWS_LOCATION": "media"}
    divio_settings.apply(
        namespace, environ={"DEFAULT_STORAGE_DSN": "s3://k:s3cr3t-key@b.s3.amazonaws.com/"}
    )
    written |= set(namespace[divio_settings.ORIGINAL]["absent"])
    # The checks switch off, the app kept for runserver.
    namespace = copy.deepcopy(dict(STARTPROJECT))
    divio_settings.apply(namespace, environ={}, checks=False)
    written |= set(namespace[divio_settings.ORIGINAL]["absent"])
    written.add(divio_settings.REPORT)
    documented = documented_settings()
    patterns = {name[:-1] for name in documented if name.endswith("*")}

    def listed(setting: str) -> bool:
        return setting in documented or any(setting.startswith(p) for p in patterns)

    assert {s for s in written if not listed(s)} == set()
    # MAILERS (Django 6.1+) or EMAIL_* (before): one of them is written.
    assert "MAILERS" in written or any(s.startswith("EMAIL_") for s in written)
    for name in documented - {"MAILERS", "EMAIL_*"}:
        if name.endswith("*"):
            assert any(s.startswith(name[:-1]) for s in written), name
        else:
            assert name in written, name
