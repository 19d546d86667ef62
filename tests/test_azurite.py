"""The step that installs the Azure emulator for the storage tests (tests/azurite.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import azurite
from tests.helpers import ROOT, child_env, free_port, run_tool

# The test harness's own npm installer of the emulator, not the library.
pytestmark = pytest.mark.e2e

SCRIPT = Path(ROOT) / "tests" / "azurite.py"


def npm_or_skip() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm (Node.js) is not installed")
    return npm


def test_cache_root_follows_xdg_cache_home(tmp_path):
    assert azurite.cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "divio-settings"
    assert azurite.cache_root({}) == Path.home() / ".cache" / "divio-settings"


def test_npm_failure_shows_npm_own_error_and_leaves_nothing(tmp_path):
    npm_or_skip()
    env = {
        **child_env(),
        "HOME": str(tmp_path),
        # A registry nobody answers, and no retries: npm fails at once with its reason.
        "npm_config_registry": f"http://127.0.0.1:{free_port()}/",
        "npm_config_fetch_retries": "0",
        "npm_config_cache": str(tmp_path / "npm-cache"),
    }
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path / "root")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert f"npm install azurite@{azurite.VERSION} failed with exit status" in result.stderr
    assert "ECONNREFUSED" in result.stderr  # npm's own words, not only a status
    # No half install under the final name, no staging folder left behind.
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == [
        f".azurite-{azurite.VERSION}.lock"
    ]


def test_missing_emulator_fails_with_the_install_command_when_services_are_required(tmp_path):
    env = {
        **child_env(),
        "XDG_CACHE_HOME": str(tmp_path),
        "DIVIO_SETTINGS_REQUIRE_SERVICES": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", "-k", "azure_round_trip"]
        + ["tests/integration/test_storage_servers.py"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert f"Azurite {azurite.VERSION} is not installed in {tmp_path}" in result.stdout
    assert "run tox -e emulators" in result.stdout
    assert "2 errors" in result.stdout  # a fixture fails: both Azure tests, none skipped


@pytest.mark.network
def test_two_installs_at_once_give_one_working_install(tmp_path):
    npm_or_skip()
    root = tmp_path / "cache"
    # A folder left by an interrupted install (before installs were atomic) is replaced.
    (azurite.target(root) / "node_modules").mkdir(parents=True)
    env = {**os.environ, "npm_config_cache": str(tmp_path / "npm-cache")}
    command = [sys.executable, str(SCRIPT), "--root", str(root)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outputs = [process.communicate(timeout=900) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [f"azurite-{azurite.VERSION}", f".azurite-{azurite.VERSION}.lock"]
    )
    version = run_tool([azurite.binary(root), "--version"], timeout=60)
    assert version.stdout.strip() == azurite.VERSION
    # Once installed, the step is a no-op that says where the command is.
    again = run_tool(command, env=env, timeout=60)
    assert again.stdout.strip() == f"azurite {azurite.VERSION}: {azurite.binary(root)}"
