"""The one error the reimbursement's checks raise, with a code for the UI.

A form maps the code to a translation key; the message is for logs only.
"""

from __future__ import annotations


class InputError(ValueError):
    """A value a user gave is not usable; ``code`` says why (snake_case)."""

    def __init__(self, code: str, message: str = "") -> None:
        """Keep the code; the message defaults to it."""
        super().__init__(message or code)
        self.code = code
