"""The secret variables that are set, as the scrubber, the report and the cloud's length rule
read them (the registry says which variables are secret)."""

from __future__ import annotations

from .env import Env, Environment, get, invalid, prefixed
from .variables import PREFIX, VARIABLES, Variable


def secret_items(env: Env) -> list[tuple[Variable, str, str]]:
    """(variable, name, value) of every secret variable that is set (the registry says which;
    *name* is the family member's, ALT_DATABASE_DSN for <PREFIX>_DATABASE_DSN)."""
    if isinstance(env, Environment) and env.secrets is not None:
        return env.secrets
    items: list[tuple[Variable, str, str]] = []
    for variable in VARIABLES:
        if not variable.secret:
            continue
        if variable.name.startswith(PREFIX):
            items.extend((variable, *pair) for pair in prefixed(env, variable).values())
        else:
            value = get(env, variable)
            if value is not None:
                items.append((variable, variable.name, value))
    if isinstance(env, Environment):
        env.secrets = items
    return items


def secret_values(env: Env) -> list[str]:
    """The values of every secret variable that is set."""
    return [value for _, _, value in secret_items(env)]


def short_secrets(env: Env) -> list[tuple[str, str]]:
    """In the cloud, a password or key shorter than the scrubber's floor is refused: it cannot
    be masked by value without masking every word that contains it, and it is no password
    (problems as VariableError holds them; the value is never named)."""
    from .redaction import MIN_SECRET_LENGTH, secrets_of

    problems: list[tuple[str, str]] = []
    for variable, name, value in secret_items(env):
        if variable.kind in ("URL", "DSN") and "://" not in value:
            continue  # not a URL at all: its group says so
        if any(0 < len(part) < MIN_SECRET_LENGTH for part in secrets_of(value)):
            problems += invalid(
                name,
                f"passwords and keys of at least {MIN_SECRET_LENGTH} characters in a cloud "
                "environment",
                "a password, key or credential in it is shorter",
            ).problems
    return problems
