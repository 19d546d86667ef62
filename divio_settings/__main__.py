"""`python -m divio_settings`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
