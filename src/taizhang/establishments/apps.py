from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class EstablishmentsConfig(AppConfig):
    name = "taizhang.establishments"
    label = "establishments"
    verbose_name = "单位台账"

    def ready(self) -> None:
        from taizhang.core.nav import NavItem, register

        from . import timeline
        from .forms import READERS

        register(NavItem("单位台账", "establishments:list", READERS, section="基础台账", order=30))
        timeline.register(own_events)


EVENT_TONES = {"resumed": "ok", "suspended": "warn", "closed": "bad", "filing": "info", "approved": "info"}


def own_events(establishment: Any, user: Any) -> list[Any]:
    """The timeline's first source: the establishment's own events (registration, edits, status changes)."""
    from .models import EstablishmentEvent, Status
    from .selectors import establishment_events
    from .timeline import Entry

    def label(status: str) -> str:
        return str(Status(status).label) if status in Status.values else status

    entries = []
    for ev in establishment_events(establishment=establishment)[:200]:
        actor = (ev.actor.display_name or ev.actor.username) if ev.actor else "系统"
        tone = ""
        if ev.kind == EstablishmentEvent.Kind.STATUS:
            title = f"状态：{label(ev.from_status)} → {label(ev.to_status)}"
            tone = EVENT_TONES.get(ev.to_status, "")
        elif ev.kind == EstablishmentEvent.Kind.CREATED:
            title = f"登记入台账（{label(ev.to_status)}）" if ev.to_status else "登记入台账"
        elif ev.kind == EstablishmentEvent.Kind.UPDATED:
            title = "修改信息"
        else:
            title = str(EstablishmentEvent.Kind(ev.kind).label) if ev.kind in EstablishmentEvent.Kind.values else ev.kind
        entries.append(Entry(at=ev.at, source="单位", title=title, detail=ev.note, actor=actor, tone=tone))
    return entries
