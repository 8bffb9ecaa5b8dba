"""An establishment's timeline gathers entries from every capability (filings, visits, problems …).

Each app registers a provider in its AppConfig.ready(); the detail page shows the merged, dated list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Entry:
    at: datetime
    source: str  # 单位, 备案, 走访, 问题 …
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""
    tone: str = ""  # ok, warn, bad, info


Provider = Callable[[Any, Any], list[Entry]]  # (establishment, user) -> entries the user may see
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def timeline_of(*, establishment: Any, user: Any, limit: int = 200) -> list[Entry]:
    entries: list[Entry] = []
    for provider in _PROVIDERS:
        entries.extend(provider(establishment, user))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
