from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from taizhang.audit.models import AuditEvent
from taizhang.core.roles import Role
from taizhang.establishments.models import Establishment, EstablishmentKind, Status
from taizhang.establishments.selectors import establishment_list
from taizhang.establishments.services import establishment_create
from taizhang.transfer import engine, services
from taizhang.transfer.ledgers import EstablishmentLedger
from taizhang.transfer.models import JobStatus, TransferJob

from .helpers import HEADER, code, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(regions: Any, worker: Any) -> list[Establishment]:
    shop = EstablishmentKind.objects.get(code="shop")
    out = []
    for n, (region, mobile) in enumerate(
        [("官园社区", "13800000018"), ("官园第1网格", "13900000002"), ("乔家巷社区", "13700000003")], 1
    ):
        out.append(
            establishment_create(
                actor=None,
                data={
                    "credit_code": code(n),
                    "name": f"商店{n}",
                    "kind": shop,
                    "region": regions[region],
                    "contact_name": "张三丰",
                    "contact_mobile": mobile,
                    "address": f"光华路{n}号",
                },
            )
        )
    return out


def _rows(path: Any) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _export(user: Any, capture: Any, **kwargs: Any) -> TransferJob:
    with capture(execute=True):
        job = services.export_start(user=user, ledger="establishments", **kwargs)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    return job


