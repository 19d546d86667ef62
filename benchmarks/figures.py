"""The figures the docs print, rendered from the stored results: `python benchmarks/figures.py`.

docs/performance.md and docs/deployment.md hold blocks between ``<!-- figures: NAME -->`` and
``<!-- /figures -->``; each is rendered here from ``benchmarks/results/*.json`` and nothing
else, with the machine and the date of the run. Without arguments the blocks in the pages are
rewritten (after a benchmark run); tests/test_docs.py checks that each block equals its
rendering, so a figure on those pages cannot drift from the stored result.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PAGES = (ROOT / "docs" / "performance.md", ROOT / "docs" / "deployment.md")
BLOCK = re.compile(r"(<!-- figures: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.S)


def load(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((RESULTS / f"{name}.json").read_text())
    return result


def source(name: str, extra: str = "") -> str:
    m = load(name)["machine"]
    return (
        f"Stored result: `benchmarks/results/{name}.json` ({m['date']}; {m['cpus']} cores, "
        f"Python {m['python']}, Django {m['django']}{extra})."
    )


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def spread(f: dict[str, float], digits: int = 3) -> str:
    return f"{f['median']:.{digits}f} ({f['min']:.2f}–{f['max']:.2f})"


def startup() -> str:
    r = load("latest")
    s = r["startup"]
    setup, check, rss = s["setup_ms"], s["check_s"], s["rss_mib"]
    variants = ("stock", "stock-pg", "guide", "ours")
    forms = (("file", "file"), ("s3", "S3"), ("azure", "Azure"))
    rows = ["| | stock | stock-pg | guide | ours |", "|---|---|---|---|---|"]
    for key, label in forms:
        cells = [
            f"{setup[f'{v}/{key}']['median']:.0f} ms" if f"{v}/{key}" in setup else ""
            for v in variants
        ]
        rows.append(f"| `django.setup()`, {label} DSN | " + " | ".join(cells) + " |")
    for key, label in forms:
        cells = [
            f"{check[f'{v}/{key}']['median'] * 1000:.0f} ms" if f"{v}/{key}" in check else ""
            for v in variants
        ]
        rows.append(
            f"| `manage.py check` (whole process), {label} DSN | " + " | ".join(cells) + " |"
        )
    cells = [f"{rss[f'{v}/file']['median']:.1f} MiB" for v in variants]
    rows.append("| peak RSS after `django.setup()` | " + " | ".join(cells) + " |")
    ratios = s["ratios"]
    table = ["| | file | S3 | Azure |", "|---|---|---|---|"]
    for measure, label in (("setup", "`django.setup()`"), ("check", "`manage.py check`")):
        for pair, words in (
            ("ours/guide", "ours ÷ guide"),
            ("ours/stock-pg", "ours ÷ stock-pg (same driver)"),
            ("guide/stock-pg", "guide ÷ stock-pg (same driver)"),
            ("ours/stock", "ours ÷ stock (SQLite)"),
        ):
            cells = [spread(ratios[f"{measure} {pair} {key}"]) for key, _ in forms]
            table.append(f"| {label} {words} | " + " | ".join(cells) + " |")
        driver = ratios[f"{measure} stock-pg/stock (the driver)"]
        table.append(f"| {label} stock-pg ÷ stock (the database driver) | {spread(driver)} | | |")
    own = s["own_ms"]
    own_text = ", ".join(f"{own[f'ours/{key}']['median']:.2f} ms ({label})" for key, label in forms)
    worst = max(own[f"ours/{key}"]["median"] for key, _ in forms)
    apply_us = r["apply_us"]["median"]
    return "\n".join(
        [
            source("latest", f"; {s['rounds']} rounds"),
            "",
            *rows,
            "",
            f"Ratios, median of the {s['rounds']} per-round ratios (min–max):",
            "",
            *table,
            "",
            "The library's own share, timed inside the *ours* process (importing the package, "
            f"`apply()` with the dj-database-url it loads): {own_text}; target ≤ 1 ms, "
            f"{verdict(worst <= 1.0)}. `apply()` itself, warm, with a live environment: "
            f"{apply_us:.0f} µs (target ≤ 150 µs, {verdict(apply_us <= 150)}).",
            "",
        ]
    )


def rps(f: dict[str, Any]) -> str:
    x = f["rps"]
    return f"{x['median']:,.0f} ({x['min']:,.0f}–{x['max']:,.0f}) | {f['p99_ms']['median']:.1f} ms"


def counted(number: int, noun: str) -> str:
    """'1 worker', '2 workers'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


