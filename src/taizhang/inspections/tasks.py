from __future__ import annotations

from django_tasks import task


@task()
def refresh_standing_campaigns() -> dict[str, int]:
    """The daily job (registered in InspectionsConfig.ready()): standing campaigns (日常巡查) follow the registry —
    newly resumed establishments become targets, closed or suspended ones drop out."""
    from .services import refresh_standing_campaigns as refresh

    return refresh()
