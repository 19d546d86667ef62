"""divio-settings benchmarks: `python benchmarks/run.py [--quick]` (or `tox -e bench`).

Copies of a fresh `startproject` are measured side by side in one run:

- stock:    startproject as it is (SQLite);
- stock-pg: startproject with DATABASES pointed at PostgreSQL by hand (the driver's share);
- guide:    the hand-written settings of Divio's deployment guide (dj-database-url,
            django-storage-url, WhiteNoise), with STORAGES as Divio's current quickstart writes it;
- ours:     startproject plus `divio_settings.apply(globals())`.

guide and ours get the same DATABASE_URL (PostgreSQL) and storage DSN. Start-up comparisons are
interleaved (every variant once per round, the order rotating, >= 30 rounds) and each ratio is the
median of the per-round ratios, with min-max; the settings cost is measured over the whole of
`django.setup()`. Where valgrind is installed, callgrind's instruction counts of the same
`django.setup()` are recorded beside the wall times (they do not drift with machine load). Media:
the first use of 50 URLs for every DSN form. Load comes from wrk in a second process, against
127.0.0.1 only, bounded in time. Results go to benchmarks/results/latest.json and
docs/_static/benchmarks.svg.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CHART = ROOT / "docs" / "_static" / "benchmarks.svg"
PACKAGE = "benchsite"
KEY = "AX1Rxxxxxxwdm1klEQOPukngZFO58vbbpeqp5l0ogdRspdKZTuutJ5V2ov"
DSNS = {
    "file": "file:///tmp/divio-bench-media/?url=%2Fmedia%2F",
    "s3": "s3://AKIA:t62L%2BOw@example-live.divio-media.org.s3.amazonaws.com/"
    "?auth=s3v4&domain=example-live.divio-media.org",
    "azure": "az://exampletest43b4705bdf:c2U9MjAzNi0wMS0yJnNwPXJ3ZGxjJnNpZz1hYmM%3D"
    "@blob.core.windows.net/public-media",
}
# Every form of media DSN whose URLs are public, for the first-media-use table. The guide's
# django-storage-url cannot read endpoint= (ours), so those rows have no guide column.
MEDIA_DSNS = {
    **DSNS,
    "s3-no-domain": "s3://AKIA:t62L%2BOw@example-live.s3.eu-central-1.amazonaws.com/",
    "s3-acl-none": "s3://AKIA:s3cr3t-key@example-live.s3.amazonaws.com/?acl=none&domain=m.example.com",
    "exoscale": "s3://EXO:s3cr3t-key@example-test-7654.sos-ch-dk-2.exo.io/?auth=s3",
    "minio-how-to": "s3://minioadmin:minioadmin@media/?endpoint=http://127.0.0.1:9000"
    "&url=http%3A%2F%2Flocalhost%3A9000%2Fmedia&acl=none",
    "endpoint-no-url": "s3://K:s3cr3t-key@media/?endpoint=http://127.0.0.1:9000",
}
OURS_ONLY = ("minio-how-to", "endpoint-no-url")
# Never connected to: check and setup open no connection, but load the driver.
DATABASE_URL = "postgres://bench:bench-password@127.0.0.1:5432/bench"
STOCK_PG = """
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "bench",
    "USER": "bench", "PASSWORD": "bench-password", "HOST": "127.0.0.1", "PORT": "5432"}}
"""
BASE_ENV = {
    "DJANGO_DEBUG": "False",
    "SECURE_SSL_REDIRECT": "False",
    "SECRET_KEY": KEY,
    "DOMAIN_ALIASES": "testserver, localhost, 127.0.0.1",
    "LOG_LEVEL": "WARNING",
    "DATABASE_URL": DATABASE_URL,
}

GUIDE_SETTINGS = """
# --- Divio's deployment guide, by hand ---
import os
import dj_database_url
from django_storage_url import dsn_configured_storage_class

