from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import Client
from django.urls import reverse

from taizhang.establishments.models import EnterpriseAccount, Establishment, Status
from taizhang.filings import services
from taizhang.filings.models import Filing, FilingEvent, State

from .conftest import ENTERPRISE_ANSWERS, FAR, all_accept, fill, pdf_bytes, submitted, upload


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form_data(filing: Filing, answers: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"revision": filing.revision, "version": filing.next_version, "planned_date": FAR.isoformat()}
    for code, fields in answers.items():
        for name, value in fields.items():
            if value is True:
                data[f"{code}-{name}"] = "on"
            elif value is not False:
                data[f"{code}-{name}"] = str(value)
    data.update(extra)
    return data


def test_enterprise_files_and_department_reviews_through_the_pages(setup):
    ent = client_for(setup.ent["gy"])
    est = setup.est["gy"]
    page = ent.get(reverse("filings:portal"))
    assert page.status_code == 200 and "官园超市" in page.text and "开始复工备案" in page.text

    response = ent.post(reverse("filings:start", args=[est.pk]))
    filing = Filing.objects.get(establishment=est)
    assert response.status_code == 302 and response["Location"] == reverse("filings:edit", args=[filing.pk])
    page = ent.get(reverse("filings:edit", args=[filing.pk]))
    assert page.status_code == 200 and "疫情防控组织架构" in page.text and "防疫物资" in page.text

    # save a draft with files, then submit
    data = form_data(filing, ENTERPRISE_ANSWERS, action="save")
    data.update({f"{c}-files": upload(f"{c}.pdf", pdf_bytes(c)) for c in ("plan", "emergency_plan", "commitment")})
    response = ent.post(reverse("filings:edit", args=[filing.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    filing.refresh_from_db()
    assert filing.state == State.DRAFT and filing.attachments.count() == 3 and filing.answers["staff"]["total"] == 120
    response = ent.post(reverse("filings:edit", args=[filing.pk]), form_data(filing, ENTERPRISE_ANSWERS, action="submit"))
    assert response.status_code == 302
    filing.refresh_from_db()
    assert filing.state == State.SUBMITTED and filing.version == 1

    # the department's queue and review page
    swj = client_for(setup.users["swj_staff"])
    queue = swj.get(reverse("filings:queue"))
    assert "官园超市" in queue.text and reverse("filings:review", args=[filing.pk]) in queue.text
    page = swj.get(reverse("filings:review", args=[filing.pk]))
    assert page.status_code == 200 and "提交审核结果" in page.text
    review = {"revision": filing.revision, "note": ""}
    for item in filing.template.items.all():
        review[f"{item.code}-decision"] = "accept"
    review["staff-decision"] = "return"
    response = swj.post(reverse("filings:review", args=[filing.pk]), review)
    assert response.status_code == 200 and "退回时请写明" in response.text  # a return needs a comment
    review["staff-comment"] = "请补充异常人员处置情况"
    response = swj.post(reverse("filings:review", args=[filing.pk]), review)
    assert response.status_code == 302
    filing.refresh_from_db()
    assert filing.state == State.RETURNED

    # the enterprise sees the comment, fixes the item and resubmits
    page = ent.get(reverse("filings:edit", args=[filing.pk]))
    assert "请补充异常人员处置情况" in page.text
    fixed = {**ENTERPRISE_ANSWERS, "staff": {**ENTERPRISE_ANSWERS["staff"], "note": "无异常"}}
    response = ent.post(reverse("filings:edit", args=[filing.pk]), form_data(filing, fixed, action="submit"))
    assert response.status_code == 302
    filing.refresh_from_db()
    assert filing.state == State.SUBMITTED and filing.version == 2

    page = swj.get(reverse("filings:review", args=[filing.pk]))
    assert "本版有修改" in page.text and "无异常" in page.text
    review = {"revision": filing.revision, "note": "同意"} | {f"{i.code}-decision": "accept" for i in filing.template.items.all()}
    assert swj.post(reverse("filings:review", args=[filing.pk]), review).status_code == 302
    filing.refresh_from_db()
    assert filing.state == State.APPROVED
    assert Establishment.objects.get(pk=est.pk).status == Status.APPROVED
    detail = ent.get(reverse("filings:detail", args=[filing.pk]))
    assert "已通过" in detail.text


def test_stale_review_shows_the_conflict(setup):
    filing = submitted(setup)
    swj = client_for(setup.users["swj_staff"])
    stale = filing.revision
    services.filing_review(filing=filing, actor=setup.users["swj_staff"], rulings=all_accept(filing), expected_revision=stale)
    review = {"revision": stale} | {f"{i.code}-decision": "accept" for i in filing.template.items.all()}
    response = swj.post(reverse("filings:review", args=[filing.pk]), review)
    assert response.status_code == 302  # no longer reviewable: sent to the detail page
    assert FilingEvent.objects.filter(filing=filing, kind="approved").count() == 1


def test_stale_draft_keeps_what_was_typed(setup):
    ent_user = setup.ent["gy"]
    filing = services.filing_create(establishment=setup.est["gy"], actor=ent_user)
    stale = filing.revision
    services.filing_update(
        filing=filing, actor=setup.users["guanyuan_a"], expected_revision=stale, answers={"supplies": {"masks": 1}}
    )
    data = form_data(filing, {"plan": {"summary": "我刚写的方案"}}, action="save")
    data["revision"] = stale
    response = client_for(ent_user).post(reverse("filings:edit", args=[filing.pk]), data)
    assert response.status_code == 200
    assert "已被他人处理或修改" in response.text and "我刚写的方案" in response.text


@pytest.mark.parametrize("name", ["detail", "edit", "review", "withdraw"])
def test_another_enterprise_gets_404_for_each_filing_page(setup, name):
    other = submitted(setup, "qj")
    c = client_for(setup.ent["gy"])
    url = reverse(f"filings:{name}", args=[other.pk])
    response = c.post(url) if name == "withdraw" else c.get(url)
    expected = 403 if name == "review" else 404  # the review page refuses the enterprise role for any id
    assert response.status_code == expected
    missing = reverse(f"filings:{name}", args=[10**8])
    assert (c.post(missing) if name == "withdraw" else c.get(missing)).status_code == expected
    assert Filing.objects.get(pk=other.pk).state == State.SUBMITTED


def test_attachments_are_served_only_to_who_sees_the_filing(setup):
    filing = submitted(setup, "qj")
    att = filing.attachments.get(item_code="plan")
    url = reverse("filings:attachment", args=[filing.pk, att.pk])
    own = client_for(setup.ent["qj"]).get(url)
    assert own.status_code == 200 and b"".join(cast(Any, own).streaming_content).startswith(b"%PDF-")
    assert own["Content-Type"] == "application/pdf" and own["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in own["Cache-Control"]
    for user in (setup.ent["gy"], setup.users["jyj_staff"], setup.users["guanyuan_a"]):
        assert client_for(user).get(url).status_code == 404
    assert client_for(setup.users["swj_staff"]).get(url).status_code == 200  # the reviewer
    mine = submitted(setup, "gy")
    assert client_for(setup.ent["gy"]).get(reverse("filings:attachment", args=[mine.pk, att.pk])).status_code == 404
    assert Client().get(url).status_code == 302  # anonymous: to the login page


def test_another_enterprise_cannot_start_a_filing_for_an_establishment(setup):
    response = client_for(setup.ent["gy"]).post(reverse("filings:start", args=[setup.est["qj"].pk]))
    assert response.status_code == 404
    assert not Filing.objects.exists()


def test_roles_are_checked_before_anything(setup):
    filing = submitted(setup)
    leader = client_for(setup.users["leader"])
    assert leader.get(reverse("filings:review", args=[filing.pk])).status_code == 403
    assert leader.get(reverse("filings:detail", args=[filing.pk])).status_code == 200
    ent = client_for(setup.ent["gy"])
    for name in ("list", "queue", "overdue", "figures", "accounts"):
        assert ent.get(reverse(f"filings:{name}")).status_code == 403


def test_list_and_queue_query_counts_do_not_grow(setup, django_assert_max_num_queries):
    swj = client_for(setup.users["swj_staff"])
    staff = setup.users["guanyuan_a"]
    submitted(setup, "gy")

    def one_more(n: int) -> None:
        est = setup.world.establishment(f"官园第{n}超市", "官园社区")
        filing = fill(services.filing_create(establishment=est, actor=staff), staff)
        services.filing_submit(filing=filing, actor=staff)

    for name in ("list", "queue"):
        with django_assert_max_num_queries(20) as first:
            assert swj.get(reverse(f"filings:{name}")).status_code == 200
        one_more(len(first))
        one_more(len(first) + 100)
        with django_assert_max_num_queries(len(first)):
            swj.get(reverse(f"filings:{name}"))


def test_figures_and_overdue_pages(setup):
    submitted(setup)
    leader = client_for(setup.users["leader"])
    page = leader.get(reverse("filings:figures"), {"on": "2020-03-19", "by": "category"})
    assert page.status_code == 200 and "截至3月19日复工复产单位" in page.text and "商贸零售" in page.text
    assert leader.get(reverse("filings:overdue")).status_code == 200


def test_staff_open_an_account_and_see_the_password_once(setup):
    est = setup.world.establishment("官园面馆", "官园社区", category="便利店")
    c = client_for(setup.users["guanyuan_a"])
    found = c.get(reverse("filings:accounts"), {"q": "官园面馆"})
    assert reverse("filings:account_create", args=[est.pk]) in found.text
    response = c.post(reverse("filings:account_create", args=[est.pk]), {"display_name": "面馆老板"})
    assert response.status_code == 200 and "初始密码只显示这一次" in response.text
    assert "no-store" in response["Cache-Control"]


def test_registration_page_is_public_and_confirmed_by_the_community(setup):
    est = setup.world.establishment("官园面馆", "官园社区", category="便利店", contact_mobile="13700001111")
    anon = Client()
    assert anon.get(reverse("filings:register")).status_code == 200
    data = {
        "credit_code": est.credit_code,
        "mobile": "13700002222",
        "display_name": "面馆老板",
        "password": "Mianguan-2020!",
        "password2": "Mianguan-2020!",
    }
    bad = anon.post(reverse("filings:register"), data)
    assert bad.status_code == 400 and "不匹配" in bad.text
    data["mobile"] = "137 0000 1111"
    done = anon.post(reverse("filings:register"), data)
    assert done.status_code == 200 and "注册已提交" in done.text
    community = client_for(setup.users["guanyuan_a"])
    page = community.get(reverse("filings:accounts"))
    assert "面馆老板" in page.text
    account = EnterpriseAccount.objects.get(establishment=est)
    assert client_for(setup.users["qiaojia_a"]).post(reverse("filings:account_confirm", args=[account.pk])).status_code == 404
    assert community.post(reverse("filings:account_confirm", args=[account.pk])).status_code == 302
    account.refresh_from_db()
    assert account.confirmed
