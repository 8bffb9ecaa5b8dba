"""Per-request facts and caches that services and selectors need without being handed the request.

The audit middleware opens a context for every request: the client address (for the audit log) and a
small cache for per-request derived values such as a user's scope filters. Outside a request (tests,
tasks, commands) nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

client_ip: ContextVar[str | None] = ContextVar("taizhang_client_ip", default=None)
_cache: ContextVar[dict[Any, Any] | None] = ContextVar("taizhang_request_cache", default=None)


@contextmanager
def request_context(ip: str | None) -> Iterator[None]:
    ip_token = client_ip.set(ip)
    cache_token = _cache.set({})
    try:
        yield
    finally:
        client_ip.reset(ip_token)
        _cache.reset(cache_token)


def per_request(key: Any, compute: Callable[[], T]) -> T:
    """`compute()` once per request for `key` (every call outside a request computes)."""
    cache = _cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]
