"""What a probe is and how probes run: each in a thread of its own, all bounded by one
deadline, every line redacted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Final

from divio_settings.redaction import redact

OK: Final = "ok"
FAIL: Final = "fail"
SKIP: Final = "skip"
# Where the probes write (media) and which keys they use (caches): never a user's name.
PROBE_PREFIX: Final = "divio-preflight/"
PROBE_KEY: Final = "divio-preflight:"
DEFAULT_TIMEOUT: Final = 5.0


class Failed(Exception):
    """A probe's failure, said in the user's terms (the line printed after ``fail``)."""


class Skipped(Exception):
    """A service that is not configured, or that there is nothing to connect to for."""


@dataclass(frozen=True)
class Probe:
    service: str  # database, media, static, cache, mail, broker, sentry
    name: str  # the alias, or "" for a service of which there is one
    run: Callable[[float], str]  # the timeout in seconds -> the ok line; raises Failed/Skipped


@dataclass(frozen=True)
class Result:
    service: str
    name: str
    status: str  # ok, fail, skip
    detail: str
    seconds: float

    @property
    def label(self) -> str:
        return f"{self.service} {self.name}".strip()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def outcome(probe: Probe, timeout: float) -> tuple[str, str]:
    """(status, line) of one probe; an unexpected error is named by its type and its message,
    redacted (it may come from a driver that prints what it was given)."""
    try:
        return OK, probe.run(timeout)
    except Failed as error:
        return FAIL, str(error)
    except Skipped as error:
        return SKIP, str(error)
    except Exception as error:
        message = " ".join(str(error).split())[:300]
        return FAIL, f"{type(error).__name__}: {message}" if message else type(error).__name__


def _in_thread(probe: Probe, timeout: float, box: dict[str, Any]) -> None:
    from django.db import connections

    started = time.perf_counter()
    try:
        box["outcome"] = outcome(probe, timeout)
        box["seconds"] = time.perf_counter() - started
    finally:
        connections.close_all()  # this thread's own connections (Django's are per thread)


def run_all(probes: Iterable[Probe], timeout: float) -> list[Result]:
    """Every probe at once, each in a thread of its own, all bounded by one deadline: a service
    that does not answer is a failure after *timeout* seconds, whatever its driver waits for."""
    started = time.perf_counter()
    running = []
    for probe in probes:
        box: dict[str, Any] = {}
        thread = threading.Thread(
            target=_in_thread, args=(probe, timeout, box), daemon=True, name="preflight"
        )
        thread.start()
        running.append((probe, thread, box))
    results = []
    for probe, thread, box in running:
        thread.join(max(0.0, started + timeout - time.perf_counter()))
        status, detail = box.get("outcome") or (FAIL, f"no answer within {timeout:g} s")
        seconds = box.get("seconds", timeout)
        results.append(Result(probe.service, probe.name, status, redact(detail), seconds))
    return results
