"""`divio-settings init`: write the files of Divio's deployment guide into a Django project."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Final

from .docker import would_lose
from .errors import UserError
from .files import TextFile, shown_path, write_all
from .keep import COMPOSE_NAMES, lacks, media_static
from .pins import refuse_conflicts, requirement_files, requirement_lines
from .project import Project, find_project, module_file
from .requirements import (
    DATABASES,
    build_packages,
    pin_extras,
    pyproject_install,
    pyproject_with,
    requirements,
    requirements_file,
)
from .wiring import MADE_BY_SETTINGS, imported, project_made, wiring

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


def template(name: str) -> str:
    return (resources.files("divio_settings.cli") / "templates" / name).read_text("utf-8")


def plan(
    project: Project, database: str, gateway: str, python: str, storage: str
) -> dict[Path, str]:
    """Every file init writes, with the text it should have afterwards (LF line endings)."""
    root = project.root
    requirement = GATEWAYS[gateway][0]
    wanted = requirements_file(root)
    files = _docker_files(project, database, gateway, python, wanted, storage)
    settings = imported(project)
    files.update(wiring(project, database, settings))
    files[root / ".gitignore"] = _gitignore(
        TextFile(root, root / ".gitignore").text, project_made(project, settings)
    )
    old = TextFile(root, wanted).text
    if wanted.name == "pyproject.toml":
        if not (root / "uv.lock").is_file():  # with a lock, the project adds them (uv add)
            files[wanted] = pyproject_with(old, database, requirement, storage)
    else:
        refuse_conflicts(requirement_lines(wanted), pin_extras(database, storage))
        files[wanted] = requirements(old, database, requirement, storage)
    return files


def _docker_files(
    project: Project, database: str, gateway: str, python: str, wanted: Path, storage: str
) -> dict[Path, str]:
    """The guide's Dockerfile, docker-compose.yml and .env-local for this project."""
    root, db = project.root, DATABASES[database]
    requirement, command = GATEWAYS[gateway]
    # What the project's own requirements need to build on the slim image (psycopg[c], …).
    own = build_packages(line for _, line in requirement_lines(wanted))
    step = system_step({*db["packages"], *GATEWAY_PACKAGES.get(gateway, ()), *own})
    listed = wanted.relative_to(root).as_posix()
    if wanted.name == "pyproject.toml":
        install = pyproject_install(root, python, database, requirement, storage)
    else:
        install = copy_steps(root, wanted) + f"\nRUN pip install --no-cache-dir -r {listed}"
    return {
        root / "Dockerfile": template("Dockerfile.tmpl").format(
            python=python,
            system_step=step,
            install_step=install,
            settings_step=settings_step(project),
            command=command.format(package=project.package),
        ),
        compose_file(root): template("docker-compose.yml.tmpl").format(
            database_service=template(f"database-{database}.yml.tmpl"),
            web_environment=web_environment(project),
        ),
        root / ".env-local": template("env-local.tmpl").format(database_url=db["url"]),
    }


def _gitignore(text: str, made: set[str] | None = None) -> str:
    """The project's .gitignore with the guide's lines it lacks added at its end: of the lines
    for files the settings decide about, only what the project's settings make (*made*)."""
    have = set(text.splitlines())
    lines = [line for line in template("gitignore.tmpl").splitlines() if line]
    if made is not None:
        lines = [line for line in lines if line not in MADE_BY_SETTINGS]
        lines += sorted(made)
    new = [line for line in lines if not line.startswith("#") and line not in have]
    if new:
        text += ("\n" if text and not text.endswith("\n") else "") + "\n".join(new) + "\n"
    return text


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


def compose_file(root: Path) -> Path:
    """The project's compose file under the name it has (compose.yaml …), else the guide's."""
    return next(
        (root / name for name in COMPOSE_NAMES if (root / name).is_file()), root / COMPOSE_NAMES[0]
    )


def copy_steps(root: Path, wanted: Path) -> str:
    """COPY lines for the requirements file and every file it includes (-r, -c): a file at the
    project's top, or the top folder of one below it (requirements/), each once."""
    targets: list[str] = []
    for path in requirement_files(wanted) or [wanted]:  # init writes it when it is missing
        try:
            parts = path.resolve().relative_to(root.resolve()).parts
        except ValueError:
            continue  # outside the project: the build cannot copy it anyway
        target = parts[0]
        if target not in targets:
            targets.append(target)
    return "\n".join(f"COPY {target} /app/{target}" for target in targets)


