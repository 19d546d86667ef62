"""Env files (.env-local), read the way docker compose reads them, bounded in size: ``NAME=value``
lines, quotes, escapes in double quotes, and compose's ``${NAME…}`` interpolation."""

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
    several lines; ``$NAME``, ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``,
    ``${NAME:?error}``, ``${NAME?error}``, ``${NAME:+alternative}`` and ``${NAME+alternative}``
    (nested in the word too) in unquoted and double-quoted values, from the environment or
    earlier lines; ``NAME`` alone takes the variable from the environment; a UTF-8 BOM. A name
    the environment sets keeps the environment's value (the caller merges so). Refused, with
    the line number: a line without a name, an unclosed quote or brace, ``${…}`` that is not a
    variable, a required variable that is missing, a NUL byte. Only a regular file of at most
    1 MiB.
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
    # The environment wins over the file, as in compose (its values have the lowest
    # precedence): a name set in both reads the environment's, earlier lines otherwise.
    lookup: ChainMap[str, str] = ChainMap(dict(environ), values)
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
    """``$NAME`` and ``${…}`` as compose interpolates them (its documented forms, nested ones
    in defaults included)."""
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
            end = _closing_brace(value, index + 2, path, number)
            out.append(_braced(value[index + 2 : end], lookup, path, number))
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


def _closing_brace(value: str, start: int, path: str, number: int) -> int:
    depth = 1
    for index in range(start, len(value)):
        if value.startswith("${", index):
            depth += 1
        elif value[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise UserError(f"{path}, line {number}: '${{' without a closing '}}'")


# compose's operators: (operator, applies when the variable is empty too)
_OPERATORS: Final = (":-", ":?", ":+", "-", "?", "+")


def _braced(expression: str, lookup: Mapping[str, str], path: str, number: int) -> str:
    """``NAME``, ``NAME:-default``, ``NAME-default``, ``NAME:?error``, ``NAME?error``,
    ``NAME:+alternative`` and ``NAME+alternative``; the word after the operator is
    interpolated too."""
    end = 0
    while end < len(expression) and (expression[end] == "_" or expression[end].isalnum()):
        end += 1
    name, rest = expression[:end], expression[end:]
    if not name or (rest and not rest.startswith(_OPERATORS)):
        raise UserError(f"{path}, line {number}: '${{{expression}}}' is not a variable")
    found = lookup.get(name)
    if not rest:
        return found or ""
    operator = next(op for op in _OPERATORS if rest.startswith(op))
    word = _interpolate(rest[len(operator) :], lookup, path, number)
    present = found is not None and (found != "" or not operator.startswith(":"))
    if operator.endswith("-"):
        return str(found) if present else word
    if operator.endswith("+"):
        return word if present else ""
    if not present:  # ? and :?
        raise UserError(f"{path}, line {number}: {word or name + ' is required'}")
    return str(found)
