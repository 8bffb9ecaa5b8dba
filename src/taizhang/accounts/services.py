"""Writes to users, posts and tokens. Each is audited; none returns or logs a password or key twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from taizhang.audit.services import Action, Outcome, audit_change, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.core.roles import ADMIN_ROLES, Role
from taizhang.regions.models import Region

from .models import ApiToken, OrgUnit, Post, User
from .scope import forget_scope
from .selectors import (
    OLD_PASSWORD_INCORRECT,
    PASSWORD_FAILURE_LIMIT,
    PASSWORD_FAILURE_WINDOW,
    password_change_locked_until,
    password_failures,
)


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    display_name: str = "",
    actor: Any = None,
    validate: bool = True,
    must_change_password: bool | None = None,
) -> User:
    """Create a user with a password.

    `must_change_password` defaults to "someone else chose this password": True when an actor (a member of staff, an
    administrator) creates the account, False for self-registration (no actor). The demo creates its users directly,
    unflagged, because their shared password is documented (docs/adr/0012-must-change-password.md).
    """
    username = username.strip()
    if not username:
        raise ApplicationError("用户名不能为空")
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(f"用户名“{username}”已被使用")
    user = User(username=username, display_name=display_name.strip())
    if validate:
        _validate_password(password, user)
    user.set_password(password)
    user.must_change_password = actor is not None if must_change_password is None else must_change_password
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(action=Action.CREATE, actor=actor, target=user, detail={"must_change_password": user.must_change_password})
    return user


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("；".join(exc.messages), code="weak_password") from exc


@transaction.atomic
def user_password_set(*, user: User, password: str, actor: Any) -> User:
    """Someone sets a user's password (an administrator's reset). Unless the actor is the user, the user must change it
    at the next sign-in: the actor knows it. Other sessions of the user end (the session hash changes)."""
    _validate_password(password, user)
    before = user.must_change_password
    user.set_password(password)
    user.must_change_password = getattr(actor, "pk", None) != user.pk
    user.save(update_fields=["password", "must_change_password"])
    changes: dict[str, tuple[Any, Any]] = {"password": ("", "")}
    if before != user.must_change_password:
        changes["must_change_password"] = (before, user.must_change_password)
    audit_change(actor=actor, target=user, changes=changes, sensitive={"password"})
    return user


@transaction.atomic
def user_password_change(*, user: User, password: str) -> User:
    """The user replaces their own password (the caller has checked the old one and that the new one differs).
    Clears must_change_password; audited without any password value."""
    _validate_password(password, user)
    before = user.must_change_password
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    changes: dict[str, tuple[Any, Any]] = {"password": ("", "")}
    if before:
        changes["must_change_password"] = (True, False)
    audit_change(actor=user, target=user, changes=changes, sensitive={"password"})
    return user


class PasswordCheck(StrEnum):
    CORRECT = "correct"
    WRONG = "wrong"
    LIMIT_REACHED = "limit_reached"  # wrong, and the last attempt the window allowed: the caller ends the credential
    LOCKED = "locked"  # refused without checking the password: the limit was already reached


@dataclass(frozen=True)
class PasswordCheckResult:
    outcome: PasswordCheck
    locked_until: datetime | None = None
    attempts_left: int = PASSWORD_FAILURE_LIMIT


@transaction.atomic
def user_password_check(*, user: User, password: str) -> PasswordCheckResult:
    """Check the current password of a user who wants to change it (the page and the API).

    At most PASSWORD_FAILURE_LIMIT wrong ones per user in PASSWORD_FAILURE_WINDOW, counted in the audit log; beyond
    that the password is not even checked (docs/adr/0012-must-change-password.md). A wrong one is audited as a failed
    update of the user, a refused one as a denied update. Returns rather than raises, so that the audit row is kept.
    """
    # Serialise the attempts of one user, so that parallel requests cannot get past the count (PostgreSQL; SQLite
    # serialises writers anyway and ignores FOR UPDATE).
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    locked_until = password_change_locked_until(user=user)
    if locked_until is not None:
        audit_record(action=Action.UPDATE, actor=user, target=user, outcome=Outcome.DENIED, detail={"password": "change_locked"})
        return PasswordCheckResult(PasswordCheck.LOCKED, locked_until, 0)
    if user.check_password(password):
        return PasswordCheckResult(PasswordCheck.CORRECT)
    audit_record(
        action=Action.UPDATE, actor=user, target=user, outcome=Outcome.FAILED, detail={"password": OLD_PASSWORD_INCORRECT}
    )
    failures = password_failures(user=user)
    if len(failures) >= PASSWORD_FAILURE_LIMIT:
        return PasswordCheckResult(PasswordCheck.LIMIT_REACHED, failures[-1] + PASSWORD_FAILURE_WINDOW, 0)
    return PasswordCheckResult(PasswordCheck.WRONG, None, PASSWORD_FAILURE_LIMIT - len(failures))


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor: Any) -> User:
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(action=Action.UPDATE, actor=actor, target=user, detail={"is_active": active})
    return user


@transaction.atomic
def post_grant(
    *,
    user: User,
    unit: OrgUnit,
    region: Region,
    role: str,
    title: str = "",
    valid_from: date | None = None,
    valid_to: date | None = None,
    actor: Any = None,
) -> Post:
    if role not in Role.values:
        raise ApplicationError(f"未知角色：{role}")
    if not region.is_within(unit.region) and not unit.region.is_within(region):
        raise ApplicationError(f"岗位区划“{region}”不在单位“{unit}”的辖区内")
    holds = set(Post.objects.active().filter(user=user).values_list("role", flat=True))
    if role in ADMIN_ROLES and holds - {role}:
        raise ApplicationError("三员分立：管理员角色不能与其他角色由同一用户担任")
    if role not in ADMIN_ROLES and holds & ADMIN_ROLES:
        raise ApplicationError("三员分立：该用户已担任管理员角色，不能再担任业务岗位")
    post = Post(
        user=user,
        unit=unit,
        region=region,
        role=role,
        title=title,
        valid_from=valid_from or timezone.localdate(),
        valid_to=valid_to,
    )
    post.full_clean()
    post.save()
    forget_scope(user)
    audit_record(
        action=Action.CREATE, actor=actor, target=post, detail={"user": user.username, "role": role, "region": region.code}
    )
    return post


@transaction.atomic
def post_end(*, post: Post, on: date | None = None, actor: Any = None) -> Post:
    """End a post (history is kept; posts are never deleted)."""
    on = on or timezone.localdate()
    if post.valid_to is not None and post.valid_to <= on:
        return post
    post.valid_to = max(on, post.valid_from)
    post.save(update_fields=["valid_to", "updated_at"])
    forget_scope(post.user)
    audit_record(action=Action.UPDATE, actor=actor, target=post, detail={"valid_to": post.valid_to})
    return post


@transaction.atomic
def api_token_create(*, user: User, name: str, actor: Any = None, expires_at: Any = None) -> tuple[ApiToken, str]:
    """Returns the token and its key; the key is not stored and cannot be shown again."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user, name=name.strip() or "API", prefix=key[3:11], digest=ApiToken.digest_of(key), expires_at=expires_at
    )
    audit_record(action=Action.CREATE, actor=actor or user, target=token)
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=Action.UPDATE, actor=actor, target=token, detail={"revoked": True})
