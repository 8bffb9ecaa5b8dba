"""Errors that services raise and every interface (page, API, import, task) turns into a message."""

from __future__ import annotations

from typing import Any

from django.http import Http404


class ApplicationError(Exception):
    """A business rule refused the operation. `message` is shown to the user (Chinese)."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """Someone else changed the record first (optimistic locking, duplicate submissions)."""

    code = "conflict"


class NotVisible(Http404):
    """Raised by access_<thing>(): 'missing' and 'outside your scope' look the same to the caller."""

    def __init__(self, what: str = "记录") -> None:
        super().__init__(f"{what}不存在")
