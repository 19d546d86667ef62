"""`divio-settings init`: write the files of Divio's deployment guide into a Django project."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import re
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Final

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
# load balancer's X-Forwarded-Proto; without them uvicorn loops on the https redirect.
GATEWAYS: Final = {
    "gunicorn": (
        "gunicorn==27.0.1",
        'gunicorn --bind=0.0.0.0:80 --forwarded-allow-ips="*" {package}.wsgi',
    ),
    "uvicorn": (
        "uvicorn==0.54.0",
        'uvicorn --host=0.0.0.0 --port=80 --proxy-headers --forwarded-allow-ips="*" '
        "{package}.asgi:application",
    ),
    "uwsgi": (
        "uwsgi==2.0.31",
        "uwsgi --http=0.0.0.0:80 --module={package}.wsgi --master --die-on-term",
    ),
}
GATEWAY_PACKAGES: Final = {"uwsgi": ("build-essential",)}
SETTINGS_LINES: Final = "\nimport divio_settings\n\ndivio_settings.apply(globals())\n"
URLS_LINES: Final = (
    "\nfrom divio_settings.urls import media_urlpatterns\n\nurlpatterns += media_urlpatterns()\n"
)
_SETTINGS_MODULE: Final = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_URLCONF: Final = re.compile(r"""^ROOT_URLCONF\s*=\s*["']([\w.]+)["']""", re.MULTILINE)


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1, no traceback."""


@dataclasses.dataclass(frozen=True)
class Project:
    root: Path
    package: str
    settings: Path
    urls: Path


def module_file(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def find_project(path: Path) -> Project:
    manage = path / "manage.py"
    if not manage.is_file():
        raise UserError(f"no manage.py in {path}: run init in a Django project's directory")
    match = _SETTINGS_MODULE.search(manage.read_text(encoding="utf-8"))
    if not match:
        raise UserError("manage.py does not name DJANGO_SETTINGS_MODULE")
    module = match.group(1)
    settings = module_file(path, module)
    if not settings.is_file():
        raise UserError(f"the settings module {module} is not a file below {path}")
    urlconf = _URLCONF.search(settings.read_text(encoding="utf-8"))
    urls = module_file(path, urlconf.group(1)) if urlconf else settings.with_name("urls.py")
    return Project(path, module.split(".")[0], settings, urls)


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


def appended(old: str | None, lines: list[str]) -> str:
    """*old* plus those of *lines* whose package (or line) it does not have yet."""
    text = old or ""
    present = {_requirement_name(line) for line in text.splitlines() if line.strip()}
    missing = [line for line in lines if _requirement_name(line) not in present]
    if not missing:
        return text
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(line + "\n" for line in missing)


def plan(project: Project, database: str, gateway: str, python: str) -> dict[Path, str]:
    """Every file init writes, with the content it should have afterwards."""
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
    files = {
        root / "Dockerfile": template("Dockerfile.tmpl").format(
            python=python, system_step=step, command=command.format(package=project.package)
        ),
        root / "docker-compose.yml": template("docker-compose.yml.tmpl").format(
            database_service=template(f"database-{database}.yml.tmpl")
        ),
        root / ".env-local": template("env-local.tmpl").format(database_url=db["url"]),
    }
    current = {path: read(path) for path in (project.settings, project.urls)}
    settings_text = current[project.settings] or ""
    if "divio_settings.apply(" not in settings_text:
        settings_text = settings_text.rstrip("\n") + "\n" + SETTINGS_LINES
    files[project.settings] = settings_text
    urls_text = current[project.urls] or ""
    if "media_urlpatterns" not in urls_text:
        urls_text = urls_text.rstrip("\n") + "\n" + URLS_LINES
    files[project.urls] = urls_text
    ignore = template("gitignore.tmpl").splitlines()
    old_ignore = read(root / ".gitignore")
    have = set((old_ignore or "").splitlines())
    new_ignore = [line for line in ignore if line and not line.startswith("#") and line not in have]
    text = old_ignore or ""
    if new_ignore:
        text += ("\n" if text and not text.endswith("\n") else "") + "\n".join(new_ignore) + "\n"
    files[root / ".gitignore"] = text
    files[root / "requirements.txt"] = appended(
        read(root / "requirements.txt"),
        [f"divio-settings[{db['extra']}]=={own_version()}", requirement],
    )
    return files


def read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


# Files init owns as a whole: an existing different one is only replaced with --force.
OWNED: Final = ("Dockerfile", "docker-compose.yml", ".env-local")


def run(args: argparse.Namespace) -> int:
    project = find_project(Path(args.path).resolve())
    files = plan(project, args.database, args.gateway, args.python)
    changed = {path: new for path, new in files.items() if read(path) != new}
    conflicts = [path for path in changed if path.name in OWNED and read(path) is not None]
    if args.dry_run:
        for path, new in changed.items():
            old = read(path) or ""
            name = str(path.relative_to(project.root))
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"a/{name}",
                    f"b/{name}",
                )
            )
        return 0
    if conflicts and not args.force:
        names = ", ".join(str(path.relative_to(project.root)) for path in conflicts)
        raise UserError(f"{names} already exist and differ; see --dry-run, then use --force")
    for path, new in changed.items():
        path.write_text(new, encoding="utf-8")
        print(f"wrote {path.relative_to(project.root)}")
    if not changed:
        print("nothing to do: the project is already set up")
    return 0