# #35's target for requests: at least this share of the guide's rate (per request, at most its
# inverse in instructions).
RATE_TARGET = 0.98


def requests() -> str:
    r = load("latest")
    http, ratios = r["http"], r["ratios"]
    rows = [
        ("trivial view, guide's stack", "guide/gunicorn/view"),
        ("trivial view, our stack", "ours/gunicorn/view"),
        (
            "`DOMAIN_REDIRECTS` redirect, our stack (answered before sessions, auth and the URL "
            "resolver)",
            "ours/gunicorn/redirect",
        ),
        ("hashed admin CSS through WhiteNoise, gzip, guide's stack", "guide/gunicorn/static"),
        ("hashed admin CSS through WhiteNoise, gzip, our stack", "ours/gunicorn/static"),
        (
            "a hashed name of another build, guide's stack (Django's 404)",
            "guide/gunicorn/static-miss",
        ),
        (
            "a hashed name of another build, our stack (404, `no-store`, file media)",
            "ours/gunicorn/static-miss",
        ),
        ("the same CSS from nginx (`gzip_static`)", "nginx/static"),
        ("uvicorn, trivial view, guide's stack", "guide/uvicorn/view"),
        ("uvicorn, trivial view, our stack", "ours/uvicorn/view"),
        ("uvicorn, `DOMAIN_REDIRECTS` redirect, our stack", "ours/uvicorn/redirect"),
    ]
    design = r["http_design"]
    workers = design["workers"]
    table = [
        f"| gunicorn, {counted(workers, 'sync worker')} (uvicorn: {counted(workers, 'worker')}) "
        "| req/s, median (min–max) | p99 |",
        "|---|---|---|",
    ]
    table += [f"| {label} | {rps(http[key])} |" for label, key in rows if http.get(key)]
    pairs = [
        ("trivial view, gunicorn", "view rps ours/guide gunicorn", True),
        ("trivial view, uvicorn", "view rps ours/guide uvicorn", True),
        ("hashed static file (a hit), gunicorn", "static rps ours/guide gunicorn", True),
        ("a hashed name of another build, gunicorn", "static-miss rps ours/guide gunicorn", False),
    ]
    found = r["http_pairs"]
    runs = len(http["ours/gunicorn/view"]["rps_runs"])
    lines = [
        f"| our stack ÷ the guide's | median of the pairs' ratios (min–max) | "
        f"target ≥ {RATE_TARGET} |",
        "|---|---|---|",
    ]
    for label, key, target in pairs:
        lines.append(
            f"| {label} | {spread(found[key])} | "
            + (verdict(found[key]["median"] >= RATE_TARGET) if target else "–")
            + " |"
        )
    whitenoise = ratios["static rps whitenoise/nginx"]
    return "\n".join(
        [
            source(
                "latest",
                f"; wrk, {counted(design['wrk_threads'], 'thread')}, "
                f"{counted(design['connections'], 'connection')}"
                + ("; the server on one core, wrk on the other" if design["cores_apart"] else "")
                + f"; {runs} pairs of runs, each pair back to back in alternating order",
            ),
            "",
            *table,
            "",
            *lines,
            "",
            f"WhiteNoise serves a hashed file at {ratios['static rps whitenoise/view (ours, gunicorn)']:.2f} × "
            f"the rate of a trivial view and at {whitenoise:.3f} × nginx's rate.",
            "",
        ]
    )


