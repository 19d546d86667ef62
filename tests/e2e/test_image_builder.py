"""The build the project tests trust (tests/image.py) fails where python:slim would: a compiler,
pkg-config or pg_config before a RUN apt-get step installs them, a package Debian does not have,
a file the build context lacks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.image import build

pytestmark = [pytest.mark.e2e, pytest.mark.projects]
FROM = f"FROM python:{sys.version_info[0]}.{sys.version_info[1]}-slim-bookworm\nWORKDIR /app\n"


def built(tmp_path: Path, dockerfile: str) -> str:
    root = tmp_path / "context"
    root.mkdir(exist_ok=True)
    (root / "Dockerfile").write_text(FROM + dockerfile)
    (root / "here.txt").write_text("x\n")
    into = tmp_path / f"image{len(list(tmp_path.iterdir()))}"
    try:
        build(root, into, tmp_path)
    except AssertionError as failure:
        return str(failure)
    return "built"


def test_the_slim_image_has_no_compiler_until_apt_installs_one(tmp_path):
    assert "gcc: not found" in built(tmp_path, "RUN gcc --version\n")
    assert "pg_config: not found" in built(tmp_path, "RUN pg_config --version\n")
    assert "pkg-config: not found" in built(
        tmp_path,
        "RUN apt-get update && apt-get install -y build-essential\nRUN pkg-config --version\n",
    )
    assert (
        built(
            tmp_path,
            "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends build-essential "
            "libpq-dev \\\n    && rm -rf /var/lib/apt/lists/*\nRUN gcc --version && pg_config\n",
        )
        == "built"
    )
    assert Path("/var/lib/apt/lists").is_dir()  # the host's lists are left alone


def test_a_package_debian_does_not_have_and_a_missing_file_stop_the_build(tmp_path):
    assert "Unable to locate package no-such-package-dev" in built(
        tmp_path, "RUN apt-get install -y no-such-package-dev\n"
    )
    assert "COPY missing.txt: not in the build context" in built(
        tmp_path, "COPY missing.txt /app/missing.txt\n"
    )
    assert built(tmp_path, "COPY here.txt /app/here.txt\nRUN test -f here.txt\n") == "built"
