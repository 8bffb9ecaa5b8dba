from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.establishments.models import Establishment, EstablishmentEvent, Status
from taizhang.establishments.timeline import timeline_of
from taizhang.filings import routing, selectors, services
from taizhang.filings.models import Filing, FilingEvent, FilingVersion, State

from .conftest import ENTERPRISE_ANSWERS, FAR, all_accept, fill, submitted


def kinds(filing: Filing) -> list[str]:
    return list(filing.events.order_by("at", "id").values_list("kind", flat=True))


def test_the_checklist_follows_the_kind(setup):
    assert routing.template_for(setup.est["gy"]).code == "enterprise-resumption"
    school = routing.template_for(setup.est["school"])
    assert school.code == "school-reopening"
    assert [i.label for i in school.items.all()] == [
        "值班进班登记测温",
        "应急预案",
        "联防联控",
        "复学查验",
        "环境卫生",
        "信息日报",
        "观察室",
        "模拟开学演练",
    ]
    enterprise = routing.template_for(setup.est["gy"])
    assert [i.label for i in enterprise.items.all()] == [
        "复工方案",
        "应急预案",
        "疫情防控组织架构",
        "承诺书",
        "防疫物资",
        "员工排查",
    ]


def test_the_filing_goes_to_the_sectoral_department(setup):
    w = setup.world
    assert routing.reviewer_unit_for(setup.est["gy"]) == w.units["SWJ"]
    assert routing.reviewer_unit_for(setup.est["school"]) == w.units["JYJ"]


def test_draft_saves_incomplete_and_submit_lists_what_is_missing(setup):
    ent = setup.ent["gy"]
    filing = services.filing_create(establishment=setup.est["gy"], actor=ent)
    assert filing.state == State.DRAFT and kinds(filing) == ["created"]
    services.filing_update(filing=filing, actor=ent, expected_revision=filing.revision, answers={"supplies": {"masks": "300"}})
    assert filing.answers["supplies"] == {"masks": 300}
    with pytest.raises(ValidationError) as exc:
        services.filing_submit(filing=filing, actor=ent)
    errors = exc.value.message_dict
    assert {"plan", "commitment", "staff", "planned_date"} <= set(errors)
    assert any("请上传附件" in m for m in errors["plan"])
    filing.refresh_from_db()
    assert filing.state == State.DRAFT and filing.version == 0 and not FilingVersion.objects.exists()


def test_bad_values_are_refused_with_the_item_named(setup):
    ent = setup.ent["gy"]
    filing = services.filing_create(establishment=setup.est["gy"], actor=ent)
    with pytest.raises(ValidationError) as exc:
        services.filing_update(
            filing=filing,
            actor=ent,
            expected_revision=filing.revision,
            answers={"staff": {"total": 10, "returned": 12, "screened": "many"}},
        )
    errors = exc.value.message_dict
    assert "员工排查：已返岗人数不能多于员工总数" in errors["staff-returned"]
    assert "员工排查·已排查人数：请填写整数" in errors["staff-screened"]


def test_stale_draft_save_is_a_conflict_and_writes_nothing(setup):
    ent, staff = setup.ent["gy"], setup.users["guanyuan_a"]
    filing = services.filing_create(establishment=setup.est["gy"], actor=ent)
    seen = filing.revision
    services.filing_update(filing=filing, actor=staff, expected_revision=seen, answers={"supplies": {"masks": 1}})
    with pytest.raises(ConflictError, match="已被他人处理或修改"):
        services.filing_update(
            filing=Filing.objects.get(pk=filing.pk), actor=ent, expected_revision=seen, answers={"supplies": {"masks": 2}}
        )
    assert Filing.objects.get(pk=filing.pk).answers["supplies"] == {"masks": 1}


def test_one_filing_in_progress_per_establishment(setup):
    services.filing_create(establishment=setup.est["gy"], actor=setup.ent["gy"])
    with pytest.raises(ApplicationError, match="已有进行中的备案"):
        services.filing_create(establishment=setup.est["gy"], actor=setup.users["guanyuan_a"])


def test_only_the_enterprise_and_its_area_may_file(setup):
    with pytest.raises(ApplicationError, match="企业联系人或所在社区"):
        services.filing_create(establishment=setup.est["gy"], actor=setup.ent["qj"])
    with pytest.raises(ApplicationError):
        services.filing_create(establishment=setup.est["gy"], actor=setup.users["swj_staff"])  # reviewers do not file


