"""Per-request facts (client IP, request id) that services need for the audit log without a request."""

from __future__ import annotations

from contextvars import ContextVar

client_ip: ContextVar[str | None] = ContextVar("taizhang_client_ip", default=None)