MEDIA_ROWS = (
    ("S3 with `domain=`", "s3"),
    ("S3 with `acl=none`", "s3-acl-none"),
    ("S3 without `domain=` (AWS)", "s3-no-domain"),
    ("Exoscale (`auth=s3`)", "exoscale"),
    ("MinIO, the how-to's DSN (`endpoint=`, `url=`, `acl=none`)", "minio-how-to"),
    ("`endpoint=` without `url=`", "endpoint-no-url"),
    ("Azure", "azure"),
)


def media() -> str:
    r = load("latest")["media"]
    table = [
        "| DSN form | guide: extra time | guide: extra RSS | ours: extra time | ours: extra "
        "RSS | SDK loaded (ours) |",
        "|---|---|---|---|---|---|",
    ]
    for label, form in MEDIA_ROWS:
        guide = r.get(f"guide/{form}")
        ours = r[f"ours/{form}"]
        g = f"{guide['extra_ms']:.0f} ms | {guide['extra_rss_mib']:.1f} MiB" if guide else "— | —"
        sdk = ", ".join(ours["sdk_loaded"]) or "none"
        table.append(
            f"| {label} | {g} | {ours['extra_ms']:.2f} ms | "
            f"{ours['extra_rss_mib']:.1f} MiB | {sdk} |"
        )
    per_url = {key: value["per_url_us"]["median"] for key, value in r.items()}
    return "\n".join(
        [
            source("latest", "; 10 interleaved rounds"),
            "",
            *table,
            "",
            f"The file case itself: {r['ours/file']['first_request_ms']['median']:.1f} ms (ours), "
            f"{r['guide/file']['first_request_ms']['median']:.1f} ms (the guide's). Per URL, warm: "
            f"{per_url['ours/s3']:.1f} µs (ours, S3), {per_url['ours/azure']:.1f} µs (ours, Azure), "
            f"{per_url['ours/file']:.1f} µs (file, Django's own `FileSystemStorage.url`); the "
            f"guide's Azure storage {per_url['guide/azure']:.0f} µs and its S3 storage without "
            f"`domain=` {per_url['guide/s3-no-domain']:.0f} µs.",
            "",
        ]
    )


def renovation() -> str:
    r = load("ab")
    table = ["| measure | file | S3 | Azure |", "|---|---|---|---|"]
    for key, label in (
        ("import_ms", "the library's own start-up (import, `apply()`, `ready()`), new ÷ old"),
        ("media_ms", "first media use, 50 URLs, new ÷ old"),
    ):
        cells = [
            f"{r[f'{key}/{form}']['ratio_median']:.3f} ({r[f'{key}/{form}']['ratio_min']:.2f}"
            f"–{r[f'{key}/{form}']['ratio_max']:.2f})"
            for form in ("file", "s3", "azure")
        ]
        table.append(f"| {label} | " + " | ".join(cells) + " |")
    check = r["check_s"]
    imports = ", ".join(
        f"{r[f'import_ms/{form}']['old_median']:.2f} → {r[f'import_ms/{form}']['new_median']:.2f}"
        f" ms ({label})"
        for form, label in (("file", "file"), ("s3", "S3"), ("azure", "Azure"))
    )
    return "\n".join(
        [
            source("ab", f"; old: commit {r['old']}, {r['import_ms/file']['pairs']} pairs"),
            "",
            *table,
            "",
            f"`manage.py check`, new ÷ old: {check['ratio_median']:.3f} ({check['ratio_min']:.2f}–"
            f"{check['ratio_max']:.2f}). The library's own start-up, old → new: {imports}.",
            "",
        ]
    )


