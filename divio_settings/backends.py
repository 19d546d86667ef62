"""Where 0.1.0 kept the media backend. Migrations written with 0.1.0 name
``divio_settings.backends.DSNStorage``; this keeps that path importable. New code and new
migrations use ``divio_settings.storage.backend.DSNStorage``."""

from __future__ import annotations

from .storage.backend import DSNStorage

__all__ = ["DSNStorage"]
