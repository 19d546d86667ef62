"""The user's project: found on disk (manage.py, the settings module the runtime loads, its URL
module), its settings imported without changing the process, and its files read and written
without damage.

Reading: Python files in the encoding they declare (PEP 263 cookie or BOM), other text files as
UTF-8 (a BOM is kept), CRLF or LF line endings kept, regular files only, and never through a link
that leaves the project. Writing: every new content goes to a temporary file beside its target
first; only when all of them are written are they renamed over their targets, so a full disk or
a failing write leaves every file as it was. Env files are read the way docker compose reads
them (see :func:`read_env_file`), bounded in size.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import importlib
import io
import os
import re
import stat
import sys
import tempfile
import tokenize
from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

MAX_ENV_FILE: Final = 1024 * 1024  # bytes: far more than any real .env-local


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1, no traceback."""


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


def calls(text: str, name: str, function: str, module: str) -> bool:
    """Whether the code calls ``module.function(…)`` or an imported ``function(…)``; a comment
    or a string is not a call."""
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as error:
        raise UserError(f"{name} does not parse as Python (line {error.lineno}): fix it first")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == function
            and isinstance(func.value, ast.Name)
            and func.value.id == module
        ):
            return True
        if isinstance(func, ast.Name) and func.id == function:
            return True
    return False


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
        for file in done:  # put back what was replaced
            try:
                if file.exists:
                    file.real.write_bytes(file.raw)
                else:
                    file.real.unlink()
            except OSError:
                pass
        for _, temporary in staged:
            _remove(temporary)
        raise UserError(
            f"could not replace {staged[len(done)][0].name}: {error.strerror or error}; "
            "the files written before it were put back"
        ) from None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- env files ------------------------------------------------------------------------------


