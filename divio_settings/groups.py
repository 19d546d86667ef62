"""What a settings group returns: the settings it decided, each with its source, and the
notes apply() keeps for the report (kept and replaced settings) and the side effects it runs
after every setting is written. apply() merges one per group, in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class Decisions:
    """The settings one group wants to write, each with the variable(s) it came from."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        # Side effects (starting Sentry) that apply() runs once every setting is written.
        self.after: list[Callable[[], None]] = []
        # settings.py's choices kept although a variable was set: setting -> why.
        self.kept: dict[str, str] = {}
        # settings.py's settings that a variable made moot (nothing reads them): setting -> why.
        self.replaced: dict[str, str] = {}

    def set(self, setting: str, value: Any, source: str) -> None:
        self.values[setting] = value
        self.sources[setting] = source

    def keep(self, setting: str, reason: str) -> None:
        self.kept[setting] = reason

    def replace(self, setting: str, reason: str) -> None:
        self.replaced[setting] = reason

    def update(self, other: Decisions) -> None:
        for setting, value in other.values.items():
            previous = self.sources.get(setting)
            source = other.sources[setting]
            if previous and previous != source:
                source = f"{previous}; {source}"
            self.set(setting, value, source)
        self.after.extend(other.after)
        self.kept.update(other.kept)
        self.replaced.update(other.replaced)


class Layered(Mapping[str, Any]):
    """What a group sees: the earlier groups' settings over settings.py's own. A ChainMap of two
    layers, with the lookups in C (ChainMap tests each layer in a Python generator, and the
    groups look settings up about 50 times per apply())."""

    __slots__ = ("_top", "_base")

    def __init__(self, top: Mapping[str, Any], base: Mapping[str, Any]) -> None:
        self._top, self._base = top, base

    def __getitem__(self, key: str) -> Any:
        return self._top[key] if key in self._top else self._base[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._top[key] if key in self._top else self._base.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._base

    def __iter__(self) -> Iterator[str]:
        return iter({**self._base, **self._top})

    def __len__(self) -> int:
        return len(self._top.keys() | self._base.keys())
