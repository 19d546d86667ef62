"""The Dockerfile init writes, built the way Divio builds it, without Docker (#38).

Each instruction is carried out in order against a folder that stands in for the image's
filesystem: ``FROM python:X.Y-slim…`` is a new virtual environment of that Python (from pyenv),
``ENV``/``WORKDIR``/``COPY`` as Docker does them, every ``RUN`` through ``/bin/sh -c`` with only the
image's environment (no variables of the test, no services). The slim image has no compiler, no
``pkg-config`` and no ``pg_config``/``mysql_config``: commands of those names fail on the build's
``PATH`` until a ``RUN apt-get install`` step installs the Debian package that provides them (the
package must exist in Debian; it is installed on this machine if it is not). The project's pin of
divio-settings is served by a local folder of this checkout's wheel (``PIP_FIND_LINKS``), the only
stand-in for PyPI. A step that fails fails the build: there is no second attempt.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import ROOT, dockerfile_server, run_tool

# What python:X.Y-slim lacks, and the Debian package a RUN apt-get step gets each from.
MISSING = {
    "build-essential": ("gcc", "cc", "c++", "g++", "x86_64-linux-gnu-gcc", "aarch64-linux-gnu-gcc"),
    "pkg-config": ("pkg-config",),
    "libpq-dev": ("pg_config",),
    "default-libmysqlclient-dev": ("mysql_config", "mariadb_config"),
    "libmariadb-dev": ("mysql_config", "mariadb_config"),
}
SHIM = '#!/bin/sh\necho "$(basename "$0"): not found (python:slim has no such command)" >&2\nexit 127\n'
APT_GET = """#!/bin/sh
# apt-get in the simulated image: `update` is a no-op, `install` checks that each package is
# Debian's, installs it on this machine when it is missing, and uncovers what it provides.
set -e
[ "$1" = update ] && exit 0
[ "$1" = install ] || {{ echo "apt-get $1: not simulated" >&2; exit 2; }}
shift
for package in "$@"; do
  case "$package" in -*) continue;; esac
  apt-cache show "$package" >/dev/null 2>&1 || {{ echo "E: Unable to locate package $package" >&2; exit 100; }}
  dpkg -s "$package" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get install -y -qq --no-install-recommends "$package" >&2
  echo "$package" >> {shims}/.installed
done
python3 - "$@" <<'EOF'
import json, pathlib, sys
shims = pathlib.Path("{shims}")
provides = json.loads((shims / ".provides.json").read_text())
for package in sys.argv[1:]:
    for command in provides.get(package, ()):
        (shims / command).unlink(missing_ok=True)
