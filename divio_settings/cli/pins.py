"""The project's requirement pins against the library's own requirements: a pin the library
cannot install beside is named before init writes anything (the image's `pip install` would
stop there)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .errors import UserError

_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)[\s=]+(\S+)")


def requirement_lines(path: Path, seen: set[Path] | None = None) -> list[tuple[str, str]]:
    """(file name, line) of a requirements file and the files it includes (-r, -c)."""
    seen = set() if seen is None else seen
    if path in seen or not path.is_file():
        return []
    seen.add(path)
    found: list[tuple[str, str]] = []
    for line in path.read_text(errors="replace").splitlines():
        include = _INCLUDE.match(line)
        if include:
            found += requirement_lines(path.parent / include.group(1), seen)
        else:
            found.append((path.name, line))
    return found


def ours(extras: Iterable[str]) -> dict[str, Requirement]:
    """The library's requirements for *extras*, by canonical name."""
    wanted: dict[str, Requirement] = {}
    for text in metadata.requires("divio-settings") or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
            wanted[canonicalize_name(requirement.name)] = requirement
    return wanted


def requirement_files(path: Path, seen: list[Path] | None = None) -> list[Path]:
    """A requirements file and every file it includes (-r, -c), in the order pip reads them."""
    seen = [] if seen is None else seen
    if path in seen or not path.is_file():
        return seen
    seen.append(path)
    for line in path.read_text(errors="replace").splitlines():
        include = _INCLUDE.match(line)
        if include:
            requirement_files(path.parent / include.group(1), seen)
    return seen


def parsed(line: str) -> Requirement | None:
    """The requirement a requirements file's line names (None for a comment, an option such as
    -r or --hash, or what pip would not read as one)."""
    text = line.split(" #", 1)[0].strip()
    if not text or text.startswith(("#", "-")):
        return None
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def refuse_conflicts(lines: Iterable[tuple[str, str]], extras: Iterable[str]) -> None:
    """A pin (``name==version``) outside the library's range for that package: refused, with
    the pin to change."""
    needed = ours(extras)
    for file, line in lines:
        pin = parsed(line)
        if pin is None:
            continue
        requirement = needed.get(canonicalize_name(pin.name))
        exact = [spec.version for spec in pin.specifier if spec.operator in ("==", "===")]
        if requirement is None or not exact or "*" in exact[0]:
            continue
        if not requirement.specifier.contains(exact[0], prereleases=True):
            raise UserError(
                f"{file} pins {pin.name}=={exact[0]}, but divio-settings needs "
                f"{requirement.name}{requirement.specifier}: change that pin first"
            )
