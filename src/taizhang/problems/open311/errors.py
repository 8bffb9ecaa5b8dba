"""The errors of the GeoReport v2 interface: each becomes `[{"code": <HTTP status>, "description": …}]`."""

from __future__ import annotations


class Open311Error(Exception):
    status = 400

    def __init__(self, description: str, *, status: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        if status is not None:
            self.status = status


class BadRequest(Open311Error):
    status = 400


class Forbidden(Open311Error):
    status = 403


class NotFound(Open311Error):
    status = 404