SECRET_KEY = os.environ.get("SECRET_KEY", "<a string of random characters>")
DEBUG = os.environ.get("DJANGO_DEBUG") == "True"
DIVIO_DOMAIN = os.environ.get("DOMAIN", "")
DIVIO_DOMAIN_ALIASES = [d.strip() for d in os.environ.get("DOMAIN_ALIASES", "").split(",") if d.strip()]
DIVIO_DOMAIN_REDIRECTS = [d.strip() for d in os.environ.get("DOMAIN_REDIRECTS", "").split(",") if d.strip()]
ALLOWED_HOSTS = [DIVIO_DOMAIN] + DIVIO_DOMAIN_ALIASES + DIVIO_DOMAIN_REDIRECTS
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT") != "False"
MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite://:memory:")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "staticfiles")
DEFAULT_STORAGE_DSN = os.environ.get("DEFAULT_STORAGE_DSN")
DefaultStorageClass = dsn_configured_storage_class("DEFAULT_STORAGE_DSN")
STORAGES = {
    "default": {"BACKEND": "benchsite.settings.DefaultStorageClass"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = os.path.join("/data/media/")
"""
OUR_SETTINGS = """
import time as _bench_time
_bench_start = _bench_time.perf_counter()
import divio_settings
divio_settings.apply(globals())
BENCH_OWN_SETTINGS_MS = (_bench_time.perf_counter() - _bench_start) * 1000
"""
VARIANTS = ("stock", "stock-pg", "guide", "ours")
URLS = """
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.urls import path


def hello(request):
    return HttpResponse("ok")


def media50(request):
    urls = "".join(f'<img src="{default_storage.url(f"photos/{i} image.jpg")}">' for i in range(50))
    return HttpResponse(urls)


urlpatterns += [path("hello/", hello), path("media50/", media50)]
"""


def median_range(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def make_projects(tmp: Path) -> dict[str, Path]:
    projects = {}
    for variant in VARIANTS:
        path = tmp / variant
        path.mkdir()
        subprocess.run(
            [sys.executable, "-m", "django", "startproject", PACKAGE, str(path)], check=True
        )
        settings = path / PACKAGE / "settings.py"
        if variant == "guide":
            settings.write_text(settings.read_text() + GUIDE_SETTINGS)
        elif variant == "ours":
            settings.write_text(settings.read_text() + OUR_SETTINGS)
        else:
            settings.write_text(
                settings.read_text()
                .replace(
                    "ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['testserver', 'localhost', '127.0.0.1']"
                )
                .replace("DEBUG = True", "DEBUG = False")
                + (STOCK_PG if variant == "stock-pg" else "")
            )
        urls = path / PACKAGE / "urls.py"
        urls.write_text(urls.read_text() + URLS)
        projects[variant] = path
    return projects


def child_env(project: Path, extra: Mapping[str, str]) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": f"{project}:{ROOT}",
        "DJANGO_SETTINGS_MODULE": f"{PACKAGE}.settings",
        **BASE_ENV,
        **extra,
    }


def python(project: Path, code: str, extra: Mapping[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        capture_output=True,
        text=True,
        env=child_env(project, extra),
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return result.stdout.strip().splitlines()[-1]


SETUP = """
import json, resource, sys, time
start = time.perf_counter()
import django
django.setup()
elapsed = (time.perf_counter() - start) * 1000
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from django.conf import settings
own = getattr(settings, "BENCH_OWN_SETTINGS_MS", None)
if own is not None:
    # The app's ready() (check registration) again, its module imported afresh.
    from django.apps import apps
    sys.modules.pop("divio_settings.checks", None)
    ready = time.perf_counter()
    apps.get_app_config("divio_settings").ready()
    own += (time.perf_counter() - ready) * 1000
print(json.dumps({"ms": elapsed, "rss_mib": rss, "own_ms": own}))
"""
CALLGRIND_SETUP = "import django; django.setup()"
FIRST_MEDIA_REQUEST = """
import json, resource, sys, time, timeit, django
django.setup()
from django.test import Client
client = Client()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
client.get("/hello/")  # the worker is warm, media was never used
start = time.perf_counter()
response = client.get("/media50/")
elapsed = (time.perf_counter() - start) * 1000
assert response.status_code == 200, response.status_code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from django.core.files.storage import default_storage
per_url = min(timeit.repeat(lambda: default_storage.url("photos/1 image.jpg"), number=2000, repeat=5)) / 2000 * 1e6
sdk = sorted(m for m in ("boto3", "botocore", "azure.storage.blob", "furl", "storages") if m in sys.modules)
print(json.dumps({"ms": elapsed, "rss_mib": (after - before) / 1024, "per_url_us": per_url, "sdk": sdk}))
"""


def interleaved(samplers: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Every sampler once per round, the order rotating each round (drift of the machine during
    the run then favours no variant)."""
    names = list(samplers)
    out: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            out[name].append(samplers[name]())
    return out


def pair_ratio(a: list[float], b: list[float]) -> dict[str, float]:
    """Median (min-max) of the per-round ratios a/b."""
    per_round = [x / y for x, y in zip(a, b, strict=True)]
    return {k: round(v, 3) for k, v in median_range(per_round).items()}


STARTUP_COMBOS = (
    ("stock", "file"),
    ("stock-pg", "file"),
    *((variant, dsn) for dsn in DSNS for variant in ("guide", "ours")),
)


def bench_startup(projects: dict[str, Path], rounds: int) -> dict[str, Any]:
    """django.setup() (in-process timer, RSS, our own code's share) and `manage.py check` (wall
    time of the whole process), interleaved."""
    setups: dict[str, list[dict[str, Any]]] = {}

    def setup_sampler(variant: str, dsn: str) -> Callable[[], float]:
        key = f"{variant}/{dsn}"

        def sample() -> float:
            result = json.loads(
                python(projects[variant], SETUP, {"DEFAULT_STORAGE_DSN": DSNS[dsn]})
            )
            setups.setdefault(key, []).append(result)
            return float(result["ms"])

        return sample

    def check_sampler(variant: str, dsn: str) -> Callable[[], float]:
        return lambda: timed_check(projects[variant], {"DEFAULT_STORAGE_DSN": DSNS[dsn]})

    setup_ms = interleaved({f"{v}/{d}": setup_sampler(v, d) for v, d in STARTUP_COMBOS}, rounds)
    check_s = interleaved({f"{v}/{d}": check_sampler(v, d) for v, d in STARTUP_COMBOS}, rounds)
    out: dict[str, Any] = {
        "rounds": rounds,
        "setup_ms": {key: median_range(values) for key, values in setup_ms.items()},
        "check_s": {key: median_range(values) for key, values in check_s.items()},
        "rss_mib": {
            key: median_range([r["rss_mib"] for r in results]) for key, results in setups.items()
        },
        "own_ms": {
            key: median_range([r["own_ms"] for r in results])
            for key, results in setups.items()
            if key.startswith("ours/")
        },
        "ratios": {},
    }
    for dsn in DSNS:
        for measure, values in (("setup", setup_ms), ("check", check_s)):
            ours = values[f"ours/{dsn}"]
            out["ratios"][f"{measure} ours/guide {dsn}"] = pair_ratio(ours, values[f"guide/{dsn}"])
            out["ratios"][f"{measure} ours/stock {dsn}"] = pair_ratio(ours, values["stock/file"])
            out["ratios"][f"{measure} ours/stock-pg {dsn}"] = pair_ratio(
                ours, values["stock-pg/file"]
            )
            out["ratios"][f"{measure} guide/stock-pg {dsn}"] = pair_ratio(
                values[f"guide/{dsn}"], values["stock-pg/file"]
            )
    out["ratios"]["setup stock-pg/stock (the driver)"] = pair_ratio(
        setup_ms["stock-pg/file"], setup_ms["stock/file"]
    )
    out["ratios"]["check stock-pg/stock (the driver)"] = pair_ratio(
        check_s["stock-pg/file"], check_s["stock/file"]
    )
    return out


def bench_instructions(projects: dict[str, Path]) -> dict[str, int] | None:
    """callgrind's instruction count (Ir) of a whole process that runs django.setup()."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    out: dict[str, int] = {}
    # Twice each, the second counted: the first may compile bytecode the second finds cached.
    for variant, dsn in [*STARTUP_COMBOS, *STARTUP_COMBOS]:
        result = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                "-c",
                CALLGRIND_SETUP,
            ],
            cwd=projects[variant],
            capture_output=True,
            text=True,
            # A fixed hash seed: dict layouts, and so the count, the same in every run.
            env={
                **child_env(projects[variant], {"DEFAULT_STORAGE_DSN": DSNS[dsn]}),
                "PYTHONHASHSEED": "0",
            },
            timeout=600,
        )
        found = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or not found:
            raise RuntimeError(result.stderr[-2000:])
        out[f"{variant}/{dsn}"] = int(found.group(1))
    return out


def timed_check(project: Path, env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=project,
        check=True,
        capture_output=True,
        env=child_env(project, env),
    )
    return time.perf_counter() - start


def bench_apply(runs: int) -> dict[str, float]:
    import timeit

    sys.path.insert(0, str(ROOT))
    import divio_settings

    env = {
        **BASE_ENV,
        "DOMAIN": "example.us.aldryn.io",
        "DATABASE_URL": "postgres://u:pa55w0rd@db:5432/x",
        "DEFAULT_STORAGE_DSN": DSNS["s3"],
    }
    base = {
        "__file__": "/app/benchsite/settings.py",
        "MIDDLEWARE": ["django.middleware.security.SecurityMiddleware"],
        "INSTALLED_APPS": ["django.contrib.staticfiles"],
    }

    def once() -> None:
        divio_settings.apply(dict(base), environ=env)

    times = timeit.repeat(once, number=200, repeat=runs)
    return median_range([t / 200 * 1e6 for t in times])  # microseconds


def bench_media(projects: dict[str, Path], rounds: int) -> dict[str, Any]:
    """The first use of 50 media URLs in a fresh worker, for every DSN form, guide and ours
    interleaved; the extra over each variant's own file case is what the DSN form costs."""
    samples: dict[str, list[dict[str, Any]]] = {}

    def sampler(variant: str, form: str) -> Callable[[], float]:
        def sample() -> float:
            result = json.loads(
                python(
                    projects[variant],
                    FIRST_MEDIA_REQUEST,
                    {"DEFAULT_STORAGE_DSN": MEDIA_DSNS[form]},
                )
            )
            samples.setdefault(f"{variant}/{form}", []).append(result)
            return float(result["ms"])

        return sample

    combos = {
        f"{variant}/{form}": sampler(variant, form)
        for form in MEDIA_DSNS
        for variant in ("guide", "ours")
        if not (variant == "guide" and form in OURS_ONLY)
    }
    interleaved(combos, rounds)
    out: dict[str, Any] = {}
    for key, results in samples.items():
        out[key] = {
            "first_request_ms": median_range([r["ms"] for r in results]),
            "rss_mib": median_range([r["rss_mib"] for r in results]),
            "per_url_us": median_range([r["per_url_us"] for r in results]),
            "sdk_loaded": sorted({m for r in results for m in r["sdk"]}),
        }
    for key in list(out):
        variant = key.split("/")[0]
        file_ms = out[f"{variant}/file"]["first_request_ms"]["median"]
        file_rss = out[f"{variant}/file"]["rss_mib"]["median"]
        out[key]["extra_ms"] = round(out[key]["first_request_ms"]["median"] - file_ms, 2)
        out[key]["extra_rss_mib"] = round(out[key]["rss_mib"]["median"] - file_rss, 2)
    return out


def bench_scale(quick: bool) -> dict[str, Any]:
    """apply() against the size of the environment and the number of aliases (env_scale.py)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import env_scale

    return env_scale.measure(repeat=3 if quick else 25)


def cpus() -> tuple[set[int], set[int]] | None:
    """The server's core and the load generator's: the first two this process may use, or None
    on a single core. Apart, wrk does not take CPU time from the worker it measures (with both
    sharing two cores, uvicorn's figures swung between two levels from run to run)."""
    allowed = sorted(os.sched_getaffinity(0))
    return ({allowed[0]}, {allowed[1]}) if len(allowed) >= 2 else None


def pinned(which: int) -> Callable[[], None] | None:
    """A preexec_fn that keeps a child (and its children) on the server's (0) or wrk's (1) core."""
    split = cpus()
    if split is None:
        return None
    return lambda: os.sched_setaffinity(0, split[which])


# The request benchmark's load and server: one worker on one core, wrk with one thread on the
# other (stored with the results, rendered in the page's header line).
HTTP_DESIGN: Mapping[str, int] = {"workers": 1, "wrk_threads": 1, "connections": 8}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(command: list[str], project: Path, env: Mapping[str, str], port: int) -> Iterator[None]:
    process = subprocess.Popen(
        command,
        cwd=project,
        env=child_env(project, env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pinned(0),
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[0]} did not start") from None
                time.sleep(0.1)
        time.sleep(0.5)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wrk(
    url: str, seconds: int, headers: Mapping[str, str], errors: bool = False
) -> dict[str, float]:
    """Requests per second and p99 in ms (HTTP_DESIGN's threads and connections, on wrk's own
    core), 127.0.0.1 only. A 4xx/5xx answer invalidates the figure unless *errors* (a 404 is
    what is measured)."""
    assert url.startswith("http://127.0.0.1:")
    threads, connections = HTTP_DESIGN["wrk_threads"], HTTP_DESIGN["connections"]
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*args, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
        preexec_fn=pinned(1),
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    assert p99
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx and not errors:
        raise RuntimeError(f"{url} answered {non2xx.group(1)} errors: the figure would be invalid")
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * factor,
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def servers(port: int) -> dict[str, list[str]]:
    return {
        "gunicorn": [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(HTTP_DESIGN["workers"]),
            "-b",
            f"127.0.0.1:{port}",
            f"{PACKAGE}.wsgi",
        ],
        "uvicorn": [
            sys.executable,
            "-m",
            "uvicorn",
            "--workers",
            str(HTTP_DESIGN["workers"]),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            f"{PACKAGE}.asgi:application",
        ],
    }


# The request benchmarks' environment (here and instructions.py's per request): a cloud with a
# redirect, media on files.
HTTP_ENV: Mapping[str, str] = {
    "DEFAULT_STORAGE_DSN": DSNS["file"],
    "DOMAIN": "example.com",
    "DOMAIN_REDIRECTS": "old.example.com",
}


def collect_static(projects: dict[str, Path], env: Mapping[str, str]) -> None:
    """collectstatic in the guide's project and ours (the hashed files the requests ask for)."""
    for variant in ("guide", "ours"):
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput"],
            cwd=projects[variant],
            check=True,
            capture_output=True,
            env=child_env(projects[variant], env),
        )


def bench_http(projects: dict[str, Path], runs: int, seconds: int) -> dict[str, Any]:
    """Repetitions interleave the variants in pairs whose order alternates (guide then ours,
    ours then guide, …) so that drift of the machine during the run favours neither; each pair's
    ratio is kept (http_pairs), and the figures are the median of the pairs' ratios."""
    samples: dict[str, list[dict[str, float]]] = {}
    env = HTTP_ENV
    collect_static(projects, env)
    for run in range(runs):
        for variant in ("guide", "ours") if run % 2 == 0 else ("ours", "guide"):
            for server in ("gunicorn", "uvicorn"):
                port = free_port()
                with serve(servers(port)[server], projects[variant], env, port):
                    url = f"http://127.0.0.1:{port}"
                    key = f"{variant}/{server}"
                    # Every worker booted and warm (apps loaded, middleware built) before the
                    # measured runs: the port opens before the workers have imported Django.
                    wrk(f"{url}/hello/", 1, {"Host": "localhost"})
                    samples.setdefault(f"{key}/view", []).append(
                        wrk(f"{url}/hello/", seconds, {"Host": "localhost"})
                    )
                    if variant == "ours":
                        samples.setdefault(f"{key}/redirect", []).append(
                            wrk(f"{url}/hello/", seconds, {"Host": "old.example.com"})
                        )
                    if server == "gunicorn":
                        css = hashed_css(projects[variant])
                        samples.setdefault(f"{key}/static", []).append(
                            wrk(
                                f"{url}/static/{css}",
                                seconds,
                                {"Host": "localhost", "Accept-Encoding": "gzip"},
                            )
                        )
                        # A file of another build (a rolling deploy's old page) with file media
                        # (nothing published): ours a 404 with StaticMissMiddleware's no-store,
                        # the guide Django's 404 from the URL resolver.
                        samples.setdefault(f"{key}/static-miss", []).append(
                            wrk(
                                f"{url}/static/{other_build(css)}",
                                seconds,
                                {"Host": "localhost", "Accept-Encoding": "gzip"},
                                errors=True,
                            )
                        )
    out: dict[str, Any] = {key: summarize(values) for key, values in samples.items()}
    out["nginx/static"] = bench_nginx(projects["ours"], runs, seconds)
    return out


def summarize(samples: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "rps": median_range([s["rps"] for s in samples]),
        "rps_runs": [s["rps"] for s in samples],
        "p99_ms": median_range([s["p99_ms"] for s in samples]),
        "errors": sum(s["errors"] for s in samples),
    }


def other_build(hashed: str) -> str:
    """*hashed* with another build's hash: admin/css/base.0123456789ab.css."""
    stem, digest, suffix = hashed.rsplit(".", 2)
    return (
        f"{stem}.{'0' * len(digest) if digest != '0' * len(digest) else '1' * len(digest)}.{suffix}"
    )


def hashed_css(project: Path) -> str:
    manifest = json.loads((project / "staticfiles" / "staticfiles.json").read_text())
    return str(manifest["paths"]["admin/css/base.css"])


def bench_nginx(project: Path, runs: int, seconds: int) -> dict[str, Any] | None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        return None
    port = free_port()
    prefix = Path(tempfile.mkdtemp())
    (prefix / "nginx.conf").write_text(f"""
worker_processes {HTTP_DESIGN['workers']};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  include /etc/nginx/mime.types;
  gzip_static on;
  server {{
    listen 127.0.0.1:{port};
    location /static/ {{ alias {project}/staticfiles/; expires max; add_header Cache-Control immutable; }}
  }}
}}
""")
    command = [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    with serve(command, project, {}, port):
        samples = [
            wrk(
                f"http://127.0.0.1:{port}/static/{hashed_css(project)}",
                seconds,
                {"Accept-Encoding": "gzip"},
            )
            for _ in range(runs)
        ]
    return summarize(samples)


def ratio(a: float, b: float) -> float:
    return round(a / b, 3)


# Our stack against the guide's under load: (measure, server) of each pair.
HTTP_PAIRS = {
    "view rps ours/guide gunicorn": ("view", "gunicorn"),
    "view rps ours/guide uvicorn": ("view", "uvicorn"),
    "static rps ours/guide gunicorn": ("static", "gunicorn"),
    "static-miss rps ours/guide gunicorn": ("static-miss", "gunicorn"),
}


def http_pairs(http: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Median (min-max) of the ratios ours/guide of the pairs measured back to back."""
    return {
        name: pair_ratio(
            http[f"ours/{server}/{measure}"]["rps_runs"],
            http[f"guide/{server}/{measure}"]["rps_runs"],
        )
        for name, (measure, server) in HTTP_PAIRS.items()
    }


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """The chart's bars: medians of per-round ratios (start-up) and of the HTTP pairs' ratios."""
    start, http = results["startup"], results["http"]
    r = {}
    for dsn in DSNS:
        r[f"setup ours/guide, {dsn}"] = start["ratios"][f"setup ours/guide {dsn}"]["median"]
        r[f"check ours/guide, {dsn}"] = start["ratios"][f"check ours/guide {dsn}"]["median"]
    r["check ours/stock-pg, file"] = start["ratios"]["check ours/stock-pg file"]["median"]
    r["check ours/stock, file"] = start["ratios"]["check ours/stock file"]["median"]
    pairs = http_pairs(http)
    for name in HTTP_PAIRS:
        r[name] = pairs[name]["median"]
    r["static rps whitenoise/view (ours, gunicorn)"] = ratio(
        http["ours/gunicorn/static"]["rps"]["median"], http["ours/gunicorn/view"]["rps"]["median"]
    )
    if http.get("nginx/static"):
        r["static rps whitenoise/nginx"] = ratio(
            http["ours/gunicorn/static"]["rps"]["median"], http["nginx/static"]["rps"]["median"]
        )
    return r


def chart(values: dict[str, float]) -> str:
    """A horizontal bar chart of the ratios (1.0 marked), as SVG."""
    rows = [(k, v) for k, v in values.items() if "(ms)" not in k]
    width, bar_h, left = 760, 22, 330
    height = 40 + bar_h * len(rows)
    top = max(v for _, v in rows) * 1.1
    scale = (width - left - 60) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<text x="10" y="18" font-weight="bold">divio-settings benchmarks: ratios '
        "(median of repeated runs)</text>",
    ]
    for i, (label, value) in enumerate(rows):
        y = 30 + i * bar_h
        parts.append(f'<text x="10" y="{y + 15}">{label}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{value * scale:.1f}" height="{bar_h - 6}" '
            'fill="#4a7bd0"/>'
        )
        parts.append(f'<text x="{left + value * scale + 5:.1f}" y="{y + 15}">{value}</text>')
    one = left + scale
    parts.append(
        f'<line x1="{one:.1f}" y1="28" x2="{one:.1f}" y2="{height}" stroke="#c33" '
        'stroke-dasharray="4"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter loads")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn/uvicorn/nginx load")
    parser.add_argument("--rounds", type=int, default=30, help="start-up rounds (default 30)")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS / "latest.json",
        help="where the JSON results go (default: benchmarks/results/latest.json)",
    )
    args = parser.parse_args(argv)
    runs, seconds = (3, 1) if args.quick else (7, 4)
    rounds, media_rounds = (2, 1) if args.quick else (args.rounds, 10)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # nginx workers read STATIC_ROOT
        projects = make_projects(Path(tmp))
        results: dict[str, Any] = {
            "machine": machine(),
            "startup": bench_startup(projects, rounds),
            "instructions": None if args.quick else bench_instructions(projects),
            "apply_us": bench_apply(runs),
            "scale": bench_scale(args.quick),
            "media": bench_media(projects, media_rounds),
            "http": {} if args.skip_http else bench_http(projects, 1 if args.quick else 7, seconds),
        }
    if results["http"]:
        results["http_pairs"] = http_pairs(results["http"])
        results["http_design"] = {**HTTP_DESIGN, "cores_apart": cpus() is not None}
    if results["http"] and not args.quick:
        results["ratios"] = ratios(results)
        CHART.parent.mkdir(parents=True, exist_ok=True)
        CHART.write_text(chart(results["ratios"]))
    results["seconds"] = round(time.time() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["startup"]["ratios"], indent=2))
    print(json.dumps(results.get("ratios", {}), indent=2))
    print(f"written {args.output} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
