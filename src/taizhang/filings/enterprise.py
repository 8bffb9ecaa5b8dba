"""The enterprise portal's accounts (企业账号): an establishment's contact person signs in and sees only it.

Two ways in:
- **opened by staff** (`enterprise_account_create`): community, sub-district or department staff who can see
  the establishment open an account for its contact person; it is confirmed at once, and the initial
  password is shown once to the member of staff, who passes it on;
- **self-registration** (`enterprise_register`): the contact person gives the credit code and the contact
  mobile on record (matched by blind index, never decrypted) and chooses a password; the account waits until
  the responsible community confirms it (`enterprise_account_confirm`) from its queue. Failed attempts are
  counted in the audit log (shared by every server process) and limited per credit code and per address.

An account is a User, a Post (role enterprise, region of the establishment) in an OrgUnit of kind
"enterprise" for the establishment, and an `establishments.EnterpriseAccount` linking the user to it; the
establishment's scope rule opens it once the account is confirmed.
"""

from __future__ import annotations

import secrets
import string
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.accounts.services import post_end, post_grant, user_create, user_set_active
from taizhang.audit.models import AuditEvent
from taizhang.audit.services import Action, Outcome, audit_record
from taizhang.core.errors import ApplicationError
from taizhang.core.protected import blind_index
from taizhang.core.request_context import client_ip
from taizhang.core.roles import Role
from taizhang.core.scoping import scope_of
from taizhang.establishments.models import EnterpriseAccount, Establishment
from taizhang.establishments.selectors import access_establishment
from taizhang.establishments.validators import normalize_credit_code

from .scoping import editable_establishment_q

CREATOR_ROLES = frozenset({Role.COMMUNITY, Role.SUBDISTRICT, Role.DEPARTMENT})
CONFIRMER_ROLES = frozenset({Role.COMMUNITY, Role.SUBDISTRICT})
REGISTRATION = "filings.registration"
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
MISMATCH = "统一社会信用代码与联系电话不匹配。请核对后重试；如单位联系人或电话已变更，请联系所在社区更新登记信息"


def _unit_for(establishment: Establishment) -> OrgUnit:
    unit, _ = OrgUnit.objects.get_or_create(
        code=f"QY{establishment.pk}",
        defaults={"name": establishment.name[:100], "kind": OrgUnit.Kind.ENTERPRISE, "region": establishment.region},
    )
    return unit


def _username_for(establishment: Establishment) -> str:
    base = establishment.credit_code or f"qy{establishment.pk}"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def initial_password() -> str:
    """A random password that passes the validators (length 14, upper, lower, digits, a symbol)."""
    rng = secrets.SystemRandom()
    chars = [rng.choice(string.ascii_uppercase) for _ in range(4)] + [rng.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(5)]
    chars += [rng.choice("23456789") for _ in range(4)] + [rng.choice("-!@#")]
    rng.shuffle(chars)
    return "".join(chars)


def _link(*, user: User, establishment: Establishment, confirmed: bool, actor: Any) -> EnterpriseAccount:
    post_grant(
        user=user,
        unit=_unit_for(establishment),
        region=establishment.region,
        role=Role.ENTERPRISE,
        title="企业联系人",
        actor=actor,
    )
    account = EnterpriseAccount.objects.create(user=user, establishment=establishment, confirmed=confirmed)
    audit_record(
        action=Action.CREATE, actor=actor, target=account, detail={"establishment": establishment.pk, "confirmed": confirmed}
    )
    return account


@transaction.atomic
def enterprise_account_create(
    *, establishment: Establishment, actor: Any, display_name: str = "", username: str = ""
) -> tuple[EnterpriseAccount, str]:
    """Open a confirmed account for the establishment's contact person. Returns it and the initial password
    (not stored anywhere; shown once)."""
    if not scope_of(actor).has_role(*CREATOR_ROLES):
        raise ApplicationError("只有社区、街道或职能部门工作人员可以开通企业账号", code="forbidden")
    establishment = access_establishment(actor, establishment.pk)
    password = initial_password()
    user = user_create(
        username=username.strip() or _username_for(establishment),
        password=password,
        display_name=(display_name.strip() or establishment.contact_name or establishment.name)[:60],
        actor=actor,
    )
    return _link(user=user, establishment=establishment, confirmed=True, actor=actor), password