def test_submit_is_idempotent(setup):
    filing = submitted(setup)
    assert filing.state == State.SUBMITTED and filing.version == 1
    assert filing.reviewer_unit == setup.world.units["SWJ"]
    assert filing.due_at and filing.submitted_at and filing.due_at > filing.submitted_at
    again = services.filing_submit(filing=filing, actor=setup.ent["gy"], version=1)
    again2 = services.filing_submit(filing=filing, actor=setup.ent["gy"])
    assert again.pk == again2.pk == filing.pk and again.version == 1
    assert kinds(filing).count("submitted") == 1
    assert FilingVersion.objects.filter(filing=filing).count() == 1
    est = Establishment.objects.get(pk=setup.est["gy"].pk)
    assert est.status == Status.FILING
    assert EstablishmentEvent.objects.filter(establishment=est, to_status=Status.FILING).count() == 1


def test_return_one_item_resubmit_and_approve(setup):
    ent, reviewer = setup.ent["gy"], setup.users["swj_staff"]
    filing = submitted(setup)
    rulings = all_accept(filing)
    rulings["supplies"] = ("return", "口罩数量不足两周用量，请补充采购计划")
    services.filing_review(filing=filing, actor=reviewer, rulings=rulings, expected_revision=filing.revision)
    assert filing.state == State.RETURNED
    returned = filing.events.get(kind="returned")
    assert returned.data["returned"] == {"supplies": "口罩数量不足两周用量，请补充采购计划"}
    assert "口罩数量不足" in returned.note

    # the enterprise sees the comment on the item and changes only that item
    view = selectors.filing_view(filing=filing, user=ent)
    assert view.working_copy and view.can_edit
    supplies = next(iv for iv in view.items if iv.item.code == "supplies")
    assert supplies.previously_returned and "口罩数量不足" in supplies.previous_ruling["comment"]
    services.filing_update(
        filing=filing,
        actor=ent,
        expected_revision=filing.revision,
        answers={"supplies": {**ENTERPRISE_ANSWERS["supplies"], "masks": 5000}},
    )
    services.filing_submit(filing=filing, actor=ent, version=2)
    filing.refresh_from_db()
    assert filing.state == State.SUBMITTED and filing.version == 2

    # the reviewer sees what changed since version 1, item by item
    view = selectors.filing_view(filing=filing, user=reviewer)
    assert view.can_review and view.version.number == 2 and view.previous.number == 1
    changed = {iv.item.code: iv.changes for iv in view.items if iv.changed}
    assert list(changed) == ["supplies"]
    assert [(c.label, c.old, c.new) for c in changed["supplies"]] == [("口罩（只）", "2000", "5000")]

    services.filing_review(
        filing=filing, actor=reviewer, rulings=all_accept(filing), expected_revision=filing.revision, note="同意复工"
    )
    assert filing.state == State.APPROVED
    est = Establishment.objects.get(pk=setup.est["gy"].pk)
    assert est.status == Status.APPROVED  # planned date is in the future
    assert kinds(filing) == ["created", "submitted", "returned", "submitted", "approved"]

    # on its planned date the periodic job resumes it
    assert services.filings_resume_due(today=FAR - timedelta(days=1)) == 0
    assert services.filings_resume_due(today=FAR) == 1
    est.refresh_from_db()
    assert est.status == Status.RESUMED and est.resumed_on == FAR
    assert kinds(filing)[-1] == "resumed"
    assert services.filings_resume_due(today=FAR) == 0


def test_approval_with_a_past_date_resumes_at_once(setup):
    today = timezone.localdate()
    filing = submitted(setup, planned=today)
    services.filing_review(
        filing=filing,
        actor=setup.users["swj_staff"],
        rulings=all_accept(filing),
        expected_revision=filing.revision,
        today=today + timedelta(days=3),
    )
    est = Establishment.objects.get(pk=setup.est["gy"].pk)
    assert est.status == Status.RESUMED and est.resumed_on == today + timedelta(days=3)
    assert kinds(filing)[-2:] == ["approved", "resumed"]


