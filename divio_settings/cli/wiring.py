"""What init adds to the project's own Python files: the two lines in the settings module and in
urls.py, and the lines a move needs after apply() because apply() changed what they depend on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from .files import TextFile, shown_path
from .keep import media_static
from .project import Project, calls, load_settings

SETTINGS_LINES: Final = "\nimport divio_settings\n\ndivio_settings.apply(globals())\n"
URLS_LINES: Final = (
    "\nfrom divio_settings.urls import media_urlpatterns\n\nurlpatterns += media_urlpatterns()\n"
)
# Apps whose models need django.contrib.postgres once the database is PostgreSQL (Wagtail's
# search index declares a GinIndex there: migrate stops at postgres.E005 without it). The move
# makes the database PostgreSQL, so the move adds the app, after apply(), only on PostgreSQL.
NEED_POSTGRES_CONTRIB: Final = ("wagtail.search",)
POSTGRES_CONTRIB_LINES: Final = (
    "\n# {app} needs django.contrib.postgres on PostgreSQL (written by divio-settings init).\n"
    'if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (\n'
    '    "django.contrib.postgres" not in INSTALLED_APPS\n'
    "):\n"
    '    INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]\n'
)
# The template's lines for files the project's settings decide about (the others are Python's,
# the Divio CLI's and the OS's, whatever the settings say).
MADE_BY_SETTINGS: Final = ("db.sqlite3", "/staticfiles")


def imported(project: Project) -> Any | None:
    """The project's settings module as this shell's environment imports it; None when the
    project's own code fails here (it may need its environment)."""
    try:
        return load_settings(project.root, os.environ, project.module)
    except Exception:
        return None


def wiring(project: Project, database: str, settings: Any | None) -> dict[Path, str]:
    """settings.py and urls.py with the two lines each, unless they already call them."""
    root = project.root
    text = TextFile(root, project.settings, python=True).text
    if not calls(text, shown_path(root, project.settings), "apply", "divio_settings"):
        text = text.rstrip("\n") + "\n" + SETTINGS_LINES + derived_lines(database, settings)
    urls = TextFile(root, project.urls, python=True).text
    if not calls(urls, shown_path(root, project.urls), "media_urlpatterns", "urls"):
        urls = urls.rstrip("\n") + "\n" + URLS_LINES
    urls, _ = media_static(urls)  # the guide's DEBUG-only static() of MEDIA_URL: replaced
    return {project.settings: text, project.urls: urls}


def derived_lines(database: str, settings: Any | None) -> str:
    apps = [str(app) for app in getattr(settings, "INSTALLED_APPS", ())]
    needing = [app for app in NEED_POSTGRES_CONTRIB if app in apps]
    if database != "postgres" or not needing or "django.contrib.postgres" in apps:
        return ""
    return POSTGRES_CONTRIB_LINES.format(app=needing[0])


def project_made(project: Project, settings: Any | None) -> set[str] | None:
    """Which of MADE_BY_SETTINGS the project's settings make, its own STATIC_ROOT's line in
    place of /staticfiles; None when the settings cannot be read here (all of them, then)."""
    if settings is None:
        return None
    made: set[str] = set()
    static_root = getattr(settings, "STATIC_ROOT", None)  # else apply()'s <BASE_DIR>/staticfiles
    root = str(project.root.resolve())
    path = os.path.realpath(str(static_root)) if static_root else os.path.join(root, "staticfiles")
    if os.path.commonpath([root, path]) == root and path != root:
        made.add("/" + os.path.relpath(path, root).replace(os.sep, "/"))
    databases = getattr(settings, "DATABASES", None) or {}
    names = [str(db.get("NAME", "")) for db in databases.values() if isinstance(db, dict)]
    if any(name.endswith("db.sqlite3") for name in names):
        made.add("db.sqlite3")
    return made