EOF
"""
RM = """#!/bin/sh
# The apt lists are the host's: `rm -rf /var/lib/apt/lists/*` in the image leaves them.
for argument in "$@"; do case "$argument" in /var/lib/apt/*) exit 0;; esac; done
exec /bin/rm "$@"
"""
# What reaches a RUN step besides the image's ENV: the registries' proxy and CA (as a build
# host's daemon has them), nothing of the test's own environment.
PASSED = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
)


@dataclass
class Image:
    """The built image: its /app folder, its environment (ENV and PATH) and its CMD."""

    app: Path
    env: dict[str, str]
    cmd: str
    steps: list[str] = field(default_factory=list)

    def run(self, *args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        """``docker run image python *args`` with *env* (the cloud's variables)."""
        return subprocess.run(
            ["python", *args],
            cwd=self.app,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=600,
        )

    def release(self, env: Mapping[str, str]) -> dict[str, subprocess.CompletedProcess[str]]:
        """The release commands `divio-settings release-commands` prints in the image for
        *env*, each run once and required to succeed; their results by subcommand, in order."""
        listed = subprocess.run(
            ["divio-settings", "release-commands", str(self.app)],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        steps = {}
        for line in listed.stdout.splitlines():
            words = line.split()
            assert words[:2] == ["python", "manage.py"], line
            step = steps[words[2]] = self.run(*words[1:], env=env)
            assert step.returncode == 0, f"{line}\n{step.stderr[-3000:]}{step.stdout[-3000:]}"
        return steps

    def server(self, env: Mapping[str, str]) -> contextlib.AbstractContextManager[int]:
        """The CMD, as helpers.dockerfile_server runs a Dockerfile's, in /app with the image's
        environment and *env*; yields the port once the server listens."""
        return dockerfile_server(f"CMD {self.cmd}\n", self.app, {**self.env, **env})


_BUILT: list[Path] = []  # this checkout's wheel, built once per test process


def wheelhouse(folder: Path) -> Path:
    """*folder* with this checkout's wheel, where the build's pip finds the pinned
    divio-settings (built once per process, then copied: the same file, the same hash)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not _BUILT or not _BUILT[0].is_file():
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="divio-settings-wheel-"))
        run_tool(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", ROOT, "-w", out],
            timeout=600,
        )
        _BUILT[:] = [next(out.glob("divio_settings-*.whl"))]
    shutil.copy2(_BUILT[0], folder / _BUILT[0].name)
    return folder


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def python_of(base: str) -> str:
    """The interpreter of ``python:X.Y-slim…`` among pyenv's versions."""
    match = re.fullmatch(r"python:(\d+\.\d+)-slim(?:-\w+)?", base)
    assert match, f"FROM {base}: not a python:X.Y-slim image"
    found = shutil.which(f"python{match.group(1)}")
    assert found, f"FROM {base}: no python{match.group(1)} on this machine (PYENV_VERSION)"
    return found


def build(root: Path, into: Path, wheels: Path) -> Image:
    """Build *root*'s Dockerfile into *into*; every step must succeed on its first attempt."""
    into.mkdir(parents=True)
    shims = into / "shims"
    shims.mkdir()
    (shims / ".provides.json").write_text(json.dumps(MISSING))
    for command in {command for commands in MISSING.values() for command in commands}:
        (shims / command).write_text(SHIM)
    (shims / "apt-get").write_text(APT_GET.format(shims=shims))
    (shims / "rm").write_text(RM)
    for shim in shims.iterdir():
        shim.chmod(0o755)
    system = into / "python"
    workdir = into  # "/" until WORKDIR
    env: dict[str, str] = {"HOME": str(into / "home")}
    image = Image(app=workdir, env=env, cmd="")
    for word, rest in instructions((root / "Dockerfile").read_text()):
        if word == "FROM":
            run_tool([python_of(rest), "-m", "venv", str(system)])
            env["PATH"] = (
                f"{shims}:{system / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            )
        elif word == "ENV":
            env.update(env_pairs(rest))
        elif word == "WORKDIR":
            workdir = image_path(into, rest)
            workdir.mkdir(parents=True, exist_ok=True)
            image.app = workdir
        elif word == "COPY":
            *sources, target = shlex.split(rest)
            for source in sources:
                copy(root / source, image_path(into, target, workdir), many=len(sources) > 1)
        elif word == "RUN":
            image.steps.append(rest)
            (into / "tmp").mkdir(exist_ok=True)
            step = subprocess.run(
                ["/bin/sh", "-c", rest.replace(" /tmp/", f" {into}/tmp/")],  # the image's /tmp
                cwd=workdir,
                env={
                    **{k: os.environ[k] for k in PASSED if k in os.environ},
                    **env,
                    "PIP_FIND_LINKS": str(wheels),
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                },
                capture_output=True,
                text=True,
                timeout=1200,
            )
            assert step.returncode == 0, f"RUN {rest}\n{step.stderr[-4000:]}{step.stdout[-2000:]}"
        elif word == "CMD":
            image.cmd = rest
        else:
            assert word in ("EXPOSE", "LABEL", "ARG"), f"{word}: not simulated"
    env["PATH"] = env["PATH"].replace(f"{shims}:", "")
    return image


def env_pairs(text: str) -> dict[str, str]:
    words = shlex.split(text)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def image_path(into: Path, target: str, workdir: Path | None = None) -> Path:
    if target.startswith("/"):
        return into / target.lstrip("/")
    assert workdir is not None
    return workdir / target


def copy(source: Path, target: Path, many: bool) -> None:
    """COPY: a folder's contents into *target*; a file into *target* (a folder when it ends
    with / or several sources are copied). The build context has no .dockerignore here."""
    assert source.exists(), f"COPY {source.name}: not in the build context"
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
        return
    if many or str(target).endswith("/") or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        target = target / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
