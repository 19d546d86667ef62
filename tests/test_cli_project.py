"""`divio-settings init` and `--env-file` never damage or leak out of a user's project: all or
nothing, no link out of the project, files kept as they were, bounded input, no traceback."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from divio_settings.cli import envfile, errors, files, main
from tests.helpers import LIVE_ENV, ROOT, child_env

PROJECT_FILES = (
    "Dockerfile",
    "docker-compose.yml",
    ".env-local",
    ".gitignore",
    "requirements.txt",
    "mysite/settings.py",
    "mysite/urls.py",
)

# The command on real startproject copies, often in child processes (tox: the e2e layer).
pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path, new_project: Callable[[Path], Path]) -> Path:
    return new_project(tmp_path / "site")


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        name: (root / name).read_bytes() if (root / name).is_file() else None
        for name in PROJECT_FILES
    }


# --- all or nothing -------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["write", "rename"])
def test_a_failure_half_way_leaves_every_file_as_it_was(project, monkeypatch, capsys, failing):
    (project / "requirements.txt").write_text("Django==5.2\n")
    before = snapshot(project)
    calls = {"count": 0}
    real_fdopen, real_replace = os.fdopen, os.replace

    def full_disk(fd, *args, **kwargs):  # the fourth file cannot be written
        calls["count"] += 1
        if calls["count"] == 4:
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    def failing_rename(source, target):  # the fourth rename fails after three succeeded
        calls["count"] += 1
        if calls["count"] == 4:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, target)

    if failing == "write":
        monkeypatch.setattr(os, "fdopen", full_disk)
    else:
        monkeypatch.setattr(os, "replace", failing_rename)
    assert main(["init", str(project)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert ("No space left on device; no file was changed" in err) == (failing == "write")
    assert ("were put back" in err) == (failing == "rename")
    assert snapshot(project) == before
    leftovers = [p.name for p in project.rglob("*.divio-settings")]
    assert leftovers == []
    # And a second run, with the disk healthy again, does the whole job once.
    monkeypatch.undo()
    assert main(["init", str(project)]) == 0
    assert (project / "mysite" / "settings.py").read_text().count(
        "divio_settings.apply(globals())"
    ) == 1


def test_a_full_small_filesystem_changes_nothing(tmp_path, capsys, new_project):
    """A real small tmpfs, filled up before init runs."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        root = new_project(mount / "site")
        filler = mount / "filler"
        with open(filler, "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"x" * 512)
            except OSError:
                pass  # the disk is full
        before = snapshot(root)
        assert main(["init", str(root)]) == 1
        assert "no file was changed" in capsys.readouterr().err
        assert snapshot(root) == before
        filler.unlink()
        assert main(["init", str(root)]) == 0
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_target_that_is_a_directory_stops_before_any_write(project, capsys):
    (project / "Dockerfile").mkdir()
    before = snapshot(project)
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: Dockerfile is not a regular file: refusing to read or replace it\n"
    )
    assert snapshot(project) == before


def test_three_inits_at_once_leave_a_working_project(project):
    command = [sys.executable, "-m", "divio_settings", "init", str(project)]
    env = {**child_env(), "PYTHONPATH": ROOT}
    for _ in range(3):
        runs = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE) for _ in range(3)]
        for run in runs:
            assert run.wait(timeout=120) == 0, run.stderr.read() if run.stderr else ""
            if run.stderr:
                run.stderr.close()
    settings = (project / "mysite" / "settings.py").read_text()
    assert settings.count("divio_settings.apply(globals())") == 1
    compile(settings, "settings.py", "exec")
    assert not list(project.rglob("*.divio-settings"))


# --- inside the project only ----------------------------------------------------------------


@pytest.mark.parametrize("dangling", [False, True])
def test_links_out_of_the_project_are_refused(project, tmp_path, capsys, dangling):
    outside = tmp_path / "outside.txt"
    if not dangling:
        outside.write_text("someone else's file\n")
    (project / "requirements.txt").symlink_to(outside)
    before = snapshot(project)
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        f"divio-settings: requirements.txt is a link to {outside}, outside the project: "
        "refusing to write through it\n"
    )
    assert snapshot(project) == before
    assert outside.exists() is not dangling
    if not dangling:
        assert outside.read_text() == "someone else's file\n"
    assert main(["init", str(project), "--dry-run"]) == 1


