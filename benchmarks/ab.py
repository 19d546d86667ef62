"""Two source trees of divio-settings side by side: `python benchmarks/ab.py OLD_TREE [NEW_TREE]`.

The same startproject with `apply(globals())`, run once with the package from OLD_TREE and once
from NEW_TREE (default: this checkout), interleaved A B A B … so that a drift of the machine's
speed hits both alike. Each sample is a fresh process. Reported per measure: the median of the
per-pair ratios new/old with its min–max, and each tree's median.

Measures (those of benchmarks/run.py that a code change can move):
- the library's own start-up in a django.setup() process (ms: the package's import, apply() and
  the app's ready()), with DATABASE_URL and each media DSN set;
- `manage.py check` wall time (s);
- first media use in a warm worker: rendering 50 media URLs (ms, MiB) for each DSN form.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

DATABASE = {"DATABASE_URL": "sqlite:////tmp/divio-bench.sqlite3"}


def pairs(trees: tuple[Path, Path], count: int, sample: Callable[[], float]) -> dict[str, Any]:
    """Interleaved samples: sample() runs with run.ROOT set to each tree in turn."""
    values: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(count):
        for name, tree in zip(("old", "new"), trees, strict=True):
            run.ROOT = tree
            values[name].append(sample())
    ratios = [new / old for old, new in zip(values["old"], values["new"], strict=True) if old]
    return {
        "old_median": statistics.median(values["old"]),
        "new_median": statistics.median(values["new"]),
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "pairs": count,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("old", help="the tree to compare against, or a git commit of this one")
    parser.add_argument("new", type=Path, nargs="?", default=run.ROOT)
    parser.add_argument("--pairs", type=int, default=30, help="interleaved pairs (default 30)")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        old = Path(args.old)
        if not old.is_dir():  # a commit: its tree, from git
            old = Path(folder) / "old"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(run.ROOT), "archive", args.old], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        trees = (old.resolve(), args.new.resolve())
        results: dict[str, Any] = {"old": args.old, "new": "this checkout"}
        project = run.make_projects(Path(folder))["ours"]
        for dsn_name, dsn in run.DSNS.items():
            env = {**DATABASE, "DEFAULT_STORAGE_DSN": dsn}
            results[f"import_ms/{dsn_name}"] = pairs(
                trees,
                args.pairs,
                lambda env=env: float(json.loads(run.python(project, run.SETUP, env))["own_ms"]),
            )
            results[f"media_ms/{dsn_name}"] = pairs(
                trees,
                max(args.pairs // 3, 1),
                lambda env=env: json.loads(run.python(project, run.FIRST_MEDIA_REQUEST, env))["ms"],
            )
            results[f"media_mib/{dsn_name}"] = pairs(
                trees,
                max(args.pairs // 3, 1),
                lambda env=env: (
                    json.loads(run.python(project, run.FIRST_MEDIA_REQUEST, env))["rss_mib"] + 1.0
                ),  # +1 MiB keeps the ratio finite where a run allocates nothing
            )
        results["check_s"] = pairs(
            trees, max(args.pairs // 2, 1), lambda: run.timed_check(project, DATABASE)
        )
    for name, figures in results.items():
        if name in ("old", "new"):
            continue
        print(
            f"{name:<20} old {figures['old_median']:9.3f}  new {figures['new_median']:9.3f}  "
            f"new/old {figures['ratio_median']:.3f} ({figures['ratio_min']:.3f}–"
            f"{figures['ratio_max']:.3f}, {figures['pairs']} pairs)"
        )
    if args.output:
        from machine import machine

        stored = {"machine": machine(), **results}
        args.output.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
