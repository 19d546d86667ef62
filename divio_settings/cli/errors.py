"""The command's one error type: a message for the user, printed as one line, exit status 1."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit status 1, no traceback."""