def test_a_link_inside_the_project_is_written_through_and_named(project, capsys):
    (project / "deps").mkdir()
    (project / "deps" / "base.txt").write_text("Django==5.2\n")
    (project / "requirements.txt").symlink_to(project / "deps" / "base.txt")
    assert main(["init", str(project)]) == 0
    assert "wrote deps/base.txt\n" in capsys.readouterr().out
    assert (project / "requirements.txt").is_symlink()
    assert (project / "deps" / "base.txt").read_text().startswith("Django==5.2\ndivio-settings[")


def test_a_fifo_or_device_is_never_a_target(project, capsys):
    os.mkfifo(project / ".env-local")
    assert main(["init", str(project)]) == 1
    assert "divio-settings: .env-local is not a regular file" in capsys.readouterr().err


# --- kept as they were ----------------------------------------------------------------------


def test_crlf_settings_keep_their_line_endings_and_the_dry_run_shows_four_lines(project, capsys):
    settings = project / "mysite" / "settings.py"
    original = settings.read_bytes().replace(b"\n", b"\r\n")
    settings.write_bytes(original)
    assert main(["init", str(project), "--dry-run"]) == 0
    diff = capsys.readouterr().out
    section = diff.split("+++ b/mysite/settings.py\n", 1)[1].split("--- a/", 1)[0]
    added = [line for line in section.splitlines() if line.startswith("+")]
    removed = [line for line in section.splitlines() if line.startswith("-")]
    assert len(added) == 4
    assert removed == []
    assert main(["init", str(project)]) == 0
    new = settings.read_bytes()
    assert new.startswith(original)
    assert (
        new[len(original) :]
        == b"\r\nimport divio_settings\r\n\r\ndivio_settings.apply(globals())\r\n"
    )


def test_latin1_files_stay_latin1(project):
    settings = project / "mysite" / "settings.py"
    text = "# -*- coding: latin-1 -*-\n# Réglages de l'équipe\n" + settings.read_text()
    settings.write_bytes(text.encode("latin-1"))
    manage = project / "manage.py"
    manage.write_bytes(b"# -*- coding: latin-1 -*-\n# \xe9\n" + manage.read_bytes())
    assert main(["init", str(project)]) == 0
    new = settings.read_bytes()
    assert new.startswith(text.encode("latin-1"))
    assert new.decode("latin-1").endswith("divio_settings.apply(globals())\n")


def test_undeclared_latin1_is_one_line_not_a_traceback(project, capsys):
    settings = project / "mysite" / "settings.py"
    settings.write_bytes(settings.read_bytes() + "# équipe\n".encode("latin-1"))
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: mysite/settings.py cannot be read as utf-8; "
        "declare its encoding in a '# -*- coding: …' line\n"
    )


def test_a_commented_out_call_is_not_wiring(project):
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n# divio_settings.apply(globals())\n")
    urls = project / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + '\n"""urlpatterns += media_urlpatterns()"""\n')
    assert main(["init", str(project)]) == 0
    assert settings.read_text().endswith("\ndivio_settings.apply(globals())\n")
    assert urls.read_text().endswith("\nurlpatterns += media_urlpatterns()\n")


def test_force_keeps_a_backup_and_says_so(project, capsys):
    (project / ".env-local").write_text("SECRET_KEY=mine\n")
    (project / ".env-local.bak").write_text("an older backup\n")
    assert main(["init", str(project), "--force"]) == 0
    out = capsys.readouterr().out
    assert "backed up .env-local to .env-local.bak.1\n" in out
    assert (project / ".env-local.bak.1").read_text() == "SECRET_KEY=mine\n"
    assert (project / ".env-local.bak").read_text() == "an older backup\n"


def test_switching_the_database_switches_the_extra(project):
    (project / "requirements.txt").write_text("divio-settings[postgres,s3]==0.0.1\ngunicorn\n")
    assert main(["init", str(project), "--database", "mysql", "--force"]) == 0
    lines = (project / "requirements.txt").read_text().splitlines()
    assert lines[0].startswith("divio-settings[mysql,s3]==")
    assert lines[1:] == ["gunicorn"]


def test_a_missing_urlconf_module_is_refused_before_anything_is_written(project, capsys):
    settings = project / "mysite" / "settings.py"
    settings.write_text(settings.read_text().replace("'mysite.urls'", "'mysite.routes'"))
    before = snapshot(project)
    assert main(["init", str(project)]) == 1
    assert capsys.readouterr().err == (
        "divio-settings: ROOT_URLCONF names mysite.routes, which is not a file below "
        f"{project}: set ROOT_URLCONF first\n"
    )
    assert snapshot(project) == before
    assert not (project / "mysite" / "routes.py").exists()


# --- env files ------------------------------------------------------------------------------