def test_approve_needs_every_item_accepted(setup):
    reviewer = setup.users["swj_staff"]
    filing = submitted(setup)
    services.filing_rule(filing=filing, actor=reviewer, rulings={"plan": ("accept", "")}, expected_revision=filing.revision)
    with pytest.raises(ApplicationError, match="尚未通过"):
        services.filing_approve(filing=filing, actor=reviewer, expected_revision=filing.revision)
    with pytest.raises(ApplicationError, match="先选择需要退回"):
        services.filing_return(filing=filing, actor=reviewer, expected_revision=filing.revision)
    with pytest.raises(ValidationError, match="退回时请写明"):
        services.filing_rule(filing=filing, actor=reviewer, rulings={"staff": ("return", " ")}, expected_revision=filing.revision)
    rest = {c: d for c, d in all_accept(filing).items() if c != "plan"}
    services.filing_rule(filing=filing, actor=reviewer, rulings=rest, expected_revision=filing.revision)
    services.filing_approve(filing=filing, actor=reviewer, expected_revision=filing.revision)
    assert filing.state == State.APPROVED
    assert kinds(filing).count("approved") == 1


def test_two_reviewers_at_once_leave_one_outcome_and_one_event(setup):
    """Approve and return the same filing with the same expected revision: one wins, the other is refused."""
    filing = submitted(setup)
    seen = filing.revision
    a = Filing.objects.get(pk=filing.pk)
    b = Filing.objects.get(pk=filing.pk)
    before = FilingEvent.objects.filter(filing=filing).count()
    services.filing_review(filing=a, actor=setup.users["swj_staff"], rulings=all_accept(a), expected_revision=seen)
    returning = all_accept(b)
    returning["staff"] = ("return", "未逐人测温")
    with pytest.raises(ConflictError) as exc:
        services.filing_review(filing=b, actor=setup.users["swj_staff"], rulings=returning, expected_revision=seen)
    assert "当前状态为“已通过”" in exc.value.message and "没有生效" in exc.value.message
    filing.refresh_from_db()
    assert filing.state == State.APPROVED
    assert FilingEvent.objects.filter(filing=filing).count() == before + 1
    assert FilingEvent.objects.filter(filing=filing, kind__in=["approved", "returned"]).count() == 1
    version = FilingVersion.objects.get(filing=filing, number=1)
    assert version.outcome == State.APPROVED and all(r["decision"] == "accept" for r in version.rulings.values())


def test_only_the_reviewer_unit_reviews(setup):
    filing = submitted(setup)
    with pytest.raises(ApplicationError, match="受理该备案的部门"):
        services.filing_review(
            filing=filing, actor=setup.users["scj_staff"], rulings=all_accept(filing), expected_revision=filing.revision
        )
    # 教育局 cannot even see a supermarket's filing
    with pytest.raises(NotVisible):
        selectors.access_filing(setup.users["jyj_staff"], filing.pk)
    # the territorial chain sees it, read-only
    for key in ("guanyuan_a", "ghl_office", "leader", "scj_staff"):
        assert selectors.access_filing(setup.users[key], filing.pk) == filing
    assert not selectors.filing_view(filing=filing, user=setup.users["leader"]).can_review


def test_an_enterprise_sees_only_its_own_filings(setup):
    mine = submitted(setup, "gy")
    other = submitted(setup, "qj")
    ent = setup.ent["gy"]
    assert list(selectors.filing_list(user=ent)) == [mine]
    with pytest.raises(NotVisible):
        selectors.access_filing(ent, other.pk)
    att = other.attachments.first()
    with pytest.raises(NotVisible):
        selectors.access_attachment(ent, other.pk, att.pk)
    with pytest.raises(NotVisible):  # a visible filing with another filing's attachment
        selectors.access_attachment(ent, mine.pk, att.pk)
    assert [e for e in timeline_of(establishment=setup.est["qj"], user=ent) if e.source == "备案"] == []


def test_withdraw_restores_the_status(setup):
    filing = submitted(setup)
    services.filing_withdraw(filing=filing, actor=setup.ent["gy"], note="推迟复工")
    assert filing.state == State.WITHDRAWN
    assert Establishment.objects.get(pk=setup.est["gy"].pk).status == Status.NOT_RESUMED
    with pytest.raises(ConflictError):
        services.filing_review(
            filing=filing, actor=setup.users["swj_staff"], rulings=all_accept(filing), expected_revision=filing.revision
        )
    again = services.filing_create(establishment=setup.est["gy"], actor=setup.ent["gy"])
    assert again.pk != filing.pk


