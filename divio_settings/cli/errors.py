"""The CLI's one error type: printed as one line, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; main() prints it and returns 1."""
