"""The commands a reader is told to type (the README's two set-up commands, the tutorial's
steps), taken from the documents themselves and run as a newcomer would."""

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

from tests.helpers import ROOT, free_port, run_tool, tail, wait_port

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


def tutorial_steps() -> list[tuple[str, str]]:
    """(kind, text) for every block of docs/tutorial.md a reader types or appends, in order:
    ("$", a console command) or ("path", Python lines the step says to append to that file)."""
    text = (Path(ROOT) / "docs" / "tutorial.md").read_text()
    steps: list[tuple[str, str]] = []
    for before, kind, body in re.findall(
        r"([^\n]*)\n+```(console|python)\n(.*?)```", text, re.DOTALL
    ):
        if kind == "console":
            steps += [("$", line[2:]) for line in body.splitlines() if line.startswith("$ ")]
        else:
            target = re.findall(r"`([\w/]+\.py)`", before)
            assert target, f"a Python block without a file to append to: {before!r}"
            steps.append((target[-1], body))
    return steps


def test_tutorial_steps_run_as_typed(tmp_path):
    """Every tutorial command in one shell, in a new folder. Two substitutions only: the
    package comes from this checkout (it is not on the package index before its release), and
    runserver listens on a free port in the background."""
    checkout = tmp_path / "clone"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(*LEFTOVERS))
    site = tmp_path / "site"
    site.mkdir()
    port = free_port()
    script = ["set -euo pipefail"]
    for kind, text in tutorial_steps():
        if kind == "$":
            if text == "pip install divio-settings":
                text = f"pip install -q {checkout}"
            if text == "python manage.py runserver":
                text = (
                    f"python manage.py runserver {port} > runserver.log 2>&1 & echo $! > server.pid"
                )
            script.append(text)
        else:
            script.append(f"cat >> {kind} <<'PYTHON'\n\n{text}PYTHON")
    assert sum(kind == "$" for kind, _ in tutorial_steps()) >= 6
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "COVERAGE_"))},
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    try:
        run_tool(["bash", "-c", "\n".join(script)], cwd=site, env=env, timeout=900)
        wait_port(port, seconds=60)
        assert get(f"http://127.0.0.1:{port}/admin/login/")[0] == 200
        assert get(f"http://127.0.0.1:{port}/static/admin/css/base.css")[0] == 200
        # collectstatic wrote the hashed, compressed files and no database.
        assert list((site / "staticfiles" / "admin" / "css").glob("base.*.css.gz"))
    finally:
        pid = site / "server.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
    # startproject's SQLite file, made by migrate (step 3), not by the build step.
    assert (site / "db.sqlite3").exists()
    assert "Traceback" not in (site / "runserver.log").read_text()
