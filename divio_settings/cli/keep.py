"""A project that has its own Docker files (every project built from Divio's quickstart):
`init --keep-docker` wires only what the library owns and says, one line per file, what the
Docker files lack for the guide; and urls.py's own DEBUG-only `static(settings.MEDIA_URL, …)`,
which media_urlpatterns() replaces."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Final

from .files import TextFile

SERVERS: Final = ("gunicorn", "uvicorn", "uwsgi", "daphne", "hypercorn", "granian", "start web")
# What the guide's .env-local sets for local development (shared/divio-guide.md).
LOCAL_VARIABLES: Final = ("DATABASE_URL", "DEFAULT_STORAGE_DSN", "DOMAIN_ALIASES")
COMPOSE_NAMES: Final = ("docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml")


def _steps(text: str) -> str:
    """The Dockerfile with its continued lines joined."""
    return re.sub(r"\s*\\\n\s*", " ", text)


def dockerfile_lacks(text: str, module: str | None) -> list[str]:
    """What a Dockerfile lacks for the guide: collectstatic at build, a server command, the
    settings module the server must load (when *module* is not the one manage.py names)."""
    joined = _steps(text)
    lines = [line.strip() for line in joined.splitlines()]
    runs = [line for line in lines if line.upper().startswith("RUN ")]
    commands = [line for line in lines if line.upper().startswith(("CMD ", "ENTRYPOINT "))]
    lacks = []
    if not any("collectstatic" in line for line in runs):
        lacks.append("no `RUN python manage.py collectstatic --noinput` (static files at build)")
    if not any(server in line for line in commands for server in SERVERS):
        lacks.append("no CMD that starts a server on port 80 (gunicorn, uvicorn, uwsgi)")
    if module and not re.search(rf"DJANGO_SETTINGS_MODULE[= ]+['\"]?{re.escape(module)}\b", joined):
        lacks.append(
            f"no `ENV DJANGO_SETTINGS_MODULE={module}` (the server would load manage.py's)"
        )
    return lacks


def env_local_lacks(text: str) -> list[str]:
    names = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line}
    return [f"no {name}" for name in LOCAL_VARIABLES if name not in names]


def compose_lacks(text: str) -> list[str]:
    return [] if ".env-local" in text else ["no `env_file: .env-local` for the web service"]


def lacks(root: Path, module: str | None) -> list[str]:
    """One line per Docker file of the project (at its top) and what it lacks for the guide."""
    said = []
    for name in ("Dockerfile", *COMPOSE_NAMES, ".env-local"):
        file = TextFile(root, root / name)
        if not file.exists:
            continue
        if name == "Dockerfile":
            missing = dockerfile_lacks(file.text, module)
        elif name == ".env-local":
            missing = env_local_lacks(file.text)
        else:
            missing = compose_lacks(file.text)
        said.append(f"kept {name}: " + ("; ".join(missing) if missing else "nothing missing"))
    return said


def _is_media_static(node: ast.AST) -> bool:
    """``static(settings.MEDIA_URL, …)``."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    first = node.args[0] if node.args else None
    return (
        node.func.id == "static" and isinstance(first, ast.Attribute) and first.attr == "MEDIA_URL"
    )


def _debug_block(node: ast.stmt) -> bool:
    """``if settings.DEBUG:`` with one statement that adds static(settings.MEDIA_URL, …)."""
    if not (isinstance(node, ast.If) and not node.orelse and len(node.body) == 1):
        return False
    test, (body,) = node.test, node.body
    if not (isinstance(test, ast.Attribute) and test.attr == "DEBUG"):
        return False
    value = body.value if isinstance(body, ast.AugAssign | ast.Expr) else None
    if isinstance(value, ast.Call) and not _is_media_static(value):  # urlpatterns.extend(…)
        value = value.args[0] if value.args else None
    return value is not None and _is_media_static(value)


def media_static(text: str) -> tuple[str, str | None]:
    """(urls.py's text, a line to say): the guide's DEBUG-only block that serves MEDIA_URL with
    static() removed (media_urlpatterns() serves the same, safely), or, for any other use of
    static(settings.MEDIA_URL, …), the text unchanged and a line naming it."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if _debug_block(node):
            del lines[node.lineno - 1 : node.end_lineno or node.lineno]
            return "".join(lines), (
                f"urls.py: replaced `if settings.DEBUG: … static(settings.MEDIA_URL, …)` "
                f"(line {node.lineno}) by media_urlpatterns()"
            )
    for found in ast.walk(tree):
        if _is_media_static(found):
            return text, (
                f"urls.py line {getattr(found, 'lineno', '?')} serves MEDIA_URL with static(): "
                "media_urlpatterns() does the same (DEBUG only, never outside the media "
                "folder); remove that line"
            )
    return text, None