def redaction() -> str:
    r = load("redaction")
    shapes = [key for key in r if key.startswith("redact 1 MB, ")]
    plain = r["redact 1 MB, plain text"]["median_ms"]
    table = ["| `redact()` of 1 MB | ms, median (min–max) | ÷ plain text |", "|---|---|---|"]
    for key in shapes:
        f = r[key]
        table.append(
            f"| {key.removeprefix('redact 1 MB, ')} | {f['median_ms']:.1f} "
            f"({f['min_ms']:.1f}–{f['max_ms']:.1f}) | {f['median_ms'] / plain:.0f} × |"
        )
    worst = max(r[key]["median_ms"] for key in shapes)
    worst_ratio = worst / plain
    big = r["apply() with a 120 KB value, report read"]["median_ms"]
    mail = r["error mail, 256 KB form field"]
    return "\n".join(
        [
            source("redaction", f"; medians of {r['runs']} runs in one process"),
            "",
            *table,
            "",
            f"`apply()` with a 120 KB `CACHE_URL`, the report read: {big:.1f} ms (target ≤ 100 ms, "
            f"{verdict(big <= 100)}). The error mail of a 500 with a 256 KB form field, ours ÷ "
            f"Django's own reporter: {mail['ratio']:.2f} ({mail['ratio_min']:.2f}–"
            f"{mail['ratio_max']:.2f}), Django alone {mail['django_ms']:.0f} ms (target ≤ 2 ×, "
            f"{verdict(mail['ratio'] <= 2)}). 1 MB of any shape: worst {worst:.1f} ms (target ≤ 50 "
            f"ms, {verdict(worst <= 50)}); worst ÷ plain text {worst_ratio:.0f} × (target ≤ 20 ×, "
            f"{verdict(worst_ratio <= 20)}).",
            "",
        ]
    )


def static_miss() -> str:
    r = load("static_skew")
    labels = {
        "hit": ("hashed static file (a hit)", "", ""),
        "page": ("a page (minimal view)", "", ""),
        "miss hashed": ("hashed name this container lacks", "404: ", "302 to the copy: "),
        "miss plain": ("unhashed name, missing", "404: ", "404, `no-store`: "),
    }
    table = [
        "| Request | WhiteNoise alone | with the middleware | ratio (min–max) |",
        "|---|---|---|---|",
    ]
    for case, (label, before, after) in labels.items():
        f = r[case]
        table.append(
            f"| {label} | {before}{f['guide']['median_us']:.1f} µs | "
            f"{after}{f['ours']['median_us']:.1f} µs | {f['ratio']:.3f} "
            f"({f['ratio_min']:.3f}–{f['ratio_max']:.3f}) |"
        )
    extra = r["miss plain"]["ours"]["median_us"] - r["miss plain"]["guide"]["median_us"]
    return "\n".join(
        [
            source(
                "static_skew",
                f"; {r['rounds']} ABBA-interleaved rounds of {r['count']} "
                "requests, median of the per-round ratios",
            ),
            "",
            *table,
            "",
            f"A plain 404 gains {extra:.1f} µs for its header; the miss of a hashed name is answered "
            f"in {r['miss hashed']['ours']['median_us']:.1f} µs instead of the "
            f"{r['miss hashed']['guide']['median_us']:.1f} µs of the 404 it replaces.",
            "",
        ]
    )


def env_scale() -> str:
    r = load("env_scale")
    counts = ("0", "100", "1000", "10000")
    table = ["| unrelated variables | 0 | 100 | 1,000 | 10,000 |", "|---|---|---|---|---|"]
    for label, key in (
        ("environment as a dict", "unrelated"),
        ("the process's own `os.environ`", "os_environ"),
    ):
        cells = [
            f"{r[key][n]['us']:,.0f}" + ("" if n == "0" else f" ({r[key][n]['ratio']:.2f} ×)")
            for n in counts
        ]
        table.append(f"| {label} | " + " | ".join(cells) + " |")
    aliases = r["aliases"]
    each = aliases["100"]["each_us"]
    costs = ", ".join(f"{aliases[n]['us']:,.0f}" for n in ("1", "10", "100"))
    at_1000, at_10000 = r["unrelated"]["1000"]["ratio"], r["unrelated"]["10000"]["ratio"]
    return "\n".join(
        [
            source("env_scale", "; µs per warm `apply()`, best of 25"),
            "",
            *table,
            "",
            f"Database aliases: {costs} µs for 1, 10 and 100 aliases ({each:.0f} µs each). Targets: 1,000 unrelated variables "
            f"≤ 1.3 × none ({verdict(at_1000 <= 1.3)}), 10,000 ≤ 5 × ({verdict(at_10000 <= 5)}), for "
            "the environment as a dict.",
            "",
        ]
    )


