"""Submitting visits: answers, photos, problems opened and routed at once, idempotency, staff, versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.core.errors import ApplicationError, ConflictError, NotVisible
from taizhang.establishments import scoping as establishment_scoping
from taizhang.establishments.models import Establishment
from taizhang.establishments.timeline import timeline_of
from taizhang.inspections import checklist, selectors, services
from taizhang.inspections.models import Answer, ChecklistItem, FrozenError, Visit, VisitPhoto, VisitResult
from taizhang.problems.models import Problem, Source, State

from .conftest import photo, school_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(iw):
    return iw.school_campaign()


def target_of(campaign, est):
    return campaign.targets.get(establishment=est)


def submit(iw, user, target, answers, **kw):
    return services.visit_submit(actor=user, key=kw.pop("key", None) or iw.key(), target=target, answers=answers, **kw)


def test_failed_item_opens_a_routed_problem_with_the_answer_and_photo(iw, campaign, settings):
    t = target_of(campaign, iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    result = submit(
        iw,
        inspector,
        t,
        school_answers(observation_room="no"),
        notes={"observation_room": "观察室未配备体温计"},
        photos={"observation_room": [photo()]},
    )
    visit = result.visit
    assert result.created and visit.result == VisitResult.FINDINGS and visit.failed_count == 1
    answer = visit.answers.get(item__code="observation_room")
    problem = answer.problem
    assert problem is not None and problem.source == Source.INSPECTION and problem.category.code == "measures_inadequate"
    # routed through the responsibility chain: 官园社区's committee (territorial category, no 包联 for the school)
    assert problem.unit == iw.w.units["官园社区"] and problem.state == State.ASSIGNED
    assert problem.establishment == iw.est["s1"]
    assert "观察室" in problem.description and "否" in problem.description and "观察室未配备体温计" in problem.description
    assert problem.attachments.count() == 1 and problem.attachments.get().content_type == "image/png"
    # the photo is kept with the visit too, outside the web root
    shot = VisitPhoto.objects.get(visit=visit)
    assert shot.answer == answer and shot.content_type == "image/png"
    assert Path(shot.file.path).is_relative_to(Path(settings.TAIZHANG_PRIVATE_DIR).resolve())
    # the target is covered
    t.refresh_from_db()
    assert t.covered_at == visit.visited_at and t.visits_count == 1 and t.findings_count == 1 and t.last_result == "findings"


def test_an_inspector_sees_the_campaign_targets_of_their_teams_in_the_registry(iw, campaign):
    """The registry's scope includes an inspector's active campaign targets (registered by this app), nothing else."""
    t = target_of(campaign, iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    targets = set(
        campaign.targets.filter(team=t.team, active=True, establishment__isnull=False).values_list("establishment_id", flat=True)
    )
    assert targets and set(Establishment.objects.visible_to(inspector).values_list("pk", flat=True)) == targets


def test_without_the_registry_rule_the_visit_text_names_the_inspectors(iw, campaign, monkeypatch):
    """Should the registry not show the establishment to the inspector (no rule registered), the problem is reported
    on the inspection's behalf, naming the inspectors in the description."""
    monkeypatch.setattr(establishment_scoping, "_EXTENSIONS", [])
    t = target_of(campaign, iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    visit = submit(iw, inspector, t, school_answers(duty_check="no")).visit
    problem = visit.answers.get(item__code="duty_check").problem
    assert problem.reporter is None
    assert inspector.display_name in problem.description and t.team.name in problem.description


def test_the_inspector_is_the_reporter(iw, campaign):
    t = target_of(campaign, iw.est["s2"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    visit = submit(iw, inspector, t, school_answers(supplies=["口罩"])).visit
    problem = visit.answers.get(item__code="supplies").problem
    assert problem.reporter == inspector and problem.category.code == "ppe_shortage"
    assert Problem.objects.visible_to(inspector).filter(pk=problem.pk).exists()


def test_submitting_twice_with_one_key_records_once(iw, campaign):
    t = target_of(campaign, iw.est["k1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    first = submit(iw, inspector, t, school_answers(drill="no", preparation="no"), key="same-key-123")
    again = submit(iw, inspector, t, school_answers(), key="same-key-123")
    assert first.created and not again.created and again.visit.pk == first.visit.pk
    assert Visit.objects.filter(key="same-key-123").count() == 1
    assert Problem.objects.count() == 1  # preparation → measures_inadequate; drill has no category
    t.refresh_from_db()
    assert t.visits_count == 1
    other = iw.u("insp1b") if t.team.code == "DDZ1" else iw.u("insp2b")
    with pytest.raises(ConflictError):
        submit(iw, other, t, school_answers(), key="same-key-123")


def test_invalid_answers_are_refused_and_nothing_is_written(iw, campaign):
    t = target_of(campaign, iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    answers = school_answers(observation_room="no")
    del answers["duty_check"]
    with pytest.raises(ValidationError) as exc:
        submit(iw, inspector, t, answers, photos={"observation_room": [photo()]})
    assert set(exc.value.message_dict) == {"duty_check"}
    bad = SimpleUploadedFile("假照片.jpg", b"not an image at all", content_type="image/jpeg")
    with pytest.raises(ApplicationError, match="不是照片"):
        submit(iw, inspector, t, school_answers(), photos={"": [bad]})
    assert not Visit.objects.exists() and not Problem.objects.exists() and not VisitPhoto.objects.exists()


def test_only_the_team_inspects_its_targets(iw, campaign):
    t = target_of(campaign, iw.est["s1"])
    outsider = iw.u("insp2a") if t.team.code == "DDZ1" else iw.u("insp1a")
    with pytest.raises(ApplicationError, match="工作人员可以填报"):
        submit(iw, outsider, t, school_answers())
    # the organising unit may fill in for a team
    visit = submit(iw, iw.u("jyj_staff"), t, school_answers()).visit
    assert visit.unit == iw.w.units["JYJ"]
    leader = iw.u("leader")
    with pytest.raises(ApplicationError, match="只能查看"):
        submit(iw, leader, t, school_answers())


def test_staff_and_person_times(iw, campaign):
    t = target_of(campaign, iw.est["s1"])
    a, b = ("insp1a", "insp1b") if t.team.code == "DDZ1" else ("insp2a", "insp2b")
    visit = submit(iw, iw.u(a), t, school_answers(), staff=[iw.u(b)], extra_people=2).visit
    assert visit.staff_count == 4 and set(selectors.visit_staff(visit)) == {iw.u(a), iw.u(b)}
    stranger = iw.u("insp2a") if a == "insp1a" else iw.u("insp1a")
    with pytest.raises(ApplicationError, match="不是"):
        submit(iw, iw.u(a), t, school_answers(), staff=[stranger])


def test_absent_records_the_attempt_without_answers(iw, campaign):
    t = target_of(campaign, iw.est["t1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    visit = submit(iw, inspector, t, {}, absent=True).visit
    assert visit.result == VisitResult.ABSENT and not visit.answers.exists()
    t.refresh_from_db()
    assert t.covered_at is not None and t.last_result == "absent"


def test_changing_a_template_does_not_change_an_inspection_already_filled(iw, campaign):
    t = target_of(campaign, iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    visit = submit(iw, inspector, t, school_answers(observation_room="no")).visit
    before = [(a.item.code, a.item.label, checklist.display(a.item, a.value), a.failed) for a in selectors.visit_answers(visit)]
    v1 = campaign.version
    definitions = [checklist.definition_of(i) for i in v1.items.order_by("position")]
    definitions = [d for d in definitions if d["code"] != "drill"]  # drop an item
    for d in definitions:
        if d["code"] == "observation_room":
            d["label"] = "隔离观察室：是否按标准设置"  # reword
            d["fail_op"] = ""  # and stop failing it
            d["problem_category"] = None
    definitions.append({"code": "masks_kids", "label": "学生口罩是否充足", "type": "yes_no", "required": True})
    v2 = services.template_revise(actor=iw.u("jyj_staff"), template=v1.template, items=definitions, note="调整观察室")
    assert v2.number == 2 and v2.is_published
    services.campaign_set_version(actor=iw.u("jyj_staff"), campaign=campaign, version=v2)

    visit.refresh_from_db()
    after = [(a.item.code, a.item.label, checklist.display(a.item, a.value), a.failed) for a in selectors.visit_answers(visit)]
    assert after == before and visit.version == v1 and visit.result == VisitResult.FINDINGS
    assert ChecklistItem.objects.filter(version=v1).count() == 10
    # a published item cannot be edited in place
    item = v1.items.get(code="observation_room")
    item.label = "改"
    with pytest.raises(FrozenError):
        item.save()
    # new inspections use the new version
    t2 = target_of(campaign, iw.est["s2"])
    inspector2 = iw.u("insp1a") if t2.team.code == "DDZ1" else iw.u("insp2a")
    answers = school_answers(masks_kids="yes")
    del answers["drill"]
    new = submit(iw, inspector2, t2, answers).visit
    assert new.version == v2 and new.answers.filter(item__code="masks_kids").exists()
    # a stale form (filled in v1) is told to reload
    t3 = target_of(campaign, iw.est["t2"])
    inspector3 = iw.u("insp1a") if t3.team.code == "DDZ1" else iw.u("insp2a")
    with pytest.raises(ConflictError, match="已更新"):
        submit(iw, inspector3, t3, school_answers(), version=v1)


def test_drafts_are_edited_until_published(iw):
    v1 = iw.version("enterprise-daily")
    staff = iw.u("swj_staff")
    items = [checklist.definition_of(i) for i in v1.items.order_by("position")]
    draft = services.template_save_draft(actor=staff, template=v1.template, items=items[:3])
    again = services.template_save_draft(actor=staff, template=v1.template, items=items[:4], note="再加一项")
    assert draft.pk == again.pk and again.number == 2 and again.items.count() == 4 and not again.is_published
    assert selectors.latest_version(v1.template) == v1
    services.template_publish(actor=staff, version=again)
    assert selectors.latest_version(v1.template).number == 2
    with pytest.raises(ApplicationError, match="只有"):
        services.template_save_draft(actor=iw.u("guanyuan_a"), template=v1.template, items=items)
    with pytest.raises(ValidationError):
        services.template_save_draft(actor=staff, template=v1.template, items=[*items, items[0]])  # duplicate code


def test_ad_hoc_visit_by_a_department(iw):
    """区商务局 visits a supermarket of its sector (no campaign), helps on the spot, and finds staff missing."""
    version = iw.version("enterprise-help-visit")
    staff = iw.u("swj_staff")
    answers = {"resumed": "已复工", "ppe_enough": "yes", "staff_back": "no", "measures_ok": "yes", "policy": "no"}
    visit = services.visit_submit(
        actor=staff,
        key=iw.key(),
        establishment=iw.est["m1"],
        version=version,
        answers=answers,
        helped=True,
        help_note="讲解稳岗补贴政策",
    ).visit
    assert visit.unit == iw.w.units["SWJ"] and visit.kind == "visit" and visit.helped
    problem = Answer.objects.get(visit=visit, item__code="staff_back").problem
    assert problem.source == Source.VISIT and problem.reporter == staff and problem.category.code == "staff_loss"
    # staff_loss routes sectoral first: 超市 → 商贸零售 → 区商务局
    assert problem.unit == iw.w.units["SWJ"]
    # an establishment outside the department's scope: 404
    with pytest.raises(NotVisible):
        services.visit_submit(actor=iw.u("scj_staff"), key=iw.key(), establishment=iw.est["m2"], version=version, answers=answers)
    # a checklist that does not apply to the kind
    with pytest.raises(ApplicationError, match="不适用"):
        services.visit_submit(
            actor=staff, key=iw.key(), establishment=iw.est["m1"], version=iw.version("school-reopening"), answers={}
        )


def test_a_visit_shows_on_the_establishment_timeline(iw, campaign):
    t = target_of(campaign, iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    submit(iw, inspector, t, school_answers(observation_room="no"))
    entries = [e for e in timeline_of(establishment=iw.est["s1"], user=iw.u("guanyuan_a")) if e.source == "督导"]
    assert len(entries) == 1 and "发现问题 1 项" in entries[0].title and entries[0].url.startswith("/inspections/visits/")
    assert [e for e in timeline_of(establishment=iw.est["s1"], user=iw.u("qiaojia_a")) if e.source == "督导"] == []
