from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from taizhang.audit.models import AuditEvent
from taizhang.core.errors import NotVisible

from .models import OrgUnit, Post, User
from .scope import scope_of


def my_posts(*, user: Any) -> list[Post]:
    return list(scope_of(user).posts)


# Wrong current passwords when changing one's password, on the page and the API alike: the numbers of the login
# lockout (docs/adr/0005-lockout-by-username.md); why they are counted in the audit log: docs/adr/0012.
PASSWORD_FAILURE_LIMIT = 5
PASSWORD_FAILURE_WINDOW = timedelta(minutes=30)
OLD_PASSWORD_INCORRECT = "old_password_incorrect"  # noqa: S105 -- the audit detail of a wrong current password


def password_failures(*, user: Any, now: datetime | None = None) -> list[datetime]:
    """The times of the user's wrong current passwords that count now, newest first (at most PASSWORD_FAILURE_LIMIT).

    Read from the audit log, which the page and the API both write and every process sees: those within the last
    PASSWORD_FAILURE_WINDOW and after the last change of the password (by the user or an administrator), so that a
    successful change starts the count again.
    """
    now = now or timezone.now()
    events = AuditEvent.objects.filter(
        object_type=User._meta.label_lower, object_id=str(user.pk), action=AuditEvent.Action.UPDATE
    )
    since = now - PASSWORD_FAILURE_WINDOW
    changed = (
        events.filter(outcome=AuditEvent.Outcome.OK, at__gte=since, detail__changes__has_key="password")
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return list(
        events.filter(outcome=AuditEvent.Outcome.FAILED, at__gt=changed or since, detail__password=OLD_PASSWORD_INCORRECT)
        .order_by("-at")
        .values_list("at", flat=True)[:PASSWORD_FAILURE_LIMIT]
    )


def password_change_locked_until(*, user: Any, now: datetime | None = None) -> datetime | None:
    """Until when the user may not try their current password again (None: they may now): while PASSWORD_FAILURE_LIMIT
    wrong ones are in the window, that is until the oldest of them leaves it."""
    failures = password_failures(user=user, now=now)
    return failures[-1] + PASSWORD_FAILURE_WINDOW if len(failures) >= PASSWORD_FAILURE_LIMIT else None


def users_for_admin(*, user: Any, q: str = "") -> QuerySet[User]:
    """Accounts, for the system and security administrators only."""
    if not scope_of(user).has_role("sysadmin", "secadmin"):
        return User.objects.none()
    qs = User.objects.order_by("username")
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(display_name__icontains=q)
    return qs


def access_user_for_admin(user: Any, user_id: int | str) -> User:
    try:
        return users_for_admin(user=user).get(pk=int(user_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotVisible("用户") from None


def posts_for_admin(*, user: Any) -> QuerySet[Post]:
    if not scope_of(user).has_role("secadmin"):
        return Post.objects.none()
    return Post.objects.select_related("user", "unit", "region").order_by("user__username", "role")


def units_all() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(is_active=True).select_related("region")
