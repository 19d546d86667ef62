"""`divio-settings init`: write the files of Divio's deployment guide into a Django project."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Final

from .docker import would_lose
from .project import (
    Project,
    TextFile,
    UserError,
    calls,
    find_project,
    module_file,
    shown_path,
    write_all,
)

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
# Gateway -> (requirement, CMD). The forwarded-IPs options make request.is_secure() follow the
# load balancer's X-Forwarded-Proto; without them uvicorn loops on the https redirect. The CMD
# runs in a shell (`exec`, so the server gets Divio's stop signal): aldryn-django's
# DJANGO_WEB_WORKERS, DJANGO_WEB_TIMEOUT and DJANGO_WEB_MAX_REQUESTS (and WEB_CONCURRENCY) still
# work, each defaulting to the server's own default.
# (Doubled braces: the commands are formatted with the project's package.)
WORKERS: Final = "${{DJANGO_WEB_WORKERS:-${{WEB_CONCURRENCY:-1}}}}"
GATEWAYS: Final = {
    "gunicorn": (
        "gunicorn==27.0.1",
        'exec gunicorn --bind=0.0.0.0:80 --forwarded-allow-ips="*" --workers='
        + WORKERS
        + " --timeout=${{DJANGO_WEB_TIMEOUT:-30}} --max-requests=${{DJANGO_WEB_MAX_REQUESTS:-0}}"
        " {package}.wsgi",
    ),
    "uvicorn": (
        "uvicorn==0.54.0",
        'exec uvicorn --host=0.0.0.0 --port=80 --proxy-headers --forwarded-allow-ips="*" '
        "--workers=" + WORKERS + " {package}.asgi:application",
    ),
    "uwsgi": (
        "uwsgi==2.0.31",
        "exec uwsgi --http=0.0.0.0:80 --module={package}.wsgi --master --die-on-term "
        "--processes=" + WORKERS + " --harakiri=${{DJANGO_WEB_TIMEOUT:-0}}"
        " --max-requests=${{DJANGO_WEB_MAX_REQUESTS:-0}}",
    ),
}
GATEWAY_PACKAGES: Final = {"uwsgi": ("build-essential",)}
SETTINGS_LINES: Final = "\nimport divio_settings\n\ndivio_settings.apply(globals())\n"
URLS_LINES: Final = (
    "\nfrom divio_settings.urls import media_urlpatterns\n\nurlpatterns += media_urlpatterns()\n"
)


def template(name: str) -> str:
    return (resources.files("divio_settings.cli") / "templates" / name).read_text("utf-8")


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


def _requirement_name(line: str) -> str:
    return re.split(r"[\[<>=!~;\s]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


DATABASE_EXTRAS: Final = frozenset(str(db["extra"]) for db in DATABASES.values())


def requirements(old: str, database: str, gateway_line: str) -> str:
    """*old* with divio-settings pinned to this version and the chosen database's extra (other
    extras kept, the other database's dropped), and the gateway if no line names it."""
    lines = old.splitlines()
    own = [i for i, line in enumerate(lines) if _requirement_name(line) == "divio-settings"]
    chosen = str(DATABASES[database]["extra"])
    extras = {chosen}
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
    if _requirement_name(gateway_line) not in {_requirement_name(line) for line in lines}:
        lines.append(gateway_line)
    if lines == old.splitlines():
        return old
    return "\n".join(lines) + "\n"


