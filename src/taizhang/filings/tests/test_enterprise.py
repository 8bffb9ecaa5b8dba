from __future__ import annotations

import pytest
from django.utils import timezone

from taizhang.accounts.models import OrgUnit, Post
from taizhang.audit.models import AuditEvent
from taizhang.core.errors import ApplicationError, NotVisible
from taizhang.core.roles import Role
from taizhang.core.scoping import forget_scope
from taizhang.establishments.models import EnterpriseAccount
from taizhang.establishments.selectors import access_establishment, establishment_list
from taizhang.filings import enterprise
from taizhang.testing_domain import World

PASSWORD = "Qiye-Mima-2020!"


def code(est) -> str:
    assert est.credit_code
    return str(est.credit_code)


def test_staff_open_a_confirmed_account(world: World):
    est = world.establishment("官园超市", "官园第1网格")
    account, password = enterprise.enterprise_account_create(establishment=est, actor=world.users["guanyuan_a"])
    user = account.user
    assert account.confirmed and user.username == est.credit_code and user.display_name == "张三"
    assert user.check_password(password)
    unit = OrgUnit.objects.get(code=f"QY{est.pk}")
    assert unit.kind == OrgUnit.Kind.ENTERPRISE and unit.region == est.region
    post = Post.objects.get(user=user)
    assert (post.role, post.unit, post.region) == (Role.ENTERPRISE, unit, est.region)
    assert list(establishment_list(user=user)) == [est]
    # a second account for the same establishment reuses its unit and gets another username
    second, _ = enterprise.enterprise_account_create(establishment=est, actor=world.users["swj_staff"], display_name="李四")
    assert second.user.username == f"{est.credit_code}-2" and OrgUnit.objects.filter(code=f"QY{est.pk}").count() == 1


def test_staff_may_only_open_accounts_for_what_they_see(world: World):
    est = world.establishment("官园超市", "官园第1网格")
    with pytest.raises(NotVisible):
        enterprise.enterprise_account_create(establishment=est, actor=world.users["qiaojia_a"])
    with pytest.raises(ApplicationError, match="只有社区、街道或职能部门"):
        enterprise.enterprise_account_create(establishment=est, actor=world.users["leader"])


def test_self_registration_waits_for_the_community(world: World):
    est = world.establishment("官园超市", "官园第1网格", contact_mobile="13912345678")
    account = enterprise.enterprise_register(
        credit_code=code(est).lower(), mobile="+86 139-1234-5678", display_name="王老板", password=PASSWORD
    )
    user = account.user
    assert not account.confirmed
    assert user.check_password(PASSWORD)
    assert list(establishment_list(user=user)) == []  # nothing until confirmed
    # the other community does not see the request; 官园 does
    assert list(enterprise.pending_accounts(user=world.users["qiaojia_a"])) == []
    with pytest.raises(NotVisible):
        enterprise.enterprise_account_confirm(account=account, actor=world.users["qiaojia_a"])
    assert list(enterprise.pending_accounts(user=world.users["guanyuan_a"])) == [account]
    enterprise.enterprise_account_confirm(account=account, actor=world.users["guanyuan_a"])
    forget_scope(user)
    assert access_establishment(user, est.pk) == est


def test_self_registration_must_match_the_registry(world: World):
    est = world.establishment("官园超市", "官园第1网格", contact_mobile="13912345678")
    with pytest.raises(ApplicationError, match="不匹配"):
        enterprise.enterprise_register(credit_code=code(est), mobile="13900000000", display_name="冒名", password=PASSWORD)
    with pytest.raises(ApplicationError, match="不匹配"):  # the same answer for an unknown code
        enterprise.enterprise_register(
            credit_code="91410502MA0000000X", mobile="13912345678", display_name="冒名", password=PASSWORD
        )
    assert not EnterpriseAccount.objects.exists()
    assert AuditEvent.objects.filter(object_type=enterprise.REGISTRATION, outcome="failed").count() == 2


def test_self_registration_is_throttled(world: World):
    est = world.establishment("官园超市", "官园第1网格", contact_mobile="13912345678")
    for n in range(enterprise.MAX_FAILURES):
        with pytest.raises(ApplicationError, match="不匹配"):
            enterprise.enterprise_register(credit_code=code(est), mobile=f"1390000000{n}", display_name="试", password=PASSWORD)
    with pytest.raises(ApplicationError, match="尝试次数过多"):  # even with the right mobile now
        enterprise.enterprise_register(credit_code=code(est), mobile="13912345678", display_name="王老板", password=PASSWORD)


def test_weak_password_and_duplicate_request_are_refused(world: World):
    est = world.establishment("官园超市", "官园第1网格", contact_mobile="13912345678")
    with pytest.raises(ApplicationError) as exc:
        enterprise.enterprise_register(credit_code=code(est), mobile="13912345678", display_name="王老板", password="123456")
    assert exc.value.code == "weak_password"
    enterprise.enterprise_register(credit_code=code(est), mobile="13912345678", display_name="王老板", password=PASSWORD)
    with pytest.raises(ApplicationError, match="待确认"):
        enterprise.enterprise_register(credit_code=code(est), mobile="13912345678", display_name="王老板", password=PASSWORD)


def test_rejecting_closes_the_account(world: World):
    est = world.establishment("官园超市", "官园第1网格", contact_mobile="13912345678")
    account = enterprise.enterprise_register(
        credit_code=code(est), mobile="13912345678", display_name="王老板", password=PASSWORD
    )
    enterprise.enterprise_account_reject(account=account, actor=world.users["guanyuan_a"], note="非本单位人员")
    account.refresh_from_db()
    account.user.refresh_from_db()
    assert not account.is_active and not account.user.is_active
    assert Post.objects.get(user=account.user).valid_to == timezone.localdate()  # ended today (inclusive)
