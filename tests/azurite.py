"""Install Azurite (Microsoft's Azure Blob emulator, from npm) once per machine.

Run by ``tox -e emulators`` (which the full ``tox run-parallel`` runs before the test
environments) or by hand with ``python tests/azurite.py``. The Azure storage tests only use
what this installs; they never run npm themselves.

The install is atomic: npm installs into a fresh temporary folder beside the target, which is
then renamed into place. Several processes may run this at once (a file lock makes the others
wait, and even without it a half-finished install is never visible under the final name).
Only the standard library is used, so it runs with any Python before a test environment exists.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

VERSION = "3.37.0"
INSTALL_COMMAND = "tox -e emulators (or: python tests/azurite.py)"


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/divio-settings`` (``~/.cache/divio-settings`` without it)."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "divio-settings"


def target(root: Path | None = None) -> Path:
    return (root or cache_root()) / f"azurite-{VERSION}"


def binary(root: Path | None = None) -> Path:
    """The emulator's blob service command, installed or not."""
    return target(root) / "node_modules" / ".bin" / "azurite-blob"


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def install(root: Path | None = None, npm: str | None = None) -> Path:
    """Install Azurite VERSION under *root* unless it is there; return the command's path."""
    final = target(root)
    if binary(root).exists():
        return binary(root)
    npm = npm or shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (Node.js's package manager installs Azurite)")
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f".azurite-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary(root).exists():  # another process finished while this one waited
            return binary(root)
        staging = Path(tempfile.mkdtemp(prefix=f".azurite-{VERSION}-", dir=final.parent))
        try:
            result = subprocess.run(
                [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund"]
                + ["--loglevel", "error", f"azurite@{VERSION}"],
                capture_output=True,
                text=True,
                timeout=900,
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"npm install azurite@{VERSION} failed with exit status {result.returncode}:\n"
                    + tail(result.stderr or result.stdout)
                )
            if not (staging / "node_modules" / ".bin" / "azurite-blob").exists():
                raise RuntimeError(f"npm installed azurite@{VERSION} without azurite-blob")
            try:
                staging.rename(final)
            except OSError:
                # A leftover folder of the same name without a finished install (from before
                # installs were atomic): replace it.
                if binary(root).exists():
                    return binary(root)
                shutil.rmtree(final)
                staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return binary(root)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--root",
        type=Path,
        help="folder to install into (default: $XDG_CACHE_HOME/divio-settings or ~/.cache/divio-settings)",
    )
    args = parser.parse_args(argv)
    try:
        path = install(args.root)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"azurite: {error}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"azurite {VERSION}: {path}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
