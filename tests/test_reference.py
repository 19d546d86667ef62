"""The variables reference, row by row, generated from the registry the docs are checked against:
each variable set to its documented example (with the variables it needs) in each kind of
environment changes only the settings the reference says it sets, and changes something in at
least one of them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

import divio_settings
from divio_settings import env, sentry
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


@pytest.mark.parametrize("variable", env.VARIABLES, ids=lambda variable: variable.name)
def test_each_variable_changes_only_what_the_reference_says(variable):
    name = variable.name.replace(env.PREFIX, "ALT")
    assert variable.example, f"{variable.name} has no documented example"
    effects: dict[str, set[str]] = {}
    for kind, base in ENVIRONMENTS.items():
        without = {k: v for k, v in base.items() if k != name} | dict(variable.context)
        with_it = without | {name: variable.example}
        if variable is env.SECRET_KEY and kind.startswith("cloud"):
            # The one required variable: the reference says "required in the cloud".
            with pytest.raises(ImproperlyConfigured, match="^SECRET_KEY: expected"):
                settings_for(without)
            continue
        before = settings_for(without)
        effects[kind] = changed(before, settings_for(with_it))
        undocumented = effects[kind] - set(variable.sets)
        assert not undocumented, f"{name} in a {kind} environment also changes {undocumented}"
    assert any(effects.values()), f"{name}={variable.example} changes nothing anywhere"
