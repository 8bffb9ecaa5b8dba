from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from taizhang.core.errors import ApplicationError
from taizhang.filings import attachments, services
from taizhang.filings.models import FilingAttachment
from taizhang.filings.storage import PrivateStorage

from .conftest import PNG, all_accept, docx_bytes, pdf_bytes, submitted, upload


@pytest.fixture
def draft(setup):
    return services.filing_create(establishment=setup.est["gy"], actor=setup.ent["gy"])


def add(setup, filing, name, content, item="plan"):
    return attachments.attachment_add(filing=filing, actor=setup.ent["gy"], item_code=item, upload=upload(name, content))


@pytest.mark.parametrize(
    ("name", "content", "ext", "content_type"),
    [
        ("复工方案.pdf", pdf_bytes(), "pdf", "application/pdf"),
        ("现场照片.PNG", PNG, "png", "image/png"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "jpg", "image/jpeg"),
        ("方案.docx", docx_bytes(), "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_allowed_types_are_stored_privately(setup, draft, private_dir, name, content, ext, content_type):
    att = add(setup, draft, name, content)
    assert att.content_type == content_type and att.name.endswith("." + ext) and att.size == len(content)
    path = Path(att.file.path)
    assert path.is_relative_to(Path(private_dir).resolve())
    assert not path.is_relative_to(Path(django_settings.MEDIA_ROOT).resolve())
    assert not path.is_relative_to(Path(django_settings.STATIC_ROOT).resolve())
    assert path.read_bytes() == content
    assert path.name != name  # stored under a random name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("plan.pdf", b"just some text, not a PDF", "内容不是PDF"),
        ("plan.pdf", PNG, "内容是PNG 图片"),
        ("plan.exe", b"MZ\x90\x00", "只能上传"),
        ("plan.html", b"<script>alert(1)</script>", "只能上传"),
        ("macro.docx", docx_bytes(macro=True), "含有宏"),
        ("fake.docx", b"PK\x03\x04" + b"\x00" * 40, "不是有效的 Word"),
        ("empty.pdf", b"", "空的"),
    ],
)
def test_type_is_judged_by_content(setup, draft, name, content, message):
    with pytest.raises(ApplicationError, match=message):
        add(setup, draft, name, content)
    assert not FilingAttachment.objects.exists()


def test_size_is_limited(setup, draft, settings):
    settings.TAIZHANG_FILING_MAX_UPLOAD = 1024
    with pytest.raises(ApplicationError, match="不能超过"):
        add(setup, draft, "big.pdf", pdf_bytes("x" * 2000))


def test_private_storage_has_no_url():
    with pytest.raises(ValueError, match="没有公开地址"):
        PrivateStorage().url("filings/1/x.pdf")


def test_removing_keeps_files_of_submitted_versions(setup, django_capture_on_commit_callbacks):
    filing = submitted(setup)
    rulings = all_accept(filing)
    rulings["plan"] = ("return", "请换成盖章版")
    services.filing_review(filing=filing, actor=setup.users["swj_staff"], rulings=rulings, expected_revision=filing.revision)
    old = filing.attachments.get(item_code="plan")
    attachments.attachment_remove(filing=filing, attachment=old, actor=setup.ent["gy"])
    old.refresh_from_db()
    assert old.removed and Path(old.file.path).exists()  # still part of version 1
    new = add(setup, filing, "盖章版.pdf", pdf_bytes("stamped"))
    scratch = add(setup, filing, "草稿.pdf", pdf_bytes("scratch"))
    scratch_path = Path(scratch.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        attachments.attachment_remove(filing=filing, attachment=scratch, actor=setup.ent["gy"])
    assert not FilingAttachment.objects.filter(pk=scratch.pk).exists()
    assert not scratch_path.exists()  # never submitted: deleted
    services.filing_submit(filing=filing, actor=setup.ent["gy"], version=2)
    v2 = filing.versions.get(number=2)
    assert v2.attachments["plan"] == [new.pk]
    assert filing.versions.get(number=1).attachments["plan"] == [old.pk]


def test_uploads_only_while_editable(setup):
    filing = submitted(setup)
    with pytest.raises(ApplicationError, match="不能再上传"):
        add(setup, filing, "late.pdf", pdf_bytes())
