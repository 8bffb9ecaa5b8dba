"""The daily report: community filings and zero reports, completeness, scheduled and on-demand generation, the
Excel in its fixed layout and a PDF whose Chinese text reads back (the font is embedded: no boxes)."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from taizhang.audit.models import AuditEvent
from taizhang.core.errors import ApplicationError
from taizhang.core.roles import Role
from taizhang.dashboards import reports
from taizhang.dashboards.models import CommunityReport, DailyReport, ReportTemplate

from .conftest import DAY, SH

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(dw):
    return ReportTemplate.objects.create(name="信息日报", region=dw.regions["文峰区"], cutoff=time(17, 0))


def test_completeness_filed_zero_and_missing(dw, template):
    guanyuan, qiaojia = dw.regions["官园社区"], dw.regions["乔家巷社区"]
    reports.community_report_file(
        template=template,
        community=guanyuan,
        day=DAY,
        actor=dw.u("guanyuan_a"),
        values={"households_visited": 120, "returnees": 2, "checkpoint_people": 300},
    )
    reports.community_report_file(template=template, community=qiaojia, day=DAY, actor=dw.u("qiaojia_a"), zero=True)
    data = reports.snapshot(template, DAY)
    rows = {r["community"]: r for g in data["groups"] for r in g["rows"]}
    assert rows["官园社区"]["status"] == "filed" and rows["官园社区"]["items"]["returnees"] == 2
    assert rows["乔家巷社区"]["status"] == "zero"
    c = data["completeness"]
    assert (c["filed"], c["zero"]) == (1, 1) and c["missing"] == c["communities"] - 2 > 100
    assert rows["官园社区"]["figures"]["est_resumed"] == 2 and rows["乔家巷社区"]["figures"]["est_resumed"] == 1
    assert data["total"]["figures"]["prob_overdue"] == 1
    assert data["headline"] == {"resumed": 3, "resumed_above": 1}


def test_filing_needs_every_item_or_a_zero_report(dw, template):
    with pytest.raises(ApplicationError, match="入户排查户数"):
        reports.community_report_file(
            template=template, community=dw.regions["官园社区"], day=DAY, actor=dw.u("guanyuan_a"), values={}
        )
    with pytest.raises(ApplicationError, match="不在此日报"):
        reports.community_report_file(
            template=template, community=dw.regions["光华路街道"], day=DAY, actor=dw.u("guanyuan_a"), zero=True
        )


def test_late_filing_is_marked(dw, template, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: datetime(2020, 3, 19, 18, 5, tzinfo=SH))
    r = reports.community_report_file(
        template=template, community=dw.regions["官园社区"], day=DAY, actor=dw.u("guanyuan_a"), zero=True
    )
    assert r.late


def test_excel_fixed_layout(dw, template):
    reports.community_report_file(
        template=template, community=dw.regions["乔家巷社区"], day=DAY, actor=dw.u("qiaojia_a"), zero=True
    )
    report = reports.generate(template=template, day=DAY, actor=dw.u("leader"))
    book = load_workbook(io.BytesIO(bytes(report.xlsx)))
    sheet = book["信息日报"]
    assert sheet["A1"].value == "文峰区信息日报"
    assert "2020年3月19日" in sheet["A2"].value and "零报告1个" in sheet["A2"].value
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["序号", "街道/镇", "社区/村", "填报情况"] and header[-1] == "备注"
    assert "已复工" in header and "入户排查户数" in header
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    qiaojia = next(v for v in values if v[2] == "乔家巷社区")
    assert qiaojia[3].startswith("零报告")  # filed now, for a day long past: marked late too
    assert values[-1][1] == "合计"
    assert "未报社区" in book.sheetnames and book["未报社区"].max_row > 100


def test_pdf_embeds_a_chinese_font_and_the_text_reads_back(dw, template):
    reports.community_report_file(
        template=template, community=dw.regions["官园社区"], day=DAY, actor=dw.u("guanyuan_a"), zero=True
    )
    report = reports.generate(template=template, day=DAY)
    pdf = PdfReader(io.BytesIO(bytes(report.pdf)))
    # pypdf reads the font's ToUnicode map entry <0000> as a NUL before each character (poppler's pdftotext does
    # not); the characters themselves are what matters.
    text = re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in pdf.pages))
    for phrase in (
        "文峰区信息日报",
        "截至3月19日",
        "复工复产单位3家",
        "其中限上企业1家",
        "官园社区",
        "零报告",
        "未报",
        "光华路街道",
        "合计",
    ):
        assert phrase in text, phrase
    assert "\ufffd" not in text and "□" not in text
    fonts = {str(f["/BaseFont"]) for page in pdf.pages for f in page["/Resources"]["/Font"].values()}  # type: ignore[index]
    assert any("Noto" in f or "Hei" in f for f in fonts), fonts


def test_scheduled_generation_after_cutoff_once(dw, template):
    before = datetime(2020, 3, 19, 16, 0, tzinfo=SH)
    assert reports.generate_due(before) == []
    after = datetime(2020, 3, 19, 17, 10, tzinfo=SH)
    made = reports.generate_due(after)
    assert [r.day for r in made] == [DAY] and made[0].kind == DailyReport.Kind.SCHEDULED
    assert reports.generate_due(after + timedelta(minutes=10)) == []
    assert DailyReport.objects.filter(kind=DailyReport.Kind.SCHEDULED).count() == 1


def test_report_pages_and_downloads(dw, template, client):
    report = reports.generate(template=template, day=DAY)
    client.force_login(dw.u("leader"))
    assert client.get(reverse("dashboards:reports")).status_code == 200
    assert client.get(reverse("dashboards:report", args=[report.pk])).status_code == 200
    r = client.get(reverse("dashboards:report-pdf", args=[report.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and bytes(r.content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_id=str(report.pk)).exists()
    r = client.post(reverse("dashboards:report-generate", args=[template.pk]), {"day": DAY.isoformat()})
    assert r.status_code == 302 and DailyReport.objects.count() == 2
    # A sub-district sees its own communities, but cannot download the district's file.
    client.force_login(dw.u("ghl_office"))
    page = client.get(reverse("dashboards:report", args=[report.pk])).content.decode()
    assert "官园社区" in page and "乔家巷社区" not in page
    assert client.get(reverse("dashboards:report-xlsx", args=[report.pk])).status_code == 404


def test_community_files_on_its_page(dw, template, client):
    from taizhang.rollups.services import set_as_of

    set_as_of(DAY)
    client.force_login(dw.u("guanyuan_a"))
    url = reverse("dashboards:file")
    assert client.get(url).status_code == 200
    r = client.post(url, {"community": dw.regions["官园社区"].pk, "zero": "on"})
    assert r.status_code == 302
    assert CommunityReport.objects.get(community=dw.regions["官园社区"], day=DAY).is_zero


def test_templates_are_configured_by_the_system_administrator(dw, client, make_user):
    admin = make_user(role=Role.SYSADMIN, region="文峰区")
    client.force_login(admin)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=admin, name="t", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    r = client.post(
        reverse("dashboards:template-new"),
        {
            "name": "信息日报",
            "region": dw.regions["文峰区"].pk,
            "cutoff": "16:30",
            "figures": ["est_resumed", "prob_open"],
            "items_text": "returnees 新增返乡人员\nvisits 入户走访户数",
            "scheduled": "on",
            "is_active": "on",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    t = ReportTemplate.objects.get()
    assert t.figures == ["est_resumed", "prob_open"] and [c for c, _ in t.item_columns()] == ["returnees", "visits"]
    assert t.cutoff == time(16, 30)
    client.force_login(dw.u("leader"))
    assert client.get(reverse("dashboards:templates")).status_code == 403