def test_community_worker_exports_exactly_their_list_page_masked(
    worker: Any, places: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _export(worker, django_capture_on_commit_callbacks)
    rows = _rows(services.result_path(job))
    assert rows[0] == EstablishmentLedger(user=worker).export_header()
    expected = list(establishment_list(user=worker).values_list("credit_code", flat=True))
    assert [r[0] for r in rows[1:]] == expected and len(expected) == 2  # 乔家巷 is outside the worker's community
    assert {r[9] for r in rows[1:]} == {"138****0018", "139****0002"}
    assert {r[8] for r in rows[1:]} == {"张**"}
    assert rows[2][4] == "官园社区/第1网格"
    audit = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert audit.actor == worker and audit.detail["rows"] == 2 and audit.detail["unmasked"] is False


def test_export_with_the_list_filters_and_unmasked_audited(
    worker: Any, places: Any, regions: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _export(
        worker,
        django_capture_on_commit_callbacks,
        filters={"region": str(regions["官园第1网格"].pk), "ignored": "x"},
        unmasked=True,
    )
    rows = _rows(services.result_path(job))
    assert [r[1] for r in rows[1:]] == ["商店2"] and rows[1][9] == "13900000002" and rows[1][8] == "张三丰"
    assert job.filters == {"region": str(regions["官园第1网格"].pk)}
    audit = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert audit.detail["unmasked"] is True and "联系电话" in audit.detail["fields"]


def test_export_uses_the_list_page_query_string(worker: Any, places: Any, django_capture_on_commit_callbacks: Any) -> None:
    from taizhang.establishments.forms import FilterForm

    query = {"kind": "shop", "status": "not_resumed", "q": "商店1"}
    job = _export(worker, django_capture_on_commit_callbacks, filters=query)
    rows = _rows(services.result_path(job))
    expected = establishment_list(user=worker, filters=FilterForm(query, user=worker).selector_filters())
    assert [r[1] for r in rows[1:]] == [e.name for e in expected] == ["商店1"]


def test_leader_cannot_export_unmasked_and_admins_cannot_export(make_user: Any, places: Any) -> None:
    leader = make_user(Role.LEADER, "文峰区")
    with pytest.raises(PermissionDenied):
        services.export_start(user=leader, ledger="establishments", unmasked=True)
    with pytest.raises(PermissionDenied):
        services.export_start(user=make_user(Role.SYSADMIN, "文峰区"), ledger="establishments")


def test_files_are_served_to_the_owner_only(
    client: Any, worker: Any, make_user: Any, places: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _export(worker, django_capture_on_commit_callbacks)
    other = make_user(Role.COMMUNITY, "官园社区")
    client.force_login(other)
    assert client.get(f"/transfer/jobs/{job.pk}/download").status_code == 404
    assert client.get(f"/api/v1/transfer/jobs/{job.pk}").status_code == 404
    client.force_login(worker)
    response = client.get(f"/transfer/jobs/{job.pk}/download")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert str(services.transfer_root()) in str(services.result_path(job)) and "static" not in str(services.result_path(job))


def test_cancel_rolls_back_and_a_queued_job_stops(worker: Any, categories: Any, tmp_path: Any) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(xlsx([HEADER, *[[code(n), f"店{n}", "门店", "", "官园社区"] for n in range(1, 30)]]))
    with pytest.raises(engine.Cancelled):
        engine.run_import(EstablishmentLedger(user=worker), path, mode=engine.ALL, cancelled=lambda: True)
    assert Establishment.objects.count() == 0
    job = services.import_start(
        user=worker, ledger="establishments", upload=io.BytesIO(path.read_bytes()), name="a.xlsx"
    )  # not run yet
    job = services.job_cancel(user=worker, job=job)
    assert job.status == JobStatus.CANCELLED
    assert services.job_run(job_id=job.pk).status == JobStatus.CANCELLED


def test_results_are_purged_after_24_hours(worker: Any, places: Any, django_capture_on_commit_callbacks: Any) -> None:
    job = _export(worker, django_capture_on_commit_callbacks)
    assert services.purge_expired() == 0
    TransferJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    assert services.purge_expired() == 1
    job.refresh_from_db()
    assert job.purged and services.result_path(job) is None
    assert not (services.transfer_root() / str(job.pk)).exists()


def test_template_has_dropdowns_and_instructions(client: Any, worker: Any, categories: Any) -> None:
    client.force_login(worker)
    response = client.get("/transfer/establishments/template.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["单位台账", "选项", "填写说明"]
    sheet = book["单位台账"]
    assert sheet["B1"].value == "单位名称*" and sheet["A1"].value == "统一社会信用代码"
    formulas = {dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert any("选项" in f for f in formulas) and len(formulas) >= 4
    assert book["选项"].sheet_state == "hidden"
    # the template itself imports (header found, no data rows reported)
    path = services.transfer_root()
    path.mkdir(parents=True, exist_ok=True)
    (path / "t.xlsx").write_bytes(response.content)
    outcome = engine.run_import(EstablishmentLedger(user=worker), path / "t.xlsx")
    assert outcome.header_row == 1 and "没有数据行" in outcome.preview[0].reason


def test_pages_upload_check_commit(client: Any, worker: Any, categories: Any, django_capture_on_commit_callbacks: Any) -> None:
    client.force_login(worker)
    page = client.get("/transfer/")
    assert page.status_code == 200 and "单位台账" in page.content.decode()
    upload = io.BytesIO(xlsx([HEADER, [code(1), "光华路便民超市", "超市", "超市", "官园社区"]]))
    upload.name = "单位.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/transfer/establishments/import", {"file": upload})
    check = TransferJob.objects.get()
    assert response["Location"] == f"/transfer/jobs/{check.pk}/"
    fragment = client.get(f"/transfer/jobs/{check.pk}/progress", HTTP_HX_REQUEST="true").content.decode()
    assert "全部无误" in fragment and "hx-trigger" not in fragment  # finished: polling stops
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/transfer/jobs/{check.pk}/commit")
    assert Establishment.objects.filter(name="光华路便民超市", status=Status.NOT_RESUMED).count() == 1
    job = TransferJob.objects.exclude(pk=check.pk).get()
    assert "导入完成：写入 1 条" in client.get(f"/transfer/jobs/{job.pk}/").content.decode()


def test_a_running_job_polls(client: Any, worker: Any) -> None:
    job = TransferJob.objects.create(owner=worker, kind="import", ledger="establishments", mode="check")
    services.write_progress(job, 500, 2000, "checking")
    client.force_login(worker)
    html = client.get(f"/transfer/jobs/{job.pk}/progress", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="25"' in html and "取消" in html


def test_roles_without_transfer_get_403(client: Any, make_user: Any) -> None:
    client.force_login(make_user(Role.HOTLINE, "文峰区"))
    assert client.get("/transfer/").status_code == 403


def test_api_upload_poll_commit(client: Any, worker: Any, categories: Any, django_capture_on_commit_callbacks: Any) -> None:
    client.force_login(worker)
    upload = io.BytesIO(xlsx([HEADER, [code(1), "甲超市", "超市", "", "官园社区"], [code(1), "乙超市", "超市", "", "官园社区"]]))
    upload.name = "a.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/transfer/establishments/imports", {"file": upload})
    assert response.status_code == 202
    job = client.get(f"/api/v1/transfer/jobs/{response.json()['id']}").json()
    assert job["status"] == "done" and job["invalid_rows"] == 1 and job["problems"][0][0] == 3 and job["download"]
    refused = client.post(f"/api/v1/transfer/jobs/{job['id']}/commit", {}, content_type="application/json")
    assert refused.status_code == 400 and "仅导入无误的行" in refused.json()["error"]["message"]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/api/v1/transfer/jobs/{job['id']}/commit", {"valid_only": True}, content_type="application/json")
    assert done.status_code == 202
    assert list(Establishment.objects.values_list("name", flat=True)) == ["甲超市"]
    again = client.post(f"/api/v1/transfer/jobs/{job['id']}/commit", {"valid_only": True}, content_type="application/json")
    assert again.status_code == 400 and "请勿重复提交" in again.json()["error"]["message"]


def test_export_page_shows_the_list_filters(client: Any, worker: Any, places: Any) -> None:
    client.force_login(worker)
    html = client.get("/transfer/establishments/export?status=resumed&q=超市").content.decode()
    assert "状态=已复工" in html and "关键词=超市" in html and 'name="unmasked"' in html  # a community worker may reveal
    assert "?status=resumed&amp;q=" in html
    assert 'href="/establishments/?status=resumed&amp;q=' in html  # 返回: the list it came from


def test_export_page_names_the_filters_as_the_list_does(client: Any, worker: Any, places: Any, regions: Any) -> None:
    client.force_login(worker)
    grid, outside = regions["官园第1网格"].pk, regions["乔家巷社区"].pk
    html = client.get(f"/transfer/establishments/export?region={grid}&kind=shop&above_size=on&page=3").content.decode()
    assert re.findall(r'<span class="badge">([^<]*)</span>', html) == ["区划=第1网格", "类型=门店", "限上企业=是"]
    # a region outside the worker's scope is refused by the list's form: not applied, so not shown either
    html = client.get(f"/transfer/establishments/export?region={outside}").content.decode()
    assert "区划=" not in html and "（未加筛选）" in html


def test_the_list_pages_export_link_exports_exactly_the_filtered_rows(
    client: Any, worker: Any, places: Any, regions: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """From the list page, after a filter change made by htmx: link → confirmation → job → the same rows."""
    from html import unescape

    from taizhang.establishments.services import establishment_transition

    shop = EstablishmentKind.objects.get(code="shop")
    made = {
        name: establishment_create(
            actor=worker, data={"name": name, "kind": shop, "region": regions[place], "address": f"{name}路1号"}
        )
        for name, place in [
            ("光华超市", "官园社区"),
            ("便民超市", "官园第1网格"),
            ("文明超市", "官园第1网格"),
            ("乔家巷超市", "乔家巷社区"),
        ]
    }
    establishment_transition(establishment=made["便民超市"], to=Status.FILING, actor=worker)
    client.force_login(worker)
    form = {"q": "超市", "region": "", "kind": "", "category": "", "status": "not_resumed", "page_size": "200"}
    listed = client.get("/establishments/", form, HTTP_HX_REQUEST="true")
    names = [e.name for e, _holder, _tone in listed.context["rows"]]
    assert sorted(names) == ["光华超市", "文明超市"]  # not 便民 (filing), not the 商店s (q), not 乔家巷 (scope)
    href = re.search(r'<a [^>]*data-testid="export-establishments"[^>]*href="([^"]+)"', listed.content.decode())
    assert href is not None
    confirm = client.get(unescape(href.group(1)))
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "关键词=超市" in html and "开始导出" in html
    action = re.search(r'<form method="post" action="(/transfer/establishments/export[^"]*)"', html)
    assert action is not None
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(unescape(action.group(1)))
    job = TransferJob.objects.get()
    assert started["Location"] == f"/transfer/jobs/{job.pk}/" and job.status == JobStatus.DONE, job.message
    assert job.filters == {"q": "超市", "status": "not_resumed"} and not job.unmasked
    rows = _rows(services.result_path(job))
    assert [r[1] for r in rows[1:]] == names  # the same rows, in the list's order
    download = client.get(f"/transfer/jobs/{job.pk}/download")
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
