"""Telling people about filings through `taizhang.notifications`: the reviewer unit when a filing arrives or
is overdue (so the department head sees it too), the filer when it is decided.

Called inside the service's transaction: the notification rows roll back with the step that caused them,
and delivery is queued by `notify()` only once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from taizhang.accounts.models import Post, User
from taizhang.notifications.services import notify

from .scoping import REVIEW_ROLES

KIND = "filing"


def unit_members(unit_ids: Iterable[int]) -> list[User]:
    ids = list(unit_ids)
    if not ids:
        return []
    user_ids = Post.objects.active().filter(unit_id__in=ids, role__in=REVIEW_ROLES).values("user_id")
    return list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))


def notify_units(*, unit_ids: Iterable[int], title: str, body: str = "", link: str = "", user_ids: Iterable[int] = ()) -> None:
    people = list(user_ids)
    users = unit_members(unit_ids) + (list(User.objects.filter(pk__in=people, is_active=True)) if people else [])
    notify(users=users, title=title, body=body, url=link, kind=KIND)
