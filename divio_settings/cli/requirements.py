"""What the project installs: the requirements file or pyproject.toml init finds, and the lines
it adds there (divio-settings pinned to the running version, with the database's extra, and the
gateway), and the Dockerfile's install step for a pyproject.toml (with or without uv.lock)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Final

from .errors import UserError
from .files import TextFile

DATABASES: Final = {
    "postgres": {
        "url": "postgres://postgres@database_default:5432/db",
        "extra": "postgres",
        "packages": (),
    },
    "mysql": {
        "url": "mysql://root@database_default:3306/db",
        "extra": "mysql",
        "packages": ("build-essential", "default-libmysqlclient-dev", "pkg-config"),
    },
}


def own_version() -> str:
    """The installed package's version: the one place it is kept is the package metadata."""
    try:
        return metadata.version("divio-settings")
    except metadata.PackageNotFoundError:
        # Only a checkout that was never installed has no metadata; pinning a guessed version
        # into a project's requirements would install something else.
        raise UserError(
            "divio-settings is not installed (no package metadata): pip install it first"
        ) from None


def requirement_name(line: str) -> str:
    return re.split(r"[\[<>=!~;\s]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


DATABASE_EXTRAS: Final = frozenset(str(db["extra"]) for db in DATABASES.values())
# The cloud's object storage (DEFAULT_STORAGE_DSN, in every Divio environment once provisioned):
# S3-compatible in most regions, Azure Blob in Azure's. Its extra goes into the pin.
STORAGE_EXTRAS: Final = {"s3": ("s3",), "azure": ("azure",), "none": ()}
DEFAULT_STORAGE: Final = "s3"


def pin_extras(database: str, storage: str) -> set[str]:
    """The extras init's pin of divio-settings carries: the database's and the storage's."""
    return {str(DATABASES[database]["extra"]), *STORAGE_EXTRAS[storage]}


# Requirements that build from source on the slim image (no compiler, no headers): the Debian
# packages their build needs (their runtime libraries come with the -dev packages).
BUILD_PACKAGES: Final[dict[str, tuple[str, ...]]] = {
    "psycopg[c]": ("build-essential", "libpq-dev"),
    "psycopg-c": ("build-essential", "libpq-dev"),
    "psycopg2": ("build-essential", "libpq-dev"),
    "mysqlclient": ("build-essential", "default-libmysqlclient-dev", "pkg-config"),
    "uwsgi": ("build-essential",),
    "python-ldap": ("build-essential", "libldap2-dev", "libsasl2-dev"),
}


def build_packages(lines: Iterable[str]) -> set[str]:
    """The Debian packages the requirement *lines* need to build (psycopg[c], psycopg2 — not
    psycopg2-binary —, mysqlclient, uwsgi, python-ldap)."""
    from packaging.utils import canonicalize_name

    from .pins import parsed

    needed: set[str] = set()
    for line in lines:
        requirement = parsed(line)
        if requirement is None:
            continue
        name = canonicalize_name(requirement.name)
        keys = [name, *(f"{name}[{extra}]" for extra in requirement.extras)]
        for key in keys:
            needed.update(BUILD_PACKAGES.get(key, ()))
    return needed


def requirements(old: str, database: str, gateway_line: str, storage: str) -> str:
    """*old* with divio-settings pinned to this version, the chosen database's and storage's
    extras (other extras kept, the other database's dropped), and the gateway if no line names
    it."""
    lines = old.splitlines()
    own = [i for i, line in enumerate(lines) if requirement_name(line) == "divio-settings"]
    chosen = str(DATABASES[database]["extra"])
    extras = pin_extras(database, storage)
    for index in own:
        found = re.match(r"\s*divio[-_]settings\s*\[([^\]]*)\]", lines[index], re.IGNORECASE)
        if found:
            extras |= {e.strip() for e in found.group(1).split(",") if e.strip()}
    extras -= DATABASE_EXTRAS - {chosen}
    pinned = f"divio-settings[{','.join(sorted(extras))}]=={own_version()}"
    if own:
        lines[own[0]] = pinned
        lines = [line for i, line in enumerate(lines) if i not in own[1:]]
    else:
        lines.append(pinned)
    if requirement_name(gateway_line) not in {requirement_name(line) for line in lines}:
        lines.append(gateway_line)
    if lines == old.splitlines():
        return old
    return "\n".join(lines) + "\n"


# The production file of a requirements/ folder (cookiecutter-django's shape: base.txt, local.txt,
# production.txt including base.txt), in the order init looks for it.
PRODUCTION_FILES: Final = ("production.txt", "prod.txt", "requirements.txt", "base.txt")


def requirements_file(root: Path) -> Path:
    """Where the project declares what the image installs: requirements.txt, else the
    production file of a requirements/ folder, else pyproject.toml's [project] dependencies (with
    uv.lock: the locked versions). Poetry's and Pipenv's files are refused: init would install
    none of what they declare."""
    single = root / "requirements.txt"
    folder = root / "requirements"
    if single.exists() or not folder.is_dir():
        if single.exists():
            return single
        other = [name for name in ("poetry.lock", "Pipfile") if (root / name).is_file()]
        if other:
            raise UserError(
                f"the project declares its dependencies in {other[0]}: export them to "
                "requirements.txt (poetry export, pipenv requirements), then run init again"
            )
        pyproject = root / "pyproject.toml"
        if (root / "uv.lock").is_file() or (
            pyproject.is_file() and _dependency_items(TextFile(root, pyproject).text)
        ):
            return pyproject
        return single
    for name in PRODUCTION_FILES:
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.txt"))
    if len(found) == 1:
        return found[0]
    raise UserError(
        f"requirements/ has {len(found)} files and none is named production.txt, prod.txt or "
        "base.txt: name the one the image installs production.txt"
    )


# The image reads [project] dependencies with tomllib (Python 3.11+) and installs exactly them,
# without building the project (a Django site is rarely a package).
PYPROJECT_STEP: Final = (
    "COPY pyproject.toml /app/pyproject.toml\n"
    "RUN python -c \"import tomllib; print('\\\\n'.join(tomllib.load(open('pyproject.toml', "
    "'rb'))['project']['dependencies']))\" > /tmp/requirements.txt \\\n"
    "    && pip install --no-cache-dir -r /tmp/requirements.txt"
)
# With uv.lock: the locked versions, exported by uv.
UV_STEP: Final = (
    "COPY pyproject.toml uv.lock /app/\n"
    "RUN pip install --no-cache-dir uv \\\n"
    "    && uv export --frozen --no-dev --no-emit-project --output-file /tmp/requirements.txt \\\n"
    "    && pip install --no-cache-dir -r /tmp/requirements.txt"
)


def pyproject_install(
    root: Path, python: str, database: str, gateway_line: str, storage: str
) -> str:
    if not (root / "uv.lock").is_file():
        major, _, minor = python.partition(".")
        if (int(major), int(minor or 0)) < (3, 11):
            raise UserError(
                f"--python {python}: reading pyproject.toml in the image needs Python 3.11 or later"
            )
        return PYPROJECT_STEP
    items = _dependency_items(TextFile(root, root / "pyproject.toml").text)
    names = {requirement_name(item) for item in items}
    wanted = {
        "divio-settings": _pin(database, storage),
        requirement_name(gateway_line): gateway_line,
    }
    missing = [line for name, line in wanted.items() if name not in names]
    if missing:
        quoted = " ".join(f"'{line}'" for line in missing)
        raise UserError(
            f"the project's dependencies are locked in uv.lock: add them first (uv add {quoted}), "
            "then run init again"
        )
    return UV_STEP


def _pin(database: str, storage: str) -> str:
    extras = ",".join(sorted(pin_extras(database, storage)))
    return f"divio-settings[{extras}]=={own_version()}"


def _dependency_array(text: str) -> tuple[int, int] | None:
    """(start, end) of the body of [project]'s ``dependencies = [...]`` (quote-aware)."""
    header = re.search(r"^\[project\]\s*$", text, re.MULTILINE)
    if not header:
        return None
    following = re.search(r"^\[", text[header.end() :], re.MULTILINE)
    section_end = header.end() + following.start() if following else len(text)
    start = re.compile(r"^dependencies\s*=\s*\[", re.MULTILINE).search(
        text, header.end(), section_end
    )
    if not start:
        return None
    quote = ""
    for index in range(start.end(), len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "]":
            return start.end(), index
    return None


def _dependency_items(text: str) -> list[str]:
    found = _dependency_array(text)
    if found is None:
        return []
    return re.findall(r"[\"']([^\"']+)[\"']", text[found[0] : found[1]])


def pyproject_with(text: str, database: str, gateway_line: str, storage: str) -> str:
    """pyproject.toml with divio-settings pinned (an existing entry replaced in place, other
    extras kept) and the gateway added to [project] dependencies; every other line, comments
    included, as it was."""
    found = _dependency_array(text)
    if found is None:
        raise UserError("pyproject.toml has no [project] dependencies array init can add to")
    start, end = found
    body = text[start:end]
    items = _dependency_items(text)
    wanted = requirements("\n".join(items) + "\n", database, gateway_line, storage).splitlines()
    if wanted == items:
        return text
    pin = next(line for line in wanted if requirement_name(line) == "divio-settings")
    own = [item for item in items if requirement_name(item) == "divio-settings"]
    if own:
        body = body.replace(own[0], pin, 1)
    added = [
        line for line in wanted if line not in items and line != pin or not own and line == pin
    ]
    if added:
        if "\n" in body:
            indent = re.search(r"\n([ \t]+)[\"']", body)
            pad = indent.group(1) if indent else "    "
            last = list(re.finditer(r"[\"'][^\"']*[\"']", body))
            if last and not body[last[-1].end() :].lstrip(" \t").startswith(","):
                body = body[: last[-1].end()] + "," + body[last[-1].end() :]
            stripped = body.rstrip()
            body = stripped + "".join(f'\n{pad}"{line}",' for line in added) + "\n"
        else:
            stripped = body.strip()
            joined = ", ".join(f'"{line}"' for line in added)
            body = f"{stripped.rstrip(',')}, {joined}" if stripped else joined
    return text[:start] + body + text[end:]
