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


def tutorial_steps() -> list[str]:
    """Every console command of docs/tutorial.md, in order."""
    text = (Path(ROOT) / "docs" / "tutorial.md").read_text()
    blocks = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    return [line[2:] for body in blocks for line in body.splitlines() if line.startswith("$ ")]


def tutorial_expected() -> tuple[list[str], str]:
    """What the tutorial says the reader sees: the lines it appends to settings.py and urls.py
    (its first two text blocks), and the excerpt of `show` (its last)."""
    text = (Path(ROOT) / "docs" / "tutorial.md").read_text()
    blocks = re.findall(r"```text\n(.*?)```", text, re.DOTALL)
    return blocks[:2], blocks[-1]


def snapshot_repository(tmp_path: Path) -> Path:
    """The working tree as a repository of its own (what a clone of main holds, this session's
    uncommitted changes included), and git told to fetch the tutorial's clone URL from it: the
    network is the only thing replaced, the command runs as written."""
    source = tmp_path / "origin"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFTOVERS))
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    run_tool([*git, "init", "-q"])
    run_tool([*git, "add", "-A"])
    run_tool([*git, "commit", "-q", "-m", "snapshot"])
    url = re.search(
        r"^\$ git clone (\S+)$", (Path(ROOT) / "docs" / "tutorial.md").read_text(), re.M
    )
    assert url
    # The clone URL, and the same without ".git" (pip's git+https:// line in the README).
    prefixes = {url.group(1), url.group(1).removesuffix(".git")}
    lines = "".join(f"\tinsteadOf = {prefix}\n" for prefix in sorted(prefixes))
    (tmp_path / ".gitconfig").write_text(f'[url "{source}"]\n{lines}')
    return source


def test_tutorial_steps_run_as_typed(tmp_path):
    """Every tutorial command in one bash, in a new folder, as written (git's clone URL is
    served from this working tree; runserver listens on a free port in the background), and
    what the page says the reader sees is what they see."""
    snapshot_repository(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    port = free_port()
    script = ["set -euo pipefail"]
    for text in tutorial_steps():
        if text == "python manage.py runserver":
            text = f"python manage.py runserver {port} > runserver.log 2>&1 & echo $! > server.pid"
        script.append(text)
    assert len(tutorial_steps()) >= 8
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "SSL_", "COVERAGE_"))},
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    try:
        done = run_tool(["bash", "-c", "\n".join(script)], cwd=site, env=env, timeout=900)
        wait_port(port, seconds=60)
        assert get(f"http://127.0.0.1:{port}/admin/login/")[0] == 200
        assert get(f"http://127.0.0.1:{port}/static/admin/css/base.css")[0] == 200
        status, page = get(f"http://127.0.0.1:{port}/")
        assert status == 404
        assert b"Page not found" in page
        assert b"admin/" in page
        # collectstatic wrote the hashed, compressed files and no database.
        assert list((site / "staticfiles" / "admin" / "css").glob("base.*.css.gz"))
    finally:
        pid = site / "server.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
    out = done.stdout
    assert "Successfully installed" in out
    assert "divio-settings-0.1.0" in out
    for name in ("Dockerfile", "docker-compose.yml", ".env-local", "mysite/settings.py"):
        assert f"wrote {name}\n" in out
    assert "settings module: mysite.settings (the WSGI/ASGI entry point's)" in out
    assert "static files copied to" in out
    (settings_lines, urls_lines), shown = tutorial_expected()
    assert (site / "mysite" / "settings.py").read_text().endswith(settings_lines)
    assert (site / "mysite" / "urls.py").read_text().endswith(urls_lines)
    for line in shown.splitlines():
        assert line in out, line
    assert (site / "requirements.txt").read_text().startswith("divio-settings[postgres,s3]==")
    # startproject's SQLite file, made by migrate (step 3), not by the build step.
    assert (site / "db.sqlite3").exists()
    assert "Traceback" not in (site / "runserver.log").read_text()
    # The README's install line (from the repository, before a release) resolves the same way.
    readme = (Path(ROOT) / "README.md").read_text()
    install = re.search(r'^(pip install "divio-settings\[[\w,]+\] @ git\+\S+")$', readme, re.M)
    assert install
    fetched = run_tool(
        ["bash", "-c", install.group(1).replace("pip install", "pip download --no-deps -d dl", 1)],
        cwd=site,
        env={**env, "PATH": f"{site / '.venv' / 'bin'}:{env['PATH']}"},
        timeout=600,
    )
    assert "Saved" in fetched.stdout
    assert list((site / "dl").glob("divio*"))