def read(
    text: str, environ: dict[str, str] | None = None, tmp: Path | None = None
) -> dict[str, str]:
    assert tmp is not None
    path = tmp / "env"
    path.write_bytes(text.encode("utf-8"))
    return envfile.read_env_file(str(path), environ or {})


# compose's documented env_file rules, line by line (docs.docker.com, "Set environment
# variables" / env_file format): input, and what compose sets.
COMPOSE = [
    ("A=1", {"A": "1"}),
    ("# a comment\nA=1", {"A": "1"}),
    ("  \nA=1\n\n", {"A": "1"}),
    ("A=1 # a comment", {"A": "1"}),
    ("A=1# not a comment", {"A": "1# not a comment"}),
    ("A='1 # kept'", {"A": "1 # kept"}),
    ('A="1 # kept"', {"A": "1 # kept"}),
    ("A='$HOME\\n'", {"A": "$HOME\\n"}),
    ('A="line\\nbreak"', {"A": "line\nbreak"}),
    ('A="multi\nline"', {"A": "multi\nline"}),
    ('A="say \\"hi\\""', {"A": 'say "hi"'}),
    ("A=", {"A": ""}),
    ("export A=1", {"A": "1"}),
    ("A = 1", {"A": "1"}),
    # The environment's A wins over the file's (compose: an env file has the lowest precedence).
    ("A=1\nB=${A}2", {"A": "1", "B": "from-env2"}),
    ("C=1\nB=${C}2", {"C": "1", "B": "12"}),
    ("B=${A:+set}", {"B": "set"}),
    ("B=${EMPTY:+set}", {"B": ""}),
    ("B=${EMPTY+set}", {"B": "set"}),
    ("B=${MISSING+set}", {"B": ""}),
    ("B=${A:?must be set}", {"B": "from-env"}),
    ("B=${EMPTY?must be set}", {"B": ""}),
    ("B=${MISSING:-${A}-x}", {"B": "from-env-x"}),
    ("B=${MISSING:-${ALSO:-deep}}", {"B": "deep"}),
    ("B=$A-x", {"B": "from-env-x"}),
    ("B=${MISSING:-fallback}", {"B": "fallback"}),
    ("B=${EMPTY:-fallback}", {"B": "fallback"}),
    ("B=${EMPTY-fallback}", {"B": ""}),
    ("B=$$literal", {"B": "$literal"}),
    ("A", {"A": "from-env"}),
    ("MISSING", {}),
    ("\ufeffA=1", {"A": "1"}),
    ("A=x\u2028y", {"A": "x\u2028y"}),
    ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
]


@pytest.mark.parametrize(("text", "expected"), COMPOSE)
def test_env_files_read_as_compose_reads_them(tmp_path, text, expected):
    assert read(text, {"A": "from-env", "EMPTY": ""}, tmp_path) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A='open", "line 1: the single quote is not closed"),
        ('A=1\nB="open\n', "line 2: the double quote is not closed"),
        ("=1", "line 1: expected NAME=value"),
        ("A=1\n1A=2", "line 2: expected NAME=value"),
        ("A=1\nB=x\x00y", "line 2: a NUL byte"),
        ("A=${B", "line 1: '${' without a closing '}'"),
        ("A=1\nB=${MISSING:?set MISSING first}", "line 2: set MISSING first"),
        ("B=${EMPTY:?}", "line 1: EMPTY is required"),
        ("B=${MISSING?}", "line 1: MISSING is required"),
        ("B=${A B}", "line 1: '${A B}' is not a variable"),
        ("B=${:-x}", "line 1: '${:-x}' is not a variable"),
    ],
)
def test_env_file_errors_name_the_line(tmp_path, text, message):
    with pytest.raises(errors.UserError, match=re.escape(message)):
        read(text, {"EMPTY": ""}, tmp_path)


