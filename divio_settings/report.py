"""The report of what apply() set: its rows (every setting written, redacted, with its source),
built when first read, and divio_settings.changes() (before -> after, relative to settings.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypedDict, overload

from . import conf
from .redaction import Scrubber, redact

if TYPE_CHECKING:

    class Entry(TypedDict):
        setting: str
        value: Any
        source: str


def entries(
    values: Mapping[str, Any], sources: Mapping[str, str], scrub: Scrubber | None = None
) -> list[Entry]:
    """The report's rows: every setting apply() wrote, redacted, with its source."""
    return [
        {
            "setting": setting,
            "value": redact(values[setting], setting, fingerprints=True, scrub=scrub),
            "source": sources[setting],
        }
        for setting in sorted(values)
    ]


class Report(Sequence["Entry"]):
    """DIVIO_SETTINGS_REPORT: a sequence of rows built (and redacted) when it is first read,
    so that no process pays at start-up for a report that almost none reads."""

    def __init__(
        self,
        values: Mapping[str, Any],
        sources: Mapping[str, str],
        original: Mapping[str, Any] | None = None,
        scrub: Scrubber | None = None,
    ) -> None:
        self._values, self._sources = values, sources
        # The secret values of the environment this report's apply() read.
        self.scrub = scrub if scrub is not None else Scrubber()
        self._rows: list[Entry] | None = None
        # settings.py's own values of what apply() wrote (the namespace's bookkeeping), for
        # divio_settings.changes() also through django.conf.settings, which drops lower case.
        self.original: Mapping[str, Any] = original or {"values": {}, "absent": [], "kept": {}}

    def source(self, setting: str) -> str | None:
        """Where apply() took *setting* from, without building (and redacting) the rows."""
        return self._sources.get(setting) if setting in self._values else None

    @property
    def rows(self) -> list[Entry]:
        if self._rows is None:
            self._rows = entries(self._values, self._sources, self.scrub)
        return self._rows

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __eq__(self, other: object) -> bool:
        return list(self) == (list(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.rows)


NOT_SET: Final = "(not set)"


def changes_of(namespace: Any) -> dict[str, list[dict[str, Any]]]:
    """divio_settings.changes(): before -> after for every setting apply() changed, from the
    bookkeeping apply() leaves in the namespace (settings.py's own values)."""
    get = namespace.get if isinstance(namespace, Mapping) else partial(getattr, namespace)
    report = conf.read(conf.REPORT, namespace)
    if not isinstance(report, Report):
        raise ValueError("apply() has not run on these settings")
    original = report.original
    before, absent = original["values"], set(original["absent"])
    changed = []
    for row in report:
        setting = row["setting"]
        if setting in absent:
            old: Any = NOT_SET
        elif setting in before:
            if before[setting] == report._values.get(setting):
                continue  # apply() wrote what settings.py had
            old = redact(before[setting], setting, fingerprints=True, scrub=report.scrub)
        else:
            continue
        changed.append(
            {"setting": setting, "before": old, "after": row["value"], "source": row["source"]}
        )
    kept = [
        {
            "setting": setting,
            "value": redact(get(setting, None), setting, scrub=report.scrub),
            "reason": reason,
        }
        for setting, reason in sorted(original.get("kept", {}).items())
    ]
    replaced = [
        {"setting": setting, "reason": reason}
        for setting, reason in sorted(original.get("replaced", {}).items())
    ]
    ignored = [
        {"variable": name, "instead": instead}
        for name, instead in conf.read(conf.FOREIGN_VARIABLES, namespace) or []
    ]
    return {"changed": changed, "kept": kept, "replaced": replaced, "ignored": ignored}