def system_step(packages: set[str]) -> str:
    if not packages:
        return "# RUN apt-get update && apt-get install -y --no-install-recommends <packages>"
    return (
        "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends "
        + " ".join(sorted(packages))
        + " \\\n    && rm -rf /var/lib/apt/lists/*"
    )


def web_environment(project: Project) -> str:
    """When the image names the production module (settings_step), the local runserver keeps
    manage.py's own: the image's ENV would otherwise win over manage.py's setdefault."""
    if not settings_step(project) or not project.manage_module:
        return ""
    return f'\n    environment:\n      DJANGO_SETTINGS_MODULE: "{project.manage_module}"'


# Files init owns as a whole: an existing different one is only replaced with --force, which
# keeps a backup of it.
OWNED: Final = ("Dockerfile", *COMPOSE_NAMES, ".env-local")


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
    root = Path(args.path).resolve()
    chosen = args.settings
    from_environment = os.environ.get("DJANGO_SETTINGS_MODULE")
    if not chosen and from_environment and module_file(root, from_environment).is_file():
        chosen = from_environment  # another project's module in the shell is not this one's
    project = find_project(root, chosen)
    refuse_ignored(root, (project.settings, project.urls))
    changes = _changes(root, plan(project, args.database, args.gateway, args.python, args.storage))
    keep = getattr(args, "keep_docker", False)
    if keep:  # the project's own Docker files stay as they are
        changes = [(file, data) for file, data in changes if file.path.name not in OWNED]
    if args.dry_run:
        _print_diff(root, changes)
        return 0
    conflicts = [file for file, _ in changes if file.path.name in OWNED and file.exists]
    lost = [] if keep else would_lose(root)
    if not args.force:
        _refuse(lost, conflicts)
    urls = TextFile(root, project.urls, python=True)
    media_note = media_static(urls.text)[1] if urls.exists else None
    _write(root, changes, conflicts)
    for item in lost:  # --force: said once more, so that nobody forgets to carry it over
        print(f"not carried over: {item}")
    if media_note:  # the project's own static() of MEDIA_URL: replaced, or named
        print(media_note)
    if keep:
        module = project.module if settings_step(project) else None
        for line in lacks(root, module):
            print(line)
    _say_module(project, args.settings, chosen)
    return 0


def _refuse(lost: list[str], conflicts: list[TextFile]) -> None:
    """Without --force, nothing of the project's own Docker files is replaced or dropped."""
    if lost:
        raise UserError(
            f"the project's own Docker files have what the files init writes lack "
            f"({'; '.join(lost)}): carry them into the new Dockerfile and docker-compose.yml "
            "(see --dry-run), then run init with --force; or keep them with --keep-docker"
        )
    if conflicts:
        names = ", ".join(file.name for file in conflicts)
        verbs = "exists and differs" if len(conflicts) == 1 else "exist and differ"
        raise UserError(
            f"{names} already {verbs}; see --dry-run, then use --force (replace) or "
            "--keep-docker (keep the project's Docker files, wire the rest)"
        )


def _changes(root: Path, wanted: dict[Path, str]) -> list[tuple[TextFile, bytes]]:
    """The files whose content changes (a new empty file, nothing to ignore say, is not one)."""
    changes: list[tuple[TextFile, bytes]] = []
    for path, text in wanted.items():
        file = TextFile(root, path, python=path.suffix == ".py")
        data = file.encoded(text) if file.exists else text.encode("utf-8")
        if (data != file.raw or not file.exists) and (file.exists or text):
            changes.append((file, data))
    return changes


def _print_diff(root: Path, changes: list[tuple[TextFile, bytes]]) -> None:
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


def _write(root: Path, changes: list[tuple[TextFile, bytes]], conflicts: list[TextFile]) -> None:
    """Every change at once, after a backup of each file it replaces (--force)."""
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


def _say_module(project: Project, given: str | None, chosen: str | None) -> None:
    """Which settings module init wired, why, and what the developer still has to do."""
    why = (
        "--settings"
        if given
        else "DJANGO_SETTINGS_MODULE"
        if chosen
        else project.chosen_by
        if project.chosen_by
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