# Rows whose target is the guide's count exactly; the others (unrelated variables) ≤ 1.01 ×.
EXACT = ("setup, postgres + S3", "check, postgres + S3", "setup, no database", "check, no database")


def instructions() -> str:
    r = load("instructions")
    table = [
        "| process, environment | guide | ours | ours ÷ guide | target |",
        "|---|---|---|---|---|",
    ]
    for label, f in r["rows"].items():
        target = 1.000 if label in EXACT else 1.01
        table.append(
            f"| {label} | {f['guide'] / 1e6:,.1f} M | {f['ours'] / 1e6:,.1f} M | "
            f"{f['ratio']:.4f} | ≤ {target:.3f}: {verdict(f['ratio'] <= target)} |"
        )
    return "\n".join(
        [source("instructions", "; callgrind"), "", *table, *parts(r), *per_request(r), ""]
    )


def per_request(r: dict[str, Any]) -> list[str]:
    """Instructions per request through the WSGI application: the deterministic side of the
    requests-per-second table (target: at least RATE_TARGET × the guide's rate, so at most its
    inverse × the guide's instructions, for the view and the hit)."""
    found = r.get("per_request")
    if not found:
        return []
    limit = 1 / RATE_TARGET
    table = [
        "",
        "Per request, through the WSGI application a server calls (no network), the request "
        "benchmark's cloud environment, instructions per request:",
        "",
        "| request | guide | ours | ours ÷ guide | target |",
        "|---|---|---|---|---|",
    ]
    for label, f in found.items():
        target = (
            "–" if "another build" in label else f"≤ {limit:.3f}: {verdict(f['ratio'] <= limit)}"
        )
        table.append(f"| {label} | {f['guide']:,} | {f['ours']:,} | {f['ratio']:.4f} | {target} |")
    return table


def parts(r: dict[str, Any]) -> list[str]:
    """Where the gap of `check, postgres + S3` is: the app with its checks, the split."""
    found = r.get("parts")
    if not found:
        return []
    row = r["rows"]["check, postgres + S3"]
    without = found["check, postgres + S3, apply(checks=False)"]
    modules, each = found["modules imported by check"], found["one empty module of a package"]
    return [
        "",
        f"Parts of the {(row['ours'] - row['guide']) / 1e6:,.1f} M of `check, postgres + S3`: "
        f"with `apply(globals(), checks=False)` (no app, no checks) the process counts "
        f"{without / 1e6:,.1f} M ({without / row['guide']:.4f} × the guide's), so the app and "
        f"its checks take {(row['ours'] - without) / 1e6:,.1f} M. The process imports "
        f"{modules} of the library's modules; one more module of a package costs "
        f"{each / 1e3:,.0f} k instructions to import when empty, so the split into "
        f"{modules} modules instead of one costs about {(modules - 1) * each / 1e6:,.1f} M.",
        "",
        f"Importing the package (after the Django modules both sides load) counts "
        f"{found['import divio_settings'] / 1e6:,.1f} M; the guide's two libraries "
        f"(dj-database-url, and django-storage-url with furl, six and orderedmultidict) "
        f"{found[GUIDE_LIBRARIES] / 1e6:,.1f} M "
        f"({found['import divio_settings'] / found[GUIDE_LIBRARIES]:.2f} ×): most of the library's "
        "own start-up time (the first table, target 1 ms) is an import of the size the guide's "
        "settings pay as well.",
        "",
        environ_names(r, found["reading one name of os.environ"]),
    ]


GUIDE_LIBRARIES = "import of the guide's libraries"


