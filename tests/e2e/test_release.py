"""What a release publishes, built and checked as the release workflow does, and the
repository's CI, docs and hook files validated by the tools made for them."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_tool

pytestmark = [pytest.mark.e2e, pytest.mark.network]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(ROOT)
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run_tool([sys.executable, "-m", "build", "--outdir", out, REPO], timeout=600)
    return out


def test_sdist_and_wheel_pass_twine_check(dist):
    files = sorted(dist.iterdir())
    assert [f.name for f in files] == [
        f"divio_settings-{VERSION}-py3-none-any.whl",
        f"divio_settings-{VERSION}.tar.gz",
    ]
    result = run_tool([sys.executable, "-m", "twine", "check", "--strict", *files])
    assert result.stdout.count("PASSED") == 2


def test_wheel_holds_the_package_its_data_and_the_licence(dist):
    info = f"divio_settings-{VERSION}.dist-info"
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as wheel:
        names = set(wheel.namelist())
        meta = wheel.read(f"{info}/METADATA").decode()
    for name in (
        "divio_settings/__init__.py",
        "divio_settings/py.typed",
        "divio_settings/cli/templates/Dockerfile.tmpl",
        f"{info}/licenses/LICENSE",
        f"{info}/entry_points.txt",
    ):
        assert name in names
    assert not any(name.startswith(("tests/", "docs/")) for name in names)
    assert "License-Expression: MIT" in meta
    for label in ("Homepage", "Documentation", "Source", "Issues", "Changelog"):
        assert f"Project-URL: {label}, https://" in meta
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        members = {Path(m).name for m in sdist.getnames()}
    assert {"LICENSE", "CONTRIBUTING.md", "SECURITY.md", "CHANGELOG.md"} <= members


def test_installed_wheel_reports_the_metadata_version(dist, tmp_path):
    venv = tmp_path / "venv"
    run_tool([sys.executable, "-m", "venv", venv])
    run_tool([venv / "bin" / "pip", "install", "-q", next(dist.glob("*.whl"))], timeout=600)
    result = run_tool([venv / "bin" / "divio-settings", "--version"], cwd=tmp_path)
    assert result.stdout == f"divio-settings {VERSION}\n"


def test_github_workflows_pass_their_schema():
    # check-jsonschema ships the workflow schema (actionlint's Python wrapper downloads its
    # binary at install time, which a machine without internet cannot do).
    workflows = sorted((REPO / ".github" / "workflows").glob("*.yml"))
    assert {w.name for w in workflows} == {"tests.yml", "release.yml"}
    run_tool(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
        + [str(w) for w in workflows]
    )


def test_workflow_runs_every_tox_environment_of_ci():
    """The GitHub workflow covers what `.ci/run` runs: every environment of tox's env_list."""
    import configparser

    import yaml

    tox = configparser.ConfigParser()
    tox.read(REPO / "tox.ini")
    listed = tox["tox"]["env_list"].split()
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "tests.yml").read_text())
    jobs = workflow["jobs"]
    steps = " ".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    assert "tox -e emulators" in steps
    assert "tox -e coverage" in steps
    pythons = jobs["tests"]["strategy"]["matrix"]["python"]
    assert [f"3.{p[3:]}" for p in ("py310", "py311", "py312", "py313")] == pythons
    assert "tox run -f py${{ matrix.python }}" in steps
    singles = {env for env in listed if not env.startswith("py3")}
    assert singles - {"emulators", "coverage"} == set(jobs["checks"]["strategy"]["matrix"]["env"])
    assert any(env.startswith("py3") for env in listed)


def test_readthedocs_config_passes_its_schema_and_builds_as_tox_does():
    run_tool(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.readthedocs"]
        + [str(REPO / ".readthedocs.yaml")]
    )
    import yaml

    config = yaml.safe_load((REPO / ".readthedocs.yaml").read_text())
    assert config["sphinx"] == {"configuration": "docs/conf.py", "fail_on_warning": True}
    assert "sphinx-build -W" in (REPO / "tox.ini").read_text()


def test_pre_commit_config_is_valid_and_runs_the_lint_tools():
    run_tool(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"], cwd=REPO
    )
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    entries = [hook["entry"] for hook in hooks]
    lint = (REPO / "tox.ini").read_text().split("[testenv:lint]", 1)[1].split("\n[", 1)[0]
    # The same three tools as tox -e lint, configured only in pyproject.toml.
    for tool in ("ruff check", "ruff format --check", "mypy"):
        assert any(entry.startswith(tool) for entry in entries)
        assert tool in lint


def test_unit_tests_need_only_the_test_group(tmp_path):
    """A contributor runs the unit tests without building mysqlclient or installing a cloud SDK:
    `pip install -e . --group test`, then pytest with the unit-test marker expression."""
    venv = tmp_path / "venv"
    run_tool([sys.executable, "-m", "venv", venv])
    pip = venv / "bin" / "pip"
    run_tool([pip, "install", "-q", "pip>=25.1"], timeout=300)
    run_tool(
        [pip, "install", "-q", "-e", REPO, "--group", f"{REPO / 'pyproject.toml'}:test"],
        timeout=600,
    )
    installed = run_tool([pip, "list", "--format=freeze"]).stdout.lower()
    for service_package in ("mysqlclient", "boto3", "azure-storage-blob", "psycopg", "sentry-sdk"):
        assert f"\n{service_package}==" not in f"\n{installed}"
    unit = run_tool(
        [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:randomly", "-m", UNIT, "tests"],
        cwd=REPO,
        timeout=600,
    )
    assert " passed" in unit.stdout.splitlines()[-1]
    assert "failed" not in unit.stdout.splitlines()[-1]


UNIT = (
    "not integration and not e2e and not scaffold and not production and not network"
    " and not projects and not browser"
)
