"""Sphinx configuration; the version comes from pyproject.toml."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parent.parent
with open(ROOT / "pyproject.toml", "rb") as file:
    release = version = tomllib.load(file)["project"]["version"]

sys.path.insert(0, str(ROOT))

project = "divio-settings"
author = "divio-settings developers"
copyright = "2026, divio-settings developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"divio-settings {version}"
myst_heading_anchors = 3
autodoc_typehints = "description"
nitpicky = False