def plan(project: Project, database: str, gateway: str, python: str) -> dict[Path, str]:
    """Every file init writes, with the text it should have afterwards (LF line endings)."""
    db = DATABASES[database]
    requirement, command = GATEWAYS[gateway]
    packages = sorted({*db["packages"], *GATEWAY_PACKAGES.get(gateway, ())})
    step = (
        "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends "
        + " ".join(packages)
        + " \\\n    && rm -rf /var/lib/apt/lists/*"
        if packages
        else "# RUN apt-get update && apt-get install -y --no-install-recommends <packages>"
    )
    root = project.root
    wanted = requirements_file(root)
    listed = wanted.relative_to(root).as_posix()
    if wanted.name == "pyproject.toml":
        install = pyproject_install(root, python, database, requirement)
    else:
        install = (
            f"COPY {listed} /app/{listed}"
            if listed == "requirements.txt"
            else f"COPY {wanted.parent.relative_to(root).as_posix()} "
            f"/app/{wanted.parent.relative_to(root).as_posix()}"
        ) + f"\nRUN pip install --no-cache-dir -r {listed}"
    files = {
        root / "Dockerfile": template("Dockerfile.tmpl").format(
            python=python,
            system_step=step,
            install_step=install,
            settings_step=settings_step(project),
            command=command.format(package=project.package),
        ),
        root / "docker-compose.yml": template("docker-compose.yml.tmpl").format(
            database_service=template(f"database-{database}.yml.tmpl")
        ),
        root / ".env-local": template("env-local.tmpl").format(database_url=db["url"]),
    }
    settings = TextFile(root, project.settings, python=True).text
    if not calls(settings, shown_path(root, project.settings), "apply", "divio_settings"):
        settings = settings.rstrip("\n") + "\n" + SETTINGS_LINES
    files[project.settings] = settings
    urls = TextFile(root, project.urls, python=True).text
    if not calls(urls, shown_path(root, project.urls), "media_urlpatterns", "urls"):
        urls = urls.rstrip("\n") + "\n" + URLS_LINES
    files[project.urls] = urls
    ignore = template("gitignore.tmpl").splitlines()
    text = TextFile(root, root / ".gitignore").text
    have = set(text.splitlines())
    new_ignore = [line for line in ignore if line and not line.startswith("#") and line not in have]
    if new_ignore:
        text += ("\n" if text and not text.endswith("\n") else "") + "\n".join(new_ignore) + "\n"
    files[root / ".gitignore"] = text
    old = TextFile(root, wanted).text
    if wanted.name == "pyproject.toml":
        if not (root / "uv.lock").is_file():  # with a lock, the project adds them (uv add)
            files[wanted] = pyproject_with(old, database, requirement)
    else:
        from .pins import refuse_conflicts, requirement_lines

        refuse_conflicts(requirement_lines(wanted), {str(db["extra"])})
        files[wanted] = requirements(old, database, requirement)
    return files


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


def pyproject_install(root: Path, python: str, database: str, gateway_line: str) -> str:
    if not (root / "uv.lock").is_file():
        major, _, minor = python.partition(".")
        if (int(major), int(minor or 0)) < (3, 11):
            raise UserError(
                f"--python {python}: reading pyproject.toml in the image needs Python 3.11 or later"
            )
        return PYPROJECT_STEP
    items = _dependency_items(TextFile(root, root / "pyproject.toml").text)
    names = {_requirement_name(item) for item in items}
    wanted = {"divio-settings": _pin(database), _requirement_name(gateway_line): gateway_line}
    missing = [line for name, line in wanted.items() if name not in names]
    if missing:
        quoted = " ".join(f"'{line}'" for line in missing)
        raise UserError(
            f"the project's dependencies are locked in uv.lock: add them first (uv add {quoted}), "
            "then run init again"
        )
    return UV_STEP


def _pin(database: str) -> str:
    return f"divio-settings[{DATABASES[database]['extra']}]=={own_version()}"


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


def pyproject_with(text: str, database: str, gateway_line: str) -> str:
    """pyproject.toml with divio-settings pinned (an existing entry replaced in place, other
    extras kept) and the gateway added to [project] dependencies; every other line, comments
    included, as it was."""
    found = _dependency_array(text)
    if found is None:
        raise UserError("pyproject.toml has no [project] dependencies array init can add to")
    start, end = found
    body = text[start:end]
    items = _dependency_items(text)
    wanted = requirements("\n".join(items) + "\n", database, gateway_line).splitlines()
    if wanted == items:
        return text
    pin = next(line for line in wanted if _requirement_name(line) == "divio-settings")
    own = [item for item in items if _requirement_name(item) == "divio-settings"]
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


def settings_step(project: Project) -> str:
    """When the module init wires is not the one both manage.py and the WSGI/ASGI entry point
    name (a settings package whose production module the entry point loads; a manage.py or
    wsgi.py that names none), the image says so: the build's collectstatic, the release
    commands and the server then all read the same settings."""
    if not project.module or project.module == project.manage_module == project.entry_module:
        return ""
    return (
        "\n# The settings module the server loads; manage.py's default is for development."
        f"\nENV DJANGO_SETTINGS_MODULE={project.module}"
    )


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


