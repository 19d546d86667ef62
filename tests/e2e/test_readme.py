"""The README's two set-up commands, taken from README.md itself and run as a newcomer would."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, run_tool, tail

pytestmark = [pytest.mark.e2e, pytest.mark.network]
LEFTOVERS = [".git", ".tox", ".venv", "build", "dist", "*.egg-info", "__pycache__", "_build"]
LEFTOVERS += [".mypy_cache", ".ruff_cache", ".hypothesis", ".coverage*", "htmlcov"]


def readme_commands() -> list[str]:
    """The console blocks under "Set-up commands", in order."""
    text = (Path(ROOT) / "README.md").read_text()
    section = text.split("## Set-up commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```console\n(.+?)\n```", section, re.DOTALL)


def test_readme_has_exactly_two_set_up_commands_and_ci_runs_the_second():
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    ci = (Path(ROOT) / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("django", ["newest", "5.2"])
def test_first_readme_command_ends_in_a_working_server(tmp_path, django):
    """Verbatim, in a fresh virtualenv, in a copy of the checkout, with nothing in $HOME or
    $TMPDIR from an earlier run."""
    # What a fresh clone holds: the working tree without build, tox or cache leftovers.
    checkout = tmp_path / "clone"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(*LEFTOVERS))
    venv = tmp_path / "venv"
    run_tool([sys.executable, "-m", "venv", venv])
    if django != "newest":  # a user who already has this Django keeps it
        run_tool([venv / "bin" / "pip", "install", "-q", f"django~={django}.0"], timeout=600)
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "COVERAGE_"))},
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(home),
        "TMPDIR": str(temp),
        "PORT": str(port),
    }
    log = tmp_path / "command.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", readme_commands()[0]],
            cwd=checkout,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # runserver and its reloader stop with the group
        )
    try:
        deadline = time.monotonic() + 600
        while True:
            assert process.poll() is None, f"the command stopped:\n{tail(log.read_bytes())}"
            assert time.monotonic() < deadline, f"no server after 600 s:\n{tail(log.read_bytes())}"
            try:
                status, page = get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200
        assert b"The install worked successfully!" in page
        status, page = get(f"http://127.0.0.1:{port}/admin/login/")
        assert status == 200
        assert b'name="csrfmiddlewaretoken"' in page
        status, css = get(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert status == 200
        assert b"body" in css
        version = run_tool([venv / "bin" / "python", "-m", "django", "--version"]).stdout
        if django != "newest":
            assert version.startswith(django + ".")
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
