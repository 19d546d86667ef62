"""Start-up in instructions: `python benchmarks/instructions.py` (needs valgrind).

The deployment guide's hand-written settings against the two lines, in copies of one fresh
startproject (benchmarks/run.py makes them), with the same variables: callgrind's count of
instructions for a whole process that runs `django.setup()` and for `manage.py check`, with
PostgreSQL and an S3 DSN, without `DATABASE_URL`, and (check) with 1,000 and 10,000 unrelated
variables beside them. Counts do not drift with the machine's load; each process runs once
without valgrind first (bytecode caches written), then once counted, with PYTHONHASHSEED=0.
`--output FILE` stores them (benchmarks/results/instructions.json is the one
docs/performance.md quotes).

Where the library is above the guide, the parts are measured too: `manage.py check` of the same
project with `apply(globals(), checks=False)` (no app, so no checks and nothing imported for
them), the number of the library's modules a `check` process imports, and what importing one
more module of a package costs when it is empty (the price of splitting code into modules), what
importing the package costs beside importing the guide's two libraries (after Django's modules
both use), and what reading one name of a large environment through `os.environ` costs. Per
request: the instructions of a trivial view, a hashed static file and a hashed name of another
build through the WSGI application, guide and ours (the deterministic side of run.py's requests
per second).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402 (the projects and environments of the main benchmark)

COMMANDS = {"setup": ["-c", "import django; django.setup()"], "check": ["manage.py", "check"]}
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "postgres + S3": {"DEFAULT_STORAGE_DSN": run.DSNS["s3"]},
    "no database": {"DEFAULT_STORAGE_DSN": run.DSNS["s3"], "DATABASE_URL": ""},
}
UNRELATED = (1_000, 10_000)


def unrelated(count: int) -> dict[str, str]:
    return {f"UNRELATED_VARIABLE_{i}": "x" * 20 for i in range(count)}


def count(project: Path, command: list[str], extra: dict[str, str]) -> int:
    env = {**run.child_env(project, extra), "PYTHONHASHSEED": "0"}
    env = {name: value for name, value in env.items() if value != ""}  # "" unsets
    subprocess.run(
        [sys.executable, *command], cwd=project, env=env, check=True, capture_output=True
    )
    valgrind = shutil.which("valgrind")
    assert valgrind, "valgrind is needed"
    result = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise RuntimeError(result.stderr[-2000:])
    return int(found.group(1))


MODULES = 20
# What the guide's settings import (benchmarks/run.py's GUIDE_SETTINGS).
GUIDE_IMPORTS = "import dj_database_url, django_storage_url"
COUNT_MODULES = (
    "import sys; from django.core.management import execute_from_command_line; "
    "execute_from_command_line(['manage.py', 'check']); "
    "print(sum(name.split('.')[0] == 'divio_settings' for name in sys.modules))"
)


def parts(projects: dict[str, Path], tmp: Path) -> dict[str, Any]:
    """The parts of the gap: the app and its checks, the split into modules, the package's
    import beside the guide's libraries, and one name of a large os.environ."""
    no_app = tmp / "ours-no-checks"
    shutil.copytree(projects["ours"], no_app)
    settings = no_app / run.PACKAGE / "settings.py"
    text = settings.read_text()
    settings.write_text(text.replace("apply(globals())", "apply(globals(), checks=False)"))
    extra = ENVIRONMENTS["postgres + S3"]
    without = count(no_app, COMMANDS["check"], extra)
    env = {**run.child_env(projects["ours"], extra), "PYTHONHASHSEED": "0"}
    shown = subprocess.run(
        [sys.executable, "-c", COUNT_MODULES], cwd=projects["ours"], env=env,
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    package = tmp / "probe" / "splitprobe"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for i in range(MODULES):
        (package / f"m{i}.py").write_text(f"VALUE = {i}\n")
    names = ", ".join(f"splitprobe.m{i}" for i in range(MODULES))
    alone = count(package.parent, ["-c", "import splitprobe"], {})
    more = count(package.parent, ["-c", f"import splitprobe, {names}"], {})
    django = "import django.conf, django.core.checks, django.http, django.urls"
    plain = count(projects["ours"], ["-c", django], {})
    own = count(projects["ours"], ["-c", f"{django}; import divio_settings"], {})
    guide = count(projects["ours"], ["-c", f"{django}; {GUIDE_IMPORTS}"], {})
    environment = unrelated(UNRELATED[-1])
    imported = count(package.parent, ["-c", "import os"], environment)
    listed = count(package.parent, ["-c", "import os; list(os.environ)"], environment)
    return {
        "check, postgres + S3, apply(checks=False)": without,
        "reading one name of os.environ": round((listed - imported) / UNRELATED[-1]),
        "modules imported by check": int(shown.stdout.split()[-1]),
        "import divio_settings": own - plain,
        "import of the guide's libraries": guide - plain,
        "one empty module of a package": round((more - alone) / MODULES),
    }


# N requests through the WSGI application a server calls (no network, no server), after one
# that builds the middleware and warms the caches: a count with N minus a count with none is
# N requests' instructions, which wrk's requests per second on two shared cores only estimate.
SERVE = """
import io, sys
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
app, path, count = WSGIHandler(), sys.argv[1], int(sys.argv[2])
def start_response(status, headers, exc_info=None):
    return None
for _ in range(count + 1):
    response = app({"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
                    "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
                    "HTTP_ACCEPT_ENCODING": "gzip", "wsgi.input": io.BytesIO(),
                    "wsgi.url_scheme": "http"}, start_response)
    b"".join(response)
    response.close()
"""
REQUESTS = 200


def per_request(projects: dict[str, Path]) -> dict[str, Any]:
    """Instructions per request, guide and ours: a trivial view, a hashed static file, a hashed
    name of another build."""
    rows: dict[str, Any] = {}
    served = dict(run.HTTP_ENV)
    run.collect_static(projects, served)
    css = run.hashed_css(projects["ours"])
    paths = {
        "a trivial view": "/hello/",
        "a hashed static file (a hit)": f"/static/{css}",
        "a hashed name of another build": f"/static/{run.other_build(css)}",
    }
    for label, path in paths.items():
        found = {}
        for variant in ("guide", "ours"):
            none, many = (
                count(projects[variant], ["-c", SERVE, path, str(n)], served) for n in (0, REQUESTS)
            )
            found[variant] = round((many - none) / REQUESTS)
        rows[label] = {**found, "ratio": round(found["ours"] / found["guide"], 4)}
        print(f"request, {label:<40} guide {found['guide']:,}  ours {found['ours']:,}")
    return rows


def measure(projects: dict[str, Path]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    cases = [
        (f"{command}, {name}", COMMANDS[command], extra)
        for name, extra in ENVIRONMENTS.items()
        for command in COMMANDS
    ]
    cases += [
        (f"check, postgres + S3 + {n:,} unrelated", COMMANDS["check"], {**ENVIRONMENTS["postgres + S3"], **unrelated(n)})
        for n in UNRELATED
    ]  # fmt: skip
    for label, command, extra in cases:
        guide = count(projects["guide"], command, extra)
        ours = count(projects["ours"], command, extra)
        rows[label] = {"guide": guide, "ours": ours, "ratio": round(ours / guide, 4)}
        print(
            f"{label:<45} guide {guide / 1e6:9.1f} M  ours {ours / 1e6:9.1f} M  {ours / guide:.4f}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        projects = run.make_projects(Path(tmp))
        rows = measure(projects)
        found = parts(projects, Path(tmp))
        for label, value in found.items():
            print(f"{label:<45} {value:,}")
        requests = per_request(projects)
    if args.output:
        from machine import machine

        stored = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rows": rows}
        stored["parts"] = found
        stored["per_request"] = requests
        stored["seconds"] = round(time.time() - started)
        args.output.write_text(json.dumps(stored, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