def _recent_failures(credit_code: str) -> int:
    since = timezone.now() - FAILURE_WINDOW
    failures = AuditEvent.objects.filter(object_type=REGISTRATION, outcome=Outcome.FAILED, at__gte=since)
    ip = client_ip.get()
    q = Q(object_id=credit_code[:64])
    if ip:
        q |= Q(ip=ip)
    return failures.filter(q).count()


def _refuse(credit_code: str, message: str, code: str) -> ApplicationError:
    with transaction.atomic():
        audit_record(
            action=Action.CREATE,
            object_type=REGISTRATION,
            object_id=credit_code[:64],
            object_repr="企业账号自助注册",
            outcome=Outcome.FAILED,
            detail={"reason": code},
        )
    return ApplicationError(message, code=code)


def enterprise_register(
    *, credit_code: str, mobile: str, display_name: str, password: str, username: str = ""
) -> EnterpriseAccount:
    """Self-registration: the credit code and the contact mobile must match the registry. The account can
    sign in at once but sees nothing until the community confirms it."""
    code = normalize_credit_code(credit_code)
    if not code or not mobile.strip():
        raise ApplicationError("请填写统一社会信用代码和单位登记的联系电话", code="invalid")
    if _recent_failures(code) >= MAX_FAILURES:
        raise ApplicationError("尝试次数过多，请 1 小时后再试，或请所在社区为您开通账号", code="throttled")
    establishment = Establishment.objects.filter(credit_code=code).select_related("region").first()
    if (
        establishment is None
        or not establishment.contact_mobile_bidx
        or establishment.contact_mobile_bidx != blind_index("mobile", mobile)
    ):
        raise _refuse(code, MISMATCH, "mismatch")
    if EnterpriseAccount.objects.filter(establishment=establishment, is_active=True, confirmed=False).exists():
        raise _refuse(code, "该单位已有待确认的注册申请，请等待所在社区确认", "pending")
    with transaction.atomic():
        user = user_create(
            username=username.strip() or _username_for(establishment), password=password, display_name=display_name.strip()[:60]
        )
        return _link(user=user, establishment=establishment, confirmed=False, actor=user)


def pending_accounts(*, user: Any) -> QuerySet[EnterpriseAccount]:
    """Self-registered accounts waiting for the user's community or sub-district to confirm them."""
    if not scope_of(user).has_role(*CONFIRMER_ROLES):
        return EnterpriseAccount.objects.none()
    return (
        EnterpriseAccount.objects.filter(
            confirmed=False,
            is_active=True,
            establishment__in=Establishment.objects.filter(editable_establishment_q(user)).values("pk"),
        )
        .select_related("user", "establishment", "establishment__region")
        .order_by("created_at", "id")
    )


def accounts_of(*, user: Any, establishment: Establishment) -> list[EnterpriseAccount]:
    """The accounts of an establishment the user can see (for the account page)."""
    access_establishment(user, establishment.pk)
    return list(
        EnterpriseAccount.objects.filter(establishment=establishment).select_related("user").order_by("-is_active", "created_at")
    )


def access_pending_account(user: Any, account_id: Any) -> EnterpriseAccount:
    from taizhang.core.errors import NotVisible

    try:
        return pending_accounts(user=user).get(pk=int(account_id))
    except (EnterpriseAccount.DoesNotExist, ValueError, TypeError):
        raise NotVisible("注册申请") from None


@transaction.atomic
def enterprise_account_confirm(*, account: EnterpriseAccount, actor: Any) -> EnterpriseAccount:
    account = access_pending_account(actor, account.pk)
    account.confirmed = True
    account.save(update_fields=["confirmed", "updated_at"])
    audit_record(action=Action.UPDATE, actor=actor, target=account, detail={"confirmed": True})
    return account


@transaction.atomic
def enterprise_account_reject(*, account: EnterpriseAccount, actor: Any, note: str = "") -> EnterpriseAccount:
    """Refuse a registration: the account is closed and its user deactivated."""
    account = access_pending_account(actor, account.pk)
    account.is_active = False
    account.save(update_fields=["is_active", "updated_at"])
    for post in Post.objects.active().filter(user=account.user, role=Role.ENTERPRISE, unit__code=f"QY{account.establishment_id}"):
        post_end(post=post, actor=actor)
    if not EnterpriseAccount.objects.filter(user=account.user, is_active=True).exists():
        user_set_active(user=account.user, active=False, actor=actor)
    audit_record(action=Action.UPDATE, actor=actor, target=account, detail={"rejected": True, "note": note.strip()[:200]})
    return account
