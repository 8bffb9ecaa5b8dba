"""The inspections world: the shared domain world (testing_domain.world) plus schools, kindergartens, tutoring
centres and supermarkets in two communities, two 督导组 with an inspector each, and photos kept in a temporary
directory.

    官园社区 (光华路街道):  s1 school (第1网格), k1 kindergarten, t1 tutoring, m1 supermarket (resumed, 包联 guanyuan_b)
    乔家巷社区 (头二三街道): s2 school, t2 tutoring, m2 supermarket (resumed)
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.storage import InMemoryStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.accounts.models import OrgUnit, Post, User
from taizhang.core.roles import Role
from taizhang.duties.services import assign_subject
from taizhang.establishments.models import Establishment, Status
from taizhang.inspections import services
from taizhang.inspections.models import Campaign, ChecklistTemplate, TemplateVersion
from taizhang.problems.models import Attachment
from taizhang.testing_domain import START


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny, red) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def photo(name: str = "现场.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TAIZHANG_PRIVATE_DIR = str(tmp_path / "private")
    # problems.Attachment resolved its storage at import time: keep the problem photos of these tests in memory
    monkeypatch.setattr(Attachment._meta.get_field("file"), "storage", InMemoryStorage())


@dataclass
class IWorld:
    w: Any
    est: dict[str, Establishment] = field(default_factory=dict)
    teams: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    counter: int = 0

    def u(self, key: str) -> User:
        return self.users.get(key) or self.w.users[key]

    @property
    def regions(self) -> dict[str, Any]:
        return self.w.regions

    def version(self, code: str) -> TemplateVersion:
        return ChecklistTemplate.objects.get(code=code).versions.filter(published_at__isnull=False).order_by("-number")[0]

    def school_campaign(self, share: str = "region", teams: tuple[str, ...] = ("DDZ1", "DDZ2"), start: bool = True) -> Campaign:
        campaign = services.campaign_create(
            actor=self.u("jyj_staff"),
            data={
                "name": "学校复学疫情防控督导",
                "version": self.version("school-reopening"),
                "unit": self.w.units["JYJ"],
                "regions": [self.regions["文峰区"]],
                "starts_on": START,
                "rule": {"kinds": ["school", "kindergarten", "tutoring"]},
                "share": share,
            },
            teams=[self.teams[t] for t in teams],
        )
        return services.campaign_start(actor=self.u("jyj_staff"), campaign=campaign) if start else campaign

    def key(self) -> str:
        self.counter += 1
        return f"test-key-{self.counter:06d}"


SCHOOL_PASS = {
    "supplies": ["口罩", "洗手液", "消毒液", "测温仪"],
    "systems": ["疫情应急预案", "联防联控制度", "复学查验制度", "环境卫生制度", "信息日报制度"],
    "preparation": "yes",
    "duty_check": "yes",
    "observation_room": "yes",
    "key_people": "yes",
    "drill": "yes",
}


def school_answers(**changes: Any) -> dict[str, Any]:
    return {**SCHOOL_PASS, **changes}


@pytest.fixture
def iw(world: Any) -> IWorld:
    from taizhang.duties.services import assign_category

    iw = IWorld(world)
    edu = world.categories["教育培训"]
    assign_category(category=edu, department=world.units["JYJ"], valid_from=START)
    specs = {
        "s1": ("官园小学", "官园第1网格", "school", "教育培训"),
        "k1": ("官园幼儿园", "官园社区", "kindergarten", "教育培训"),
        "t1": ("启明辅导学校", "官园第2网格", "tutoring", "辅导学校"),
        "s2": ("乔家巷小学", "乔家巷社区", "school", "教育培训"),
        "t2": ("书香辅导学校", "乔家巷第1网格", "tutoring", "辅导学校"),
        "m1": ("光华路超市", "官园第1网格", "supermarket", "超市"),
        "m2": ("乔家巷便利店", "乔家巷社区", "supermarket", "便利店"),
    }
    for key, (name, place, kind, category) in specs.items():
        iw.est[key] = world.establishment(name, place, category=category, kind=kind, address=f"{name}门口")
    for key in ("m1", "m2"):
        Establishment.objects.filter(pk=iw.est[key].pk).update(status=Status.RESUMED)
        iw.est[key].refresh_from_db()
    assign_subject(user=world.users["guanyuan_b"], unit=world.units["官园社区"], subject=iw.est["m1"], valid_from=START)
    for i in (1, 2):
        code = f"DDZ{i}"
        team = OrgUnit.objects.create(
            code=code,
            name=f"第{i}督导组",
            kind=OrgUnit.Kind.INSPECTION_TEAM,
            region=world.regions["文峰区"],
            parent=world.units["JYJ"],
        )
        iw.teams[code] = team
        for j in ("a", "b"):
            user = User.objects.create_user(username=f"insp{i}{j}", password="x-Test-Password-1", display_name=f"督导{i}{j}")
            Post.objects.create(user=user, unit=team, region=world.regions["文峰区"], role=Role.INSPECTOR, valid_from=START)
            iw.users[f"insp{i}{j}"] = user
    return iw