def test_env_file_nul_byte_is_one_line_in_show_and_check(project, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_bytes(b"DOMAIN=x\x00y\n")
    for command in (["check"], ["show", str(project)]):
        result = subprocess.run(
            [sys.executable, "-m", "divio_settings", *command, "--env-file", str(env_file)],
            env={**child_env(), "PYTHONPATH": ROOT},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr == f"divio-settings: {env_file}, line 1: a NUL byte\n"


@pytest.mark.parametrize("kind", ["zero", "fifo", "big", "directory"])
def test_env_files_are_regular_and_bounded(tmp_path, kind):
    path = tmp_path / "env"
    if kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "big":
        path.write_bytes(b"A=" + b"x" * envfile.MAX_ENV_FILE + b"\n")
    else:
        path.mkdir()
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            envfile.read_env_file(str(path), {})
        except errors.UserError as error:
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "reading the env file hangs"
    assert isinstance(outcome[0], errors.UserError)
    assert str(outcome[0]) in (f"{path} is not a regular file", f"{path} is larger than 1024 KiB")


def test_show_and_check_read_a_large_env_file(project, tmp_path):
    """100,000 variables: both commands answer (their times are measured in the notes, not
    asserted here: a timed test would only measure the machine)."""
    import json

    env_file = tmp_path / "env"
    env_file.write_text(
        "".join(f"V{i}=x\n" for i in range(100_000))
        + "DEFAULT_FROM_EMAIL=ops@from.file\nDOMAIN=from.file\n"
    )
    assert main(["init", str(project)]) == 0
    for command in (["check"], ["show", str(project), "--json"]):
        result = subprocess.run(
            [sys.executable, "-m", "divio_settings", *command, "--env-file", str(env_file)],
            env={**child_env(), "PYTHONPATH": ROOT, **LIVE_ENV},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        if command[0] == "show":
            rows = {row["setting"]: row["value"] for row in json.loads(result.stdout)}
            assert rows["DEFAULT_FROM_EMAIL"] == "ops@from.file"
            # The environment wins over the file, as in compose.
            assert rows["DIVIO_DOMAIN"] == LIVE_ENV["DOMAIN"]


# --- no traceback on any input --------------------------------------------------------------


def test_the_hostile_corpus_through_every_subcommand_gives_no_traceback(
    project, monkeypatch, capsys
):
    """Every value of tests/hostile_corpus.py, with its context, through check,
    release-commands and show: exit status 0 or 1, one-line messages, no exception, no secret."""
    from divio_settings import sentry
    from tests.hostile_corpus import CONTEXT, CORPUS, SECRET

    monkeypatch.setattr(sentry, "init", lambda *args: None)  # no SDK started in this process
    assert main(["init", str(project)]) == 0
    capsys.readouterr()
    for name, value, _ in CORPUS:
        environ = {"PATH": os.environ["PATH"], **CONTEXT.get(name, {}), name: value}
        monkeypatch.setattr(os, "environ", environ)
        for command in (["check"], ["release-commands"], ["show", str(project), "--json"]):
            assert main(command) in (0, 1), (name, value, command)
            out, err = capsys.readouterr()
            assert "Traceback" not in out + err
            assert SECRET not in out + err, (name, command)
            for line in err.splitlines():
                # One line per problem: ours (a check's hint indented below it), or a
                # variable's own line of a multi-line error.
                prefixes = ("divio-settings: ", "error: ", "warning: ", "    hint: ")
                assert line.startswith(prefixes) or re.match(
                    r"^[A-Z][A-Z0-9_]*: expected ", line
                ), line


def test_unreadable_python_is_one_line(project, capsys):
    settings = project / "mysite" / "settings.py"
    original = settings.read_text()
    settings.write_text(original + "\ndef broken(:\n")
    assert main(["init", str(project)]) == 1
    assert "mysite/settings.py does not parse as Python (line" in capsys.readouterr().err
    settings.write_bytes(b"# -*- coding: no-such-codec -*-\n" + original.encode())
    assert main(["init", str(project)]) == 1
    assert "mysite/settings.py: unknown encoding" in capsys.readouterr().err


def test_text_that_the_file_encoding_cannot_hold_is_refused(tmp_path):
    (tmp_path / "f.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = 1\n")
    file = files.TextFile(tmp_path, tmp_path / "f.py", python=True)
    assert file.encoded("x = '\u00e9'\n") == "x = '\u00e9'\n".encode("latin-1")
    with pytest.raises(errors.UserError, match="cannot be written in iso-8859-1"):
        file.encoded("x = '\u20ac'\n")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"A=1\nB=\xff\n", "line 2: not UTF-8"),
        (b'A="one\nt\x00wo"\n', "line 2: a NUL byte"),
    ],
)
def test_env_file_bytes_errors_name_the_line(tmp_path, raw, message):
    path = tmp_path / "env"
    path.write_bytes(raw)
    with pytest.raises(errors.UserError, match=re.escape(message)):
        envfile.read_env_file(str(path), {})


def test_env_file_dollar_without_a_name_is_literal(tmp_path):
    assert read("A=cost $5 and $", {}, tmp_path) == {"A": "cost $5 and $"}
    with pytest.raises(errors.UserError, match="cannot read"):
        envfile.read_env_file(str(tmp_path / "missing"), {})
