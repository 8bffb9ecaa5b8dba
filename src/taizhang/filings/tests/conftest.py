"""Fixtures for filing tests: the domain world, enterprise accounts, complete answers, sample files."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.accounts.models import User
from taizhang.establishments.models import Establishment
from taizhang.filings import enterprise
from taizhang.filings.models import Filing

FAR = date(2099, 6, 1)  # a planned date that is always in the future

ENTERPRISE_ANSWERS: dict[str, dict[str, Any]] = {
    "plan": {"summary": "分两批复工，先开放一楼超市区，员工分时段进店"},
    "emergency_plan": {"summary": "发现发热员工立即送临时观察点并报告社区"},
    "organisation": {
        "leader": "李经理",
        "leader_title": "店长",
        "deputies": "王副经理 副店长",
        "members": "赵某 测温登记\n钱某 消毒",
    },
    "commitment": {"signed": True, "signatory": "李经理", "signed_on": "2020-03-01"},
    "supplies": {"masks": 2000, "alcohol": 50, "disinfectant": 100, "thermometers": 6},
    "staff": {"total": 120, "returned": 100, "screened": 100, "travel_checked": True, "temperature_checked": True, "abnormal": 0},
}
NEEDS_FILES = ("plan", "emergency_plan", "commitment")


def pdf_bytes(text: str = "plan") -> bytes:
    return b"%PDF-1.4\n% " + text.encode() + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes(*, macro: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        if macro:
            z.writestr("word/vbaProject.bin", b"\x00")
    return buf.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@dataclass
class Setup:
    world: Any
    est: dict[str, Establishment] = field(default_factory=dict)
    ent: dict[str, User] = field(default_factory=dict)

    @property
    def users(self) -> dict[str, User]:
        return self.world.users


@pytest.fixture(autouse=True)
def private_dir(settings: Any, tmp_path: Any) -> Any:
    settings.TAIZHANG_PRIVATE_DIR = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.TAIZHANG_PRIVATE_DIR


@pytest.fixture
def setup(world: Any) -> Setup:
    s = Setup(world=world)
    s.est["gy"] = world.establishment("官园超市", "官园第1网格", road="光华路1段")
    s.est["qj"] = world.establishment("乔家巷超市", "乔家巷第1网格")
    s.est["school"] = world.establishment("官园辅导学校", "官园社区", category="辅导学校", kind="tutoring")
    for key, staff in (("gy", "guanyuan_a"), ("qj", "qiaojia_a"), ("school", "guanyuan_a")):
        account, _password = enterprise.enterprise_account_create(
            establishment=s.est[key], actor=world.users[staff], username=f"ent_{key}"
        )
        s.ent[key] = account.user
    # Staff-opened accounts must change their initial password first (accounts/tests/test_must_change_password.py);
    # these tests are about filings, so the contacts are taken to have done so.
    User.objects.filter(pk__in=[u.pk for u in s.ent.values()]).update(must_change_password=False)
    for u in s.ent.values():
        u.must_change_password = False
    return s


def fill(
    filing: Filing,
    actor: User,
    *,
    answers: dict[str, Any] | None = None,
    planned: date = FAR,
    files: tuple[str, ...] = NEEDS_FILES,
) -> Filing:
    """Complete the working copy (answers, planned date and the required attachments)."""
    from taizhang.filings import attachments, services

    filing.refresh_from_db()
    services.filing_update(
        filing=filing, actor=actor, expected_revision=filing.revision, answers=answers or ENTERPRISE_ANSWERS, planned_date=planned
    )
    for code in files:
        attachments.attachment_add(filing=filing, actor=actor, item_code=code, upload=upload(f"{code}.pdf", pdf_bytes(code)))
    filing.refresh_from_db()
    return filing


def submitted(s: Setup, key: str = "gy", **kwargs: Any) -> Filing:
    from taizhang.filings import services

    filing = services.filing_create(establishment=s.est[key], actor=s.ent[key])
    fill(filing, s.ent[key], **kwargs)
    return services.filing_submit(filing=filing, actor=s.ent[key], version=1)


def all_accept(filing: Filing) -> dict[str, tuple[str, str]]:
    return {i.code: ("accept", "") for i in filing.template.items.all()}
