"""Env files (.env-local), read the way docker compose reads them, bounded in size: ``NAME=value``
lines, quotes, escapes in double quotes, ``${NAME}`` interpolation and its ``:-``/``-`` defaults."""

from __future__ import annotations

import os
import stat
from collections import ChainMap
from collections.abc import Mapping
from typing import Final

from .errors import UserError

MAX_ENV_FILE: Final = 1024 * 1024  # bytes: far more than any real .env-local


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