def read_env_file(path: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``NAME=value`` lines as docker compose's ``env_file`` reads them.

    Supported, as compose documents it: blank lines and ``#`` comment lines; ``export NAME=…``;
    unquoted values (trailing blanks and an inline `` # comment`` removed); single-quoted values
    taken literally; double-quoted values with the escapes ``\\n \\r \\t \\" \\\\`` that may span
    several lines; ``$NAME``, ``${NAME}``, ``${NAME:-default}`` and ``${NAME-default}`` in
    unquoted and double-quoted values, from earlier lines or the environment; ``NAME`` alone
    takes the variable from the environment; a UTF-8 BOM. Refused, with the line number: a
    line without a name, an unclosed quote, a NUL byte. Only a regular file of at most 1 MiB.
    """
    try:
        info = os.stat(path)
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path} is not a regular file")
    if info.st_size > MAX_ENV_FILE:
        raise UserError(f"{path} is larger than {MAX_ENV_FILE // 1024} KiB")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_ENV_FILE + 1)
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None
    if len(raw) > MAX_ENV_FILE:
        raise UserError(f"{path} is larger than {MAX_ENV_FILE // 1024} KiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UserError(f"{path}, line {line}: not UTF-8") from None
    return _parse_env(path, text.replace("\r\n", "\n"), environ)


def _parse_env(path: str, text: str, environ: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    lookup: ChainMap[str, str] = ChainMap(values, dict(environ))  # earlier lines, then env
    lines = text.split("\n")  # only \n ends a line (not U+2028 or other separators)
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        where = f"{path}, line {number}"
        if "\x00" in line:
            raise UserError(f"{where}: a NUL byte")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, sep, value = stripped.partition("=")
        name = name.strip()
        if not name.replace("_", "a").replace(".", "a").isalnum() or name[0].isdigit():
            raise UserError(f"{where}: expected NAME=value")
        if not sep:
            if name in environ:
                values[name] = environ[name]
            continue
        value = value.lstrip()
        if value.startswith("'"):
            end = value.find("'", 1)
            if end < 0:
                raise UserError(f"{where}: the single quote is not closed")
            values[name] = value[1:end]
        elif value.startswith('"'):
            body, number = _double_quoted(value[1:], lines, number, path)
            values[name] = _interpolate(body, lookup, path, number)
        else:
            for marker in (" #", "\t#"):
                value = value.split(marker, 1)[0]
            values[name] = _interpolate(value.rstrip(), lookup, path, number)
    return values


_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$$"}


def _double_quoted(rest: str, lines: list[str], number: int, path: str) -> tuple[str, int]:
    """The value up to the closing double quote, across lines; (value, last line number)."""
    out: list[str] = []
    first = number
    while True:
        index = 0
        while index < len(rest):
            char = rest[index]
            if char == "\\" and index + 1 < len(rest) and rest[index + 1] in _ESCAPES:
                out.append(_ESCAPES[rest[index + 1]])
                index += 2
                continue
            if char == '"':
                return "".join(out), number
            out.append(char)
            index += 1
        if number >= len(lines):
            raise UserError(f"{path}, line {first}: the double quote is not closed")
        out.append("\n")
        rest = lines[number]
        number += 1
        if "\x00" in rest:
            raise UserError(f"{path}, line {number}: a NUL byte")


def _interpolate(value: str, lookup: Mapping[str, str], path: str, number: int) -> str:
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char != "$" or index + 1 == len(value):
            out.append(char)
            index += 1
            continue
        following = value[index + 1]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "{":
            end = value.find("}", index)
            if end < 0:
                raise UserError(f"{path}, line {number}: '${{' without a closing '}}'")
            expression = value[index + 2 : end]
            name, _, default = expression.partition("-")
            empty_means_unset = name.endswith(":")
            name = name.rstrip(":")
            found = lookup.get(name)
            if found is None or (empty_means_unset and found == ""):
                found = default if "-" in expression else ""
            out.append(found)
            index = end + 1
        elif following == "_" or following.isalpha():
            end = index + 1
            while end < len(value) and (value[end] == "_" or value[end].isalnum()):
                end += 1
            out.append(lookup.get(value[index + 1 : end], ""))
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out)


_SETTINGS_MODULE: Final = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_URLCONF: Final = re.compile(r"""^ROOT_URLCONF\s*=\s*["']([\w.]+)["']""", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Project:
    root: Path
    package: str
    settings: Path
    urls: Path
    module: str = ""  # the settings module init wires
    manage_module: str = ""  # the one manage.py names
    entry_module: str | None = None  # the one the WSGI/ASGI entry point names


def module_file(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def named_module(root: Path, path: Path) -> str | None:
    match = _SETTINGS_MODULE.search(TextFile(root, path, python=True).text)
    return match.group(1) if match else None


def manage_py_module(root: Path, hint: str) -> str:
    """The settings module manage.py names as its default, or a one-line error ending in *hint*."""
    manage = root / "manage.py"
    if not manage.is_file():
        raise UserError(f"no manage.py in {root}: {hint}")
    module = named_module(root, manage)
    if not module:
        raise UserError(f"manage.py does not name DJANGO_SETTINGS_MODULE: {hint}")
    return module


def find_project(path: Path, settings: str | None = None) -> Project:
    """The project at *path*: its settings module (*settings*, else the one the WSGI or ASGI
    entry point loads, the production one of a split package, else manage.py's) and its URL
    module."""
    hint = "run init in a Django project's directory"
    if settings is None:
        manage_module = manage_py_module(path, hint)
    elif (path / "manage.py").is_file():  # --settings or DJANGO_SETTINGS_MODULE: it may name none
        manage_module = named_module(path, path / "manage.py") or ""
    else:
        raise UserError(f"no manage.py in {path}: {hint}")
    package = (settings or manage_module).split(".")[0]
    entry_module = None
    for entry in ("wsgi.py", "asgi.py"):
        if (path / package / entry).is_file():
            entry_module = named_module(path, path / package / entry)
            if entry_module:
                break
    module = settings or entry_module or manage_module
    settings_file = module_file(path, module)
    if not settings_file.is_file():
        raise UserError(f"the settings module {module} is not a file below {path}")
    urlconf = root_urlconf(path, module, settings_file)
    urls = module_file(path, urlconf) if urlconf else settings_file.with_name("urls.py")
    if not urls.is_file():
        named = f"ROOT_URLCONF names {urlconf}" if urlconf else "there is no urls.py"
        raise UserError(f"{named}, which is not a file below {path}: set ROOT_URLCONF first")
    return Project(
        path, module.split(".")[0], settings_file, urls, module, manage_module, entry_module
    )


def root_urlconf(root: Path, module: str, settings_file: Path) -> str | None:
    """ROOT_URLCONF as the settings module has it once imported (star imports of a settings
    package included); when it cannot be imported here (a variable it requires is unset), as
    written in it or, for a settings package, in its other modules, if they agree."""
    try:
        value = getattr(load_settings(root, os.environ, module), "ROOT_URLCONF", None)
    except Exception:  # any failure of the project's own code: read the files instead
        value = None
    if isinstance(value, str):
        return value
    found = _URLCONF.search(TextFile(root, settings_file, python=True).text)
    if found:
        return found.group(1)
    if not (settings_file.parent / "__init__.py").is_file() or len(module.split(".")) < 3:
        return None
    values = {}
    for sibling in sorted(settings_file.parent.glob("*.py")):
        match = _URLCONF.search(TextFile(root, sibling, python=True).text)
        if match:
            values[match.group(1)] = sibling.name
    if len(values) > 1:
        where = ", ".join(f"{name} in {file}" for name, file in values.items())
        raise UserError(
            f"the settings package sets ROOT_URLCONF differently ({where}): use --settings"
        )
    return next(iter(values), None)


@contextlib.contextmanager
def project_process(root: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Inside: os.environ is *env* and the project is importable (and no bytecode is written
    into it). Afterwards the process is as it was: environment, sys.path and the modules the
    project's import added.

    os.environ is swapped for a plain dict rather than refilled: setting 100,000 variables
    one by one through putenv() takes about a minute, a dict takes milliseconds."""
    saved_environ, saved_path, saved_modules = os.environ, list(sys.path), set(sys.modules)
    saved_bytecode = sys.dont_write_bytecode
    os.environ = dict(env)  # type: ignore[assignment]  # noqa: B003 - swapped, not cleared
    sys.path.insert(0, str(root))
    sys.dont_write_bytecode = True  # no __pycache__ left in the project by reading it
    try:
        yield
    finally:
        os.environ = saved_environ  # noqa: B003 - the real environment, untouched
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        for name in set(sys.modules) - saved_modules:
            # The project's own modules (its settings); libraries they imported stay loaded.
            source = getattr(sys.modules[name], "__file__", None)
            if source and Path(source).resolve().is_relative_to(root.resolve()):
                del sys.modules[name]


def settings_module(root: Path, args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """The module the runtime loads: --settings, else DJANGO_SETTINGS_MODULE of the environment
    (manage.py only sets a default), else manage.py's default."""
    chosen = getattr(args, "settings", None) or env.get("DJANGO_SETTINGS_MODULE")
    if chosen:
        return str(chosen)
    return manage_py_module(root, "give the project's path or --settings")


def load_settings(root: Path, env: Mapping[str, str], module: str) -> Any:
    """The project's settings module, imported with *env* as the environment. A variable that
    apply() refuses raises its ImproperlyConfigured (one line per bad variable)."""
    with project_process(root, env):
        try:
            return importlib.import_module(module)
        except ImportError as error:
            raise UserError(f"the settings module {module} cannot be imported: {error}") from None