# Files init owns as a whole: an existing different one is only replaced with --force, which
# keeps a backup of it.
OWNED: Final = ("Dockerfile", "docker-compose.yml", ".env-local")


def backup_name(file: TextFile) -> Path:
    candidate = file.real.with_name(file.real.name + ".bak")
    number = 1
    while candidate.exists() or candidate.is_symlink():
        candidate = file.real.with_name(f"{file.real.name}.bak.{number}")
        number += 1
    return candidate


def refuse_ignored(root: Path, files: tuple[Path, ...]) -> None:
    """The two lines in a file git ignores never reach the image (the build copies the
    repository): refused, naming the file. Outside a git checkout, or without git, nothing to
    ask."""
    import subprocess

    names = [str(path.relative_to(root)) for path in files]
    try:
        result = subprocess.run(
            ["git", "check-ignore", "--", *names],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return
    ignored = result.stdout.split() if result.returncode == 0 else []
    if ignored:
        raise UserError(
            f"{ignored[0]} is ignored by git, so what init writes there never reaches the "
            "image: wire a module the repository tracks (--settings MODULE)"
        )


def run(args: argparse.Namespace) -> int:
    import os

    root = Path(args.path).resolve()
    chosen = args.settings
    from_environment = os.environ.get("DJANGO_SETTINGS_MODULE")
    if not chosen and from_environment and module_file(root, from_environment).is_file():
        chosen = from_environment  # another project's module in the shell is not this one's
    project = find_project(root, chosen)
    refuse_ignored(root, (project.settings, project.urls))
    wanted = plan(project, args.database, args.gateway, args.python)
    changes: list[tuple[TextFile, bytes]] = []
    for path, text in wanted.items():
        file = TextFile(root, path, python=path.suffix == ".py")
        data = file.encoded(text) if file.exists else text.encode("utf-8")
        # Changed content; a new empty file (nothing to ignore, say) is not written.
        if (data != file.raw or not file.exists) and (file.exists or text):
            changes.append((file, data))
    conflicts = [file for file, _ in changes if file.path.name in OWNED and file.exists]
    if args.dry_run:
        for file, data in changes:
            name = shown_path(root, file.real)
            sys.stdout.writelines(
                difflib.unified_diff(
                    file.raw.decode(file.encoding).splitlines(keepends=True),
                    data.decode(file.encoding).splitlines(keepends=True),
                    f"a/{name}",
                    f"b/{name}",
                )
            )
        return 0
    lost = would_lose(root)
    if lost and not args.force:
        raise UserError(
            f"the project's own Docker files have what the files init writes lack "
            f"({'; '.join(lost)}): carry them into the new Dockerfile and docker-compose.yml "
            "(see --dry-run), then run init with --force"
        )
    if conflicts and not args.force:
        names = ", ".join(file.name for file in conflicts)
        verbs = "exists and differs" if len(conflicts) == 1 else "exist and differ"
        raise UserError(f"{names} already {verbs}; see --dry-run, then use --force")
    backups: list[tuple[TextFile, bytes]] = []
    for file in conflicts:
        backup = TextFile(root, backup_name(file))
        backup.mode = file.mode
        backups.append((backup, file.raw))
    write_all(backups + changes)
    for file, (backup, _) in zip(conflicts, backups, strict=True):
        print(f"backed up {file.name} to {backup.name}")
    for file, _ in changes:
        print(f"wrote {shown_path(root, file.real)}")
    if not changes:
        print("nothing to do: the project is already set up")
    for item in lost:  # --force: said once more, so that nobody forgets to carry it over
        print(f"not carried over: {item}")
    why = (
        "--settings"
        if args.settings
        else "DJANGO_SETTINGS_MODULE"
        if chosen
        else "the WSGI/ASGI entry point's"
        if project.module == project.entry_module
        else "manage.py's"
    )
    print(f"settings module: {project.module} ({why})")
    if not project.manage_module:
        print(
            "manage.py names no settings module: the image sets DJANGO_SETTINGS_MODULE; "
            f"set it to {project.module} in .env-local too to develop with it"
        )
    elif project.module != project.manage_module:
        print(
            f"manage.py loads {project.manage_module}: add the two lines at its end too to "
            "develop with them"
        )
    return 0
