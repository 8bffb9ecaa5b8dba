"""The problems world: the shared domain world plus establishments, an enterprise account, the hotline and a
dispatcher at the command, and private storage in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.duties.services import assign_subject
from taizhang.establishments.models import EnterpriseAccount, Establishment
from taizhang.problems.models import ProblemCategory
from taizhang.testing_domain import START

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


def photo(name: str = "现场.jpg", content: bytes = JPEG, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@dataclass
class PWorld:
    w: Any
    e1: Establishment  # 光华路超市, 官园第1网格, 包联 guanyuan_b, 商贸零售 → 区商务局
    e2: Establishment  # 乔家巷便利店, 乔家巷社区
    enterprise: User  # e1's confirmed contact person
    hotline: User
    dispatcher: User  # 指挥部 staff who dispatches the triage queue

    def u(self, key: str) -> User:
        return self.w.users[key]

    def unit(self, key: str) -> OrgUnit:
        return self.w.units[key]

    def cat(self, code: str) -> ProblemCategory:
        return ProblemCategory.objects.get(code=code)

    @property
    def regions(self) -> dict[str, Any]:
        return self.w.regions


@pytest.fixture(autouse=True)
def _private_storage(settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}


@pytest.fixture
def pw(world: Any) -> PWorld:
    e1 = world.establishment("光华路超市", "官园第1网格", category="超市", road="光华路1段", address="光华路18号")
    e2 = world.establishment("乔家巷便利店", "乔家巷社区", category="便利店")
    assign_subject(user=world.users["guanyuan_b"], unit=world.units["官园社区"], subject=e1, valid_from=START)
    ent_unit = OrgUnit.objects.create(
        code="ENT-e1", name="光华路超市", kind=OrgUnit.Kind.ENTERPRISE, region=world.regions["官园第1网格"]
    )
    enterprise = User.objects.create_user(username="ent_e1", password="x-Test-Password-1", display_name="超市店长")
    Post.objects.create(
        user=enterprise, unit=ent_unit, region=world.regions["官园第1网格"], role=Role.ENTERPRISE, valid_from=START
    )
    EnterpriseAccount.objects.create(user=enterprise, establishment=e1, confirmed=True)
    rx = OrgUnit.objects.create(
        code="RX",
        name="区复工复产服务热线",
        kind=OrgUnit.Kind.HOTLINE_CENTRE,
        region=world.regions["文峰区"],
        parent=world.units["SWJ"],
    )
    world.units["RX"] = rx
    hotline = User.objects.create_user(username="hotline", password="x-Test-Password-1", display_name="陈热线")
    Post.objects.create(user=hotline, unit=rx, region=world.regions["文峰区"], role=Role.HOTLINE, valid_from=START)
    dispatcher = world.user("dispatcher", "command", "文峰区", Role.DEPARTMENT)
    return PWorld(world, e1, e2, enterprise, hotline, dispatcher)
