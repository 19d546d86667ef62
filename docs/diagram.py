"""The picture of the front page: `python docs/diagram.py` writes docs/_static/environments.svg.

Three environments a project runs in, and what `apply()` does in each. The words are the
library's: the environment names are conf.py's, the variables in each column are the registry's
(`divio_settings.variables`), so the picture cannot name a variable the library does not read.
tests/test_docs.py checks that the committed SVG is what this script writes.
"""

from __future__ import annotations

import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "_static" / "environments.svg"

# (title, where, what the environment gives, what apply() does there)
COLUMNS = (
    (
        "build",
        "docker build: RUN collectstatic",
        ["no variables", "no services"],
        [
            "local mode: settings.py's values",
            "no database opened, none created",
            "WhiteNoise: hashed, compressed",
            "static files into STATIC_ROOT",
        ],
    ),
    (
        "local",
        "your laptop, docker compose",
        [".env-local:", "DATABASE_URL", "DEFAULT_STORAGE_DSN", "DJANGO_DEBUG", "DOMAIN_ALIASES"],
        [
            "settings.py's values kept",
            "localhost hosts, no https redirect",
            "media under /data/media at /media/",
            "DEBUG from DJANGO_DEBUG",
        ],
    ),
    (
        "cloud",
        "Divio test and live",
        ["DOMAIN", "SECRET_KEY", "STAGE", "DATABASE_URL", "DEFAULT_STORAGE_DSN"],
        [
            "hosts and CSRF origins from DOMAIN",
            "https redirect, HSTS, secure cookies",
            "S3 or Azure media, shared cache",
            "refuses to start without SECRET_KEY",
        ],
    ),
)
WIDTH, COLUMN, GAP, LINE = 910, 280, 20, 18


def names_in(words: list[str]) -> list[str]:
    return [word for word in words if word.isupper() and "_" in word or word in ("DOMAIN", "STAGE")]


def svg() -> str:
    from divio_settings import variables

    known = {variable.name for variable in variables.VARIABLES}
    for _, _, given, _ in COLUMNS:
        unknown = [name for name in names_in(given) if name not in known]
        assert not unknown, f"the picture names variables the registry lacks: {unknown}"
    height = 60 + LINE * (2 + max(len(g) for _, _, g, _ in COLUMNS)) + LINE * 6 + 40
    parts = [
        # Scales to the page's width (viewBox), never wider than drawn.
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" style="max-width: {WIDTH}px" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">',
        "<title>What apply() does in the build, locally and in the cloud</title>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for index, (title, where, given, does) in enumerate(COLUMNS):
        x = 15 + index * (COLUMN + GAP)
        parts.append(
            f'<rect x="{x}" y="10" width="{COLUMN}" height="{height - 20}" rx="8" '
            'fill="#f3f6fb" stroke="#3b5b92" stroke-width="1.5"/>'
        )
        parts.append(
            f'<text x="{x + COLUMN / 2}" y="34" text-anchor="middle" font-size="17" '
            f'font-weight="bold" fill="#1d355e">{escape(title)}</text>'
        )
        parts.append(
            f'<text x="{x + COLUMN / 2}" y="54" text-anchor="middle" fill="#444">'
            f"{escape(where)}</text>"
        )
        y = 84
        parts.append(f'<text x="{x + 12}" y="{y}" font-weight="bold">the environment gives</text>')
        for word in given:
            y += LINE
            parts.append(
                f'<text x="{x + 20}" y="{y}" font-family="monospace">{escape(word)}</text>'
            )
        y = 84 + LINE * (2 + max(len(g) for _, _, g, _ in COLUMNS))
        parts.append(f'<text x="{x + 12}" y="{y}" font-weight="bold">apply() does</text>')
        for line in does:
            y += LINE
            parts.append(f'<text x="{x + 20}" y="{y}">{escape(line)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> int:
    OUTPUT.write_text(svg())
    print(f"wrote {OUTPUT.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