def environ_names(r: dict[str, Any], each: int) -> str:
    """Why 10,000 unrelated variables cannot meet 1.01 × with os.environ's public mapping."""
    none, many = (
        r["rows"]["check, postgres + S3"],
        r["rows"]["check, postgres + S3 + 10,000 unrelated"],
    )
    # The library's process without unrelated variables, plus what the guide's pays for them
    # (Python's start-up copies the environment), plus reading their names.
    floor = (none["ours"] + many["guide"] - none["guide"] + each * 10_000) / many["guide"]
    return (
        f"Reading the names of the environment through `os.environ` (its public mapping yields "
        f"each from a Python generator, bytes or text alike) costs {each:,} instructions per "
        f"name before any test of it: with 10,000 unrelated variables that alone brings `check` "
        f"to {floor:.4f} × the guide's, so 1.01 × at 10,000 cannot be met without `os.environ`'s "
        f"private table, which #35 allows only if 1,000 variables need it (the table: they do "
        f"not)."
    )


def cache_cost() -> str:
    r = load("cache_cost")
    operations = ("get (hit)", "set", "incr", "get, new connection")

    def cell(name: str, operation: str) -> str:
        f = r[f"{name}/{operation}"]
        if name == "locmem":
            return f"{f['median_us']:.1f} ({f['min_us']:.1f}–{f['max_us']:.1f})"
        return (
            f"{f['median_us']:,.0f} ({f['min_us']:,.0f}–{f['max_us']:,.0f}), "
            f"{f['ratio_to_locmem']:,.0f} ×"
        )

    table = ["| | get (hit) | set | incr | get, new connection |", "|---|---|---|---|---|"]
    for label, name in (
        ("local memory (per process)", "locmem"),
        ("database cache, PostgreSQL", "database"),
        ("Redis", "redis"),
    ):
        table.append(f"| {label} | " + " | ".join(cell(name, op) for op in operations) + " |")
    extra = r["database/get (hit)"]["median_us"] - r["locmem/get (hit)"]["median_us"]
    return "\n".join(
        [
            source(
                "cache_cost",
                f"; {r['rounds']} interleaved rounds of {r['count']} operations; "
                "µs per operation, median (min–max), and the ratio to local memory",
            ),
            "",
            *table,
            "",
            f"A cache read on a kept connection costs {extra:,.0f} µs more with the database cache than "
            "with local memory.",
            "",
        ]
    )


def preflight() -> str:
    r = load("preflight")
    command, requests = r["command"], r["requests"]
    labels = {
        "view": "a trivial view",
        "view, HealthMiddleware": "the same view, `HealthMiddleware` in `MIDDLEWARE`",
        "alive": "`/-/alive`",
        "ready": "`/-/ready` (`SELECT 1` on a new PostgreSQL connection and a Redis read, each in "
        "a thread of its own)",
    }
    rows = [
        f"| {label} | {f['median_us']:,.1f} ({f['min_us']:,.1f}–{f['max_us']:,.1f}) | "
        f"{f['ratio_to_view']:.3f} × |"
        for key, label in labels.items()
        for f in [requests[key]]
    ]
    return "\n".join(
        [
            source("preflight", f"; {r['rounds']} rounds, {r['count']} requests per sample"),
            "",
            "| whole process, median of the rounds | time | ratio, median of per-round ratios "
            "(min–max) |",
            "|---|---|---|",
            f"| `manage.py check` | {command['check_ms']} ms | |",
            f"| `manage.py preflight` | {command['preflight_ms']} ms | {command['ratio']} × check "
            f"({command['ratio_min']}–{command['ratio_max']}) |",
            "",
            "Per request, in one process through Django's test client (µs, median of the rounds, "
            "min–max; ratio to the trivial view without the middleware):",
            "",
            "| request | µs | ratio |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )


RENDERERS: dict[str, Callable[[], str]] = {
    "startup": startup,
    "requests": requests,
    "media": media,
    "renovation": renovation,
    "redaction": redaction,
    "static-miss": static_miss,
    "env-scale": env_scale,
    "instructions": instructions,
    "cache-cost": cache_cost,
    "preflight": preflight,
}


def blocks(text: str) -> dict[str, str]:
    return {m.group("name"): m.group("body") for m in BLOCK.finditer(text)}


def rendered(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + RENDERERS[m.group("name")]() + m.group(4), text)


def main() -> int:
    for page in PAGES:
        page.write_text(rendered(page.read_text()))
        print(f"rendered {', '.join(blocks(page.read_text()))} in {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
