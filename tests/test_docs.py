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


def test_readme_support_table_and_extras_match_pyproject():
    pyproject = (ROOT / "pyproject.toml").read_text()
    readme = (ROOT / "README.md").read_text()
    pythons = re.findall(r"Programming Language :: Python :: (3\.\d+)\"", pyproject)
    djangos = re.findall(r"Framework :: Django :: (\d\.\d)\"", pyproject)
    header = "| | " + " | ".join(f"Python {p}" for p in pythons) + " |"
    assert header in readme
    rows = re.findall(r"^\| Django (\d\.\d)[^|]*\|(.*)\|$", readme, re.MULTILINE)
    assert [version for version, _ in rows] == djangos
    for version, cells in rows:
        supported = [
            p for p, cell in zip(pythons, cells.split("|"), strict=True) if cell.strip() == "yes"
        ]
        # Django 6.x needs Python 3.12 or later; 5.2 runs on every supported Python.
        expected = pythons if version == "5.2" else [p for p in pythons if p >= "3.12"]
        assert supported == expected, version
    extras = re.findall(
        r"^(\w+) = \[",
        pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0],
        re.MULTILINE,
    )
    assert re.findall(r"^\| `\[(\w+)\]` \|", readme, re.MULTILINE) == extras


def test_every_group_switch_is_documented():
    howto = (ROOT / "docs" / "how-to" / "index.md").read_text()
    for group in divio_settings.GROUPS:
        assert f"`{group}`" in howto


@pytest.mark.parametrize("page", ["tutorial.md", "explanation.md", "reference/settings.md"])
def test_pages_exist(page):
    assert (ROOT / "docs" / page).stat().st_size > 500


def test_tutorial_env_local_is_the_one_the_tests_use():
    """The .env-local the tutorial shows is the deploy guide's, which the e2e tests run with.
    (tests/e2e/test_typed_commands.py runs every command the tutorial tells a reader to type.)"""
    from tests.conftest import LOCAL_ENV

    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    block = tutorial.split("```text\n", 1)[1].split("```", 1)[0]
    assert dict(line.split("=", 1) for line in block.splitlines()) == dict(LOCAL_ENV)


def test_readme_links_and_doc_pages_exist():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\((?!https?://)([^)#]+)\)", readme):
        assert (ROOT / target).exists(), target
    for target in re.findall(r"`(docs/[^`]+\.md)`", readme):
        assert (ROOT / target).exists(), target
    index = (ROOT / "docs" / "index.md").read_text()
    for page in re.findall(r"^([a-z/-]+)$", index, re.MULTILINE):
        assert (ROOT / "docs" / f"{page}.md").exists(), page
