"""Errors that are the user's to fix: the command line prints them in one line, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (a bad name, an unreadable file, a bad flag value).

    ``exit_code`` is the command's documented exit status for it (2 for "cannot read or
    load" in every command of the contract).
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
