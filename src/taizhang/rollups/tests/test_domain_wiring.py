"""The rollups follow every service of the problem ledger, the filings and the inspections.

NOT collected by default (the file name does not start with test_): the problem and filing services call the rollup
hooks only once the lead adds the lines listed in docs/adr/0010-rollups.md ("Wiring"). The inspections are wired
already (test_inspections_wiring.py); the last test here also needs the problem ledger (a failed item opens a problem).
Run it explicitly:

    pytest src/taizhang/rollups/tests/pending_domain_wiring.py

When it passes, rename it to test_domain_wiring.py so that it guards the wiring from then on.

Each test changes rows through the services (never the ORM) and, after every step, compares every rollup with a
direct GROUP BY over the base rows (`services.verify()`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from taizhang.filings import services as filings
from taizhang.filings.tests.conftest import FAR, all_accept, private_dir, setup, submitted  # noqa: F401 - fixtures
from taizhang.inspections import services as inspections
from taizhang.inspections.tests.conftest import _private_files, iw, photo, school_answers  # noqa: F401 - fixtures
from taizhang.problems import services as problems
from taizhang.problems.escalation import escalate_overdue
from taizhang.problems.models import Source, State
from taizhang.problems.tests.conftest import _private_storage, pw  # noqa: F401 - fixtures
from taizhang.rollups import services
from taizhang.rollups.models import Tally

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def consistent() -> None:
    differences = services.verify(record=False)
    assert differences == [], "\n".join(map(str, differences[:20]))


def counted(metric: str, path: str) -> int:
    return sum(Tally.objects.filter(metric=metric, region_path=path).values_list("value", flat=True))


def test_problem_lifecycle_keeps_rollups_exact(pw):  # noqa: F811 - the problems fixture
    grid, handler, office = pw.u("guanyuan_a"), pw.u("guanyuan_b"), pw.u("ghl_office")
    cat = pw.cat("measures_inadequate")
    p = problems.problem_report(reporter=grid, source=Source.VISIT, category=cat, establishment=pw.e1, description="未戴口罩")
    consistent()
    assert counted("prob", pw.regions["文峰区"].path) == 1
    assert counted("prob_event", pw.regions["文峰区"].path) == 2  # reported, routed
    p = problems.problem_transition(problem=p, to=State.RETURNED, actor=handler, note="需协调", expected_version=p.version)
    consistent()
    p = problems.problem_reassign(problem=p, unit=pw.unit("官园社区"), assignee=handler, actor=office, reason="属地落实")
    consistent()
    p = problems.problem_transition(problem=p, to=State.IN_PROGRESS, actor=handler, expected_version=p.version)
    consistent()
    dup = problems.problem_report(
        reporter=pw.hotline, source=Source.HOTLINE, category=cat, region=pw.regions["官园第1网格"], description="重复反映"
    )
    dup = problems.problem_merge(problem=dup, into=p, actor=handler, note="同一问题")
    consistent()
    p = problems.problem_transition(problem=p, to=State.RESOLVED, actor=handler, note="已整改")
    consistent()
    p = problems.problem_transition(problem=p, to=State.REOPENED, actor=office, note="复查不合格")
    consistent()
    p = problems.problem_transition(problem=p, to=State.IN_PROGRESS, actor=handler)
    p = problems.problem_transition(problem=p, to=State.RESOLVED, actor=handler, note="已整改")
    p = problems.problem_transition(problem=p, to=State.VERIFIED, actor=office, note="合格")
    p = problems.problem_transition(problem=p, to=State.CLOSED, actor=office)
    consistent()
    assert counted("prob_sla", pw.regions["文峰区"].path) == 2  # done, and done within its deadline


def test_sla_sweep_marks_overdue_in_the_rollups(pw):  # noqa: F811 - the problems fixture
    cat = pw.cat("measures_inadequate")
    cat.sla_days = 1
    cat.save()
    at = datetime(2020, 3, 2, 10, tzinfo=SH)
    p = problems.problem_report(
        reporter=pw.u("guanyuan_a"),
        source=Source.VISIT,
        category=cat,
        region=pw.regions["官园第1网格"],
        description="超期",
        at=at,
    )
    consistent()
    escalate_overdue(now=at + timedelta(days=5))
    consistent()
    assert counted("prob_overdue", pw.regions["文峰区"].path) == 1
    p.refresh_from_db()
    problems.problem_transition(problem=p, to=State.IN_PROGRESS, actor=pw.u("guanyuan_b"))
    problems.problem_transition(problem=p, to=State.RESOLVED, actor=pw.u("guanyuan_b"), note="办结")
    consistent()
    assert counted("prob_overdue", pw.regions["文峰区"].path) == 0


def test_filing_lifecycle_keeps_rollups_exact(setup):  # noqa: F811 - the filings fixture
    reviewer = setup.users["swj_staff"]
    filing = submitted(setup)  # create, fill, submit: the establishment moves to 备案中 too
    consistent()
    d = setup.world.regions["文峰区"].path
    assert Tally.objects.get(metric="filing", region_path=d, key="submitted").value == 1
    filings.filings_flag_overdue(now=timezone.now() + timedelta(days=30))
    consistent()
    assert counted("filing_overdue", d) == 1
    filing.refresh_from_db()
    rulings = {**all_accept(filing), filing.template.items.first().code: ("return", "请补充")}
    filings.filing_review(filing=filing, actor=reviewer, rulings=rulings, expected_revision=filing.revision)
    consistent()
    assert counted("filing_overdue", d) == 0
    filing.refresh_from_db()
    filing = filings.filing_submit(filing=filing, actor=setup.ent["gy"], version=2)
    consistent()
    filing.refresh_from_db()
    filings.filing_review(
        filing=filing,
        actor=reviewer,
        rulings=all_accept(filing),
        expected_revision=filing.revision,
        today=FAR + timedelta(days=1),
    )
    consistent()  # approved and resumed on its planned date: establishment and filing rollups follow
    other = filings.filing_create(establishment=setup.est["qj"], actor=setup.ent["qj"])
    consistent()
    filings.filing_withdraw(filing=other, actor=setup.ent["qj"], note="暂不复工")
    consistent()


def test_campaign_and_visits_keep_rollups_exact(iw):  # noqa: F811 - the inspections fixture
    services.rebuild()  # the fixture marks two establishments resumed with the ORM
    consistent()
    campaign = iw.school_campaign()
    consistent()
    t = campaign.targets.get(establishment=iw.est["s1"])
    inspector = iw.u("insp1a") if t.team.code == "DDZ1" else iw.u("insp2a")
    inspections.visit_submit(actor=inspector, key=iw.key(), target=t, answers=school_answers(), helped=True, help_note="讲解政策")
    consistent()
    d = iw.regions["文峰区"].path
    assert counted("visit", d) == 1 and counted("helped", d) == 1
    assert Tally.objects.get(metric="target", region_path=d, dim=campaign.pk, key="covered").value == 1
    inspections.visit_submit(
        actor=inspector,
        key=iw.key(),
        target=t,
        answers=school_answers(observation_room="no"),
        notes={"observation_room": "缺体温计"},
        photos={"observation_room": [photo()]},
    )
    consistent()  # the failed item opened a problem: problem rollups and the helped count follow
    assert counted("helped", d) == 1
    inspections.campaign_refresh_targets(campaign=campaign)
    consistent()
    inspections.campaign_close(actor=iw.u("jyj_staff"), campaign=campaign)
    consistent()
