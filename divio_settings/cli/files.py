"""The project's files, read and written without damage.

Reading: Python files in the encoding they declare (PEP 263 cookie or BOM), other text files as
UTF-8 (a BOM is kept), CRLF or LF line endings kept, regular files only, and never through a link
that leaves the project. Writing: every new content goes to a temporary file beside its target
first; only when all of them are written are they renamed over their targets, so a full disk or
a failing write leaves every file as it was.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from collections.abc import Iterable
from pathlib import Path

from .errors import UserError


class TextFile:
    """One file of the project as it is on disk (or absent), decoded."""

    def __init__(self, root: Path, path: Path, python: bool = False) -> None:
        self.root, self.path = root, path
        self.name = shown_path(root, path)
        self.real = inside(root, path)
        self.exists = self.real.exists()
        self.raw = b""
        self.mode: int | None = None
        self.encoding, self.newline, self.text = "utf-8", "\n", ""
        if not self.exists:
            return
        info = os.stat(self.real)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{self.name} is not a regular file: refusing to read or replace it")
        self.mode = stat.S_IMODE(info.st_mode)
        self.raw = self.real.read_bytes()
        if python:
            try:
                self.encoding = tokenize.detect_encoding(io.BytesIO(self.raw).readline)[0]
            except SyntaxError as error:
                raise UserError(f"{self.name}: {error.msg}") from None
        elif self.raw.startswith(b"\xef\xbb\xbf"):
            self.encoding = "utf-8-sig"
        try:
            text = self.raw.decode(self.encoding)
        except (UnicodeDecodeError, LookupError):
            raise UserError(
                f"{self.name} cannot be read as {self.encoding}"
                + ("; declare its encoding in a '# -*- coding: …' line" if python else "")
            ) from None
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.text = text.replace("\r\n", "\n")

    def encoded(self, text: str) -> bytes:
        """*text* (LF line endings) in this file's encoding and line endings."""
        try:
            return text.replace("\n", self.newline).encode(self.encoding)
        except UnicodeEncodeError:
            raise UserError(f"the lines for {self.name} cannot be written in {self.encoding}")


def shown_path(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def inside(root: Path, path: Path) -> Path:
    """The real path *path* leads to, which must be inside *root* (links are followed, also a
    dangling one, to see where a write would land)."""
    real = path.resolve(strict=False)
    if not real.is_relative_to(root.resolve()):
        raise UserError(
            f"{shown_path(root, path)} is a link to {real}, outside the project: "
            "refusing to write through it"
        )
    return real


def write_all(files: Iterable[tuple[TextFile, bytes]]) -> None:
    """Write every (file, content) or none: temporary files first, then renames."""
    staged: list[tuple[TextFile, str]] = []
    try:
        for file, data in files:
            handle, temporary = tempfile.mkstemp(
                dir=file.real.parent, prefix=f".{file.real.name}.", suffix=".divio-settings"
            )
            staged.append((file, temporary))
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, file.mode if file.mode is not None else 0o644)
    except OSError as error:
        for _, temporary in staged:
            _remove(temporary)
        failed = staged[-1][0].name if staged else "a file"
        raise UserError(
            f"could not write {failed}: {error.strerror or error}; no file was changed"
        ) from None
    done: list[TextFile] = []
    try:
        for file, temporary in staged:
            os.replace(temporary, file.real)
            done.append(file)
    except OSError as error:
        _put_back(done)
        for _, temporary in staged:
            _remove(temporary)
        raise UserError(
            f"could not replace {staged[len(done)][0].name}: {error.strerror or error}; "
            "the files written before it were put back"
        ) from None


def _put_back(done: list[TextFile]) -> None:
    """The files already replaced, as they were (best effort: the disk may be failing)."""
    for file in done:
        try:
            if file.exists:
                file.real.write_bytes(file.raw)
            else:
                file.real.unlink()
        except OSError:
            pass


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- env files ------------------------------------------------------------------------------
