"""The docs cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import divio_settings
from divio_settings import (
    caches,
    database,
    domains,
    logs,
    mail,
    security,
    sentry,
    static,
    storage,
    tasks,
)

ROOT = Path(__file__).parent.parent
REGISTRIES = (domains, security, database, static, storage, caches, mail, logs, sentry, tasks)


def registered() -> list[str]:
    return [variable.name for module in REGISTRIES for variable in module.VARIABLES]


def test_variables_reference_lists_exactly_the_registered_variables():
    text = (ROOT / "docs" / "reference" / "variables.md").read_text()
    assert re.findall(r"^## `([^`]+)`$", text, re.MULTILINE) == registered()


def test_code_reads_only_registered_variables():
    names = set(registered())
    read: set[str] = set()
    for path in (ROOT / "divio_settings").glob("*.py"):
        found = re.findall(r'\(env, "([A-Z_]+)"', path.read_text())
        read.update("<PREFIX>" + name if name.startswith("_") else name for name in found)
    assert read, "no variable reads found"
    assert read <= names, read - names


def test_readme_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    for name in registered():
        assert f"`{name}`" in readme


def test_readme_support_statement_matches_classifiers():
    pyproject = (ROOT / "pyproject.toml").read_text()
    pythons = re.findall(r"Programming Language :: Python :: (3\.\d+)\"", pyproject)
    djangos = re.findall(r"Framework :: Django :: (\d\.\d)\"", pyproject)
    readme = (ROOT / "README.md").read_text()
    assert f"Python {pythons[0]} to {pythons[-1]}" in readme
    assert "Django " + ", ".join(djangos[:-1]) + f" and {djangos[-1]}" in readme


def test_every_group_switch_is_documented():
    howto = (ROOT / "docs" / "how-to" / "index.md").read_text()
    for group in divio_settings.GROUPS:
        assert f"`{group}`" in howto


@pytest.mark.parametrize("page", ["tutorial.md", "explanation.md", "reference/settings.md"])
def test_pages_exist(page):
    assert (ROOT / "docs" / page).stat().st_size > 500


def test_tutorial_matches_what_the_end_to_end_tests_run():
    """The tutorial's lines, commands and .env-local are the ones tests/e2e executes."""
    from tests.conftest import LOCAL_ENV

    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    for line in (
        "import divio_settings\ndivio_settings.apply(globals())",
        "from divio_settings.urls import media_urlpatterns\nurlpatterns += media_urlpatterns()",
        "$ django-admin startproject mysite .",
        "$ python manage.py migrate",
        "$ python manage.py runserver",
        "$ python manage.py collectstatic --noinput",
    ):
        assert line in tutorial, line
    for name, value in LOCAL_ENV.items():
        assert f"{name}={value}" in tutorial
    e2e = (ROOT / "tests" / "e2e" / "test_startproject.py").read_text()
    assert "import divio_settings\\ndivio_settings.apply(globals())" in e2e
    assert '"collectstatic", "--noinput"' in e2e
    assert 'manage(project, "migrate")' in e2e


def test_readme_links_and_doc_pages_exist():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\((?!https?://)([^)#]+)\)", readme):
        assert (ROOT / target).exists(), target
    for target in re.findall(r"`(docs/[^`]+\.md)`", readme):
        assert (ROOT / target).exists(), target
    index = (ROOT / "docs" / "index.md").read_text()
    for page in re.findall(r"^([a-z/-]+)$", index, re.MULTILINE):
        assert (ROOT / "docs" / f"{page}.md").exists(), page
