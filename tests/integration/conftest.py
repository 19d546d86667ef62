"""Fixtures for the integration tests live in tests/conftest.py (the e2e tests share them)."""

from __future__ import annotations

from tests.conftest import PASSWORD

__all__ = ["PASSWORD"]