def test_overdue_reviews_are_flagged_once(setup):
    filing = submitted(setup)
    due = filing.due_at
    assert due is not None
    later = due + timedelta(minutes=1)
    assert services.filings_flag_overdue(now=due - timedelta(minutes=1)) == 0
    assert services.filings_flag_overdue(now=later) == 1
    assert services.filings_flag_overdue(now=later + timedelta(hours=1)) == 0
    assert kinds(filing).count("overdue") == 1
    assert list(selectors.overdue_reviews(user=setup.users["swj_staff"], now=later)) == [filing]
    assert list(selectors.overdue_reviews(user=setup.users["leader"], now=later)) == [filing]
    assert list(selectors.overdue_reviews(user=setup.users["jyj_staff"], now=later)) == []
    assert selectors.queue_counts(user=setup.users["swj_staff"], now=later) == {"waiting": 1, "overdue": 1}


def test_the_review_deadline_is_in_working_days(setup):
    filing = submitted(setup)
    filing.template.review_days = 5
    filing.template.save()
    second = submitted(setup, "qj")

    def wait(f: Filing) -> timedelta:
        assert f.due_at and f.submitted_at
        return f.due_at - f.submitted_at

    assert wait(second) > wait(filing)


def test_every_step_is_on_the_establishment_timeline(setup):
    filing = submitted(setup, planned=timezone.localdate())
    rulings = all_accept(filing)
    rulings["plan"] = ("return", "请补充分批复工时间表")
    services.filing_review(filing=filing, actor=setup.users["swj_staff"], rulings=rulings, expected_revision=filing.revision)
    services.filing_update(
        filing=filing,
        actor=setup.ent["gy"],
        expected_revision=filing.revision,
        answers={"plan": {"summary": "补充：3月5日、3月12日两批"}},
    )
    services.filing_submit(filing=filing, actor=setup.ent["gy"], version=2)
    filing.refresh_from_db()
    services.filing_review(
        filing=filing, actor=setup.users["swj_staff"], rulings=all_accept(filing), expected_revision=filing.revision
    )
    titles = [e.title for e in timeline_of(establishment=setup.est["gy"], user=setup.ent["gy"]) if e.source == "备案"]
    assert titles == [
        "复工备案：复工",
        "复工备案：审核通过（第2版）",
        "复工备案：提交备案（第2版）",
        "复工备案：退回修改（第1版）",
        "复工备案：提交备案（第1版）",
        "复工备案：创建备案",
    ]


def test_school_filing_uses_the_school_list(setup):
    ent = setup.ent["school"]
    filing = services.filing_create(establishment=setup.est["school"], actor=ent)
    answers = {i.code: {"description": f"{i.label}已落实"} for i in filing.template.items.all() if i.evidence == "measure"}
    answers["emergency_plan"] = {"summary": "校园疫情应急预案"}
    fill(filing, ent, answers=answers, files=("emergency_plan",))
    services.filing_submit(filing=filing, actor=ent)
    filing.refresh_from_db()
    assert filing.state == State.SUBMITTED and filing.reviewer_unit == setup.world.units["JYJ"]
    services.filing_review(
        filing=filing, actor=setup.users["jyj_staff"], rulings=all_accept(filing), expected_revision=filing.revision
    )
    assert filing.state == State.APPROVED


def test_planned_date_may_not_be_in_the_past_on_first_submission(setup):
    ent = setup.ent["gy"]
    filing = services.filing_create(establishment=setup.est["gy"], actor=ent)
    fill(filing, ent, planned=date(2020, 1, 1))
    with pytest.raises(ValidationError, match="不能早于今天"):
        services.filing_submit(filing=filing, actor=ent)


def test_reviewers_and_the_filer_are_notified(setup):
    from taizhang.notifications.models import Notification

    filing = submitted(setup)
    [note] = Notification.objects.filter(user=setup.users["swj_staff"], kind="filing")
    assert "待审核" in note.title and note.url == f"/filings/{filing.pk}/review/"
    assert not Notification.objects.filter(user=setup.users["jyj_staff"]).exists()
    services.filing_review(
        filing=filing, actor=setup.users["swj_staff"], rulings=all_accept(filing), expected_revision=filing.revision
    )
    assert Notification.objects.filter(user=setup.ent["gy"], kind="filing", title__contains="已通过").exists()
    due = filing.due_at
    assert due is not None
    other = submitted(setup, "qj")
    services.filings_flag_overdue(now=(other.due_at or due) + timedelta(minutes=1))
    assert Notification.objects.filter(user=setup.users["swj_staff"], title__contains="超过审核期限").count() == 1
