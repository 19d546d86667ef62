"""The project's own Docker files wherever they are (docker/Dockerfile, deploy/compose.yml):
what the files init writes would lose of them (build steps, extra processes), so that nothing
is dropped without a word."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from divio_settings.redaction import mask_url_passwords

# Folders that hold no project Docker files of the project's own.
SKIPPED: Final = frozenset({"node_modules", "venv", "site-packages", "__pycache__"})
MAX_DEPTH: Final = 3
_COMPOSE = re.compile(r"^(docker-)?compose(\.[\w-]+)?\.ya?ml$")
_SERVICE = re.compile(r"^  ([A-Za-z0-9_.-]+):\s*$", re.M)
# Build steps the file init writes has (or that only install and copy).
OURS: Final = ("pip install", "collectstatic", "apt-get", "uv export", "mkdir")
OUR_SERVICES: Final = frozenset({"web", "database_default", "db"})


def docker_files(root: Path) -> Iterator[Path]:
    """Dockerfiles and compose files below *root*, not at its top (init's own are there)."""

    def walk(folder: Path, depth: int) -> Iterator[Path]:
        for path in sorted(folder.iterdir()):
            if path.is_symlink():
                continue
            if path.is_dir():
                if depth < MAX_DEPTH and path.name not in SKIPPED and not path.name.startswith("."):
                    yield from walk(path, depth + 1)
            elif depth and (path.name.startswith("Dockerfile") or _COMPOSE.match(path.name)):
                yield path

    yield from walk(root, 0)


def build_steps(text: str) -> list[str]:
    """The RUN steps of a Dockerfile that are neither installs nor collectstatic."""
    joined = re.sub(r"\s*\\\n\s*", " ", text)
    steps = [line.strip()[4:].strip() for line in joined.splitlines() if line.strip()[:4] == "RUN "]
    return [step for step in steps if not any(part in step for part in OURS)]


def services(text: str) -> list[str]:
    """The services of a compose file other than the web server and its database."""
    return [name for name in _SERVICE.findall(text) if name not in OUR_SERVICES]


def would_lose(root: Path) -> list[str]:
    """One item per thing of the project's own Docker files that init's files lack."""
    lost: list[str] = []
    for path in docker_files(root):
        name = path.relative_to(root).as_posix()
        text = path.read_text(errors="replace")
        if path.name.startswith("Dockerfile"):
            # A step may carry a credential (pip install https://user:token@…): masked.
            lost += [f"{name}: RUN {mask_url_passwords(step)}" for step in build_steps(text)]
        else:
            lost += [f"{name}: service {service}" for service in services(text)]
    return lost
