"""The dashboard reads the rollups and shows exactly what a direct count of the base rows says, per user scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from taizhang.core.errors import NotVisible
from taizhang.core.roles import Role
from taizhang.dashboards import scope, selectors
from taizhang.establishments.models import Status
from taizhang.rollups.services import set_as_of, verify

from .conftest import DAY

pytestmark = pytest.mark.django_db
TODAY = DAY + timedelta(days=400)


@pytest.mark.parametrize("region", ["文峰区", "光华路街道", "官园社区", "官园第1网格", "乔家巷社区"])
@pytest.mark.parametrize("on", [DAY, DAY - timedelta(days=5)])
def test_rollups_equal_a_direct_count(dw, region, on):
    r = dw.regions[region]
    view = scope.resolve(dw.u("leader"), r.pk)
    fast = selectors.numbers(view, on=on, today=TODAY)
    raw = selectors.raw_numbers(r.path, r.depth, on=on, today=TODAY)
    assert fast.comparable() == raw.comparable()
    assert verify(record=False) == []


def test_the_figures_themselves(dw):
    view = scope.resolve(dw.u("leader"), dw.regions["文峰区"].pk)
    n = selectors.numbers(view, on=DAY, today=TODAY)
    assert (n.resumed_as_of, n.resumed_above_as_of, n.resumed_today) == (3, 1, 1)
    assert selectors.numbers(view, on=DAY - timedelta(days=5), today=TODAY).resumed_as_of == 1
    assert n.filing == {"submitted": 1, "approved": 1} and n.filing_overdue == 1
    assert sum(v for (_u, k), v in n.prob_unit.items() if k == "open") == 3
    assert sum(v for (_u, k), v in n.prob_unit.items() if k == "overdue") == 1
    assert sum(v for (_u, k), v in n.prob_unit.items() if k == "in_sla") == 1  # d resolved late, b in time
    assert n.visit_people == 5 and n.helped == 1 and n.visits_today == 2
    assert n.targets == {(dw.campaign.pk, "active"): 3, (dw.campaign.pk, "covered"): 2}
    guanyuan = dw.regions["官园社区"].path
    assert set(n.children) == {dw.regions["光华路街道"].path, dw.regions["头二三街道"].path}
    assert n.children[dw.regions["光华路街道"].path][("est", Status.RESUMED)] == 2
    assert guanyuan not in n.children


def test_scope_community_sees_its_own_and_nothing_else(dw):
    user = dw.u("guanyuan_a")
    view = scope.resolve(user)
    assert view.region == dw.regions["官园社区"]
    scope.resolve(user, dw.regions["官园第1网格"].pk)
    for outside in ("乔家巷社区", "光华路街道", "文峰区"):
        with pytest.raises(NotVisible):
            scope.resolve(user, dw.regions[outside].pk)
    with pytest.raises(NotVisible):
        scope.resolve(user, 999999)


def test_department_sees_its_categories_and_covered_subdistricts(dw):
    # 区商务局: 商贸零售 (超市, 便利店) everywhere, and every category in 头二三街道 (乔家巷 is there).
    view = scope.resolve(dw.u("swj_staff"))
    n = selectors.numbers(view, on=DAY, today=TODAY)
    by_est = {k: v for k, v in n.est.items() if v}
    assert sum(by_est.values()) == 5  # a, b, d, e (商贸零售) + f (辅导学校 in 头二三街道); not c
    assert n.filing == {"approved": 1}  # c's waiting filing is 教育培训 in 光华路街道
    with pytest.raises(NotVisible):
        scope.resolve(dw.u("swj_staff"), dw.regions["文峰区"].parent_id)


def test_page_links_every_figure_to_its_rows(dw, client):
    client.force_login(dw.u("leader"))
    set_as_of(DAY)
    r = client.get(reverse("dashboards:home"), {"region": dw.regions["光华路街道"].pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="resumed-total"' in html
    assert f"/establishments/?region={dw.regions['光华路街道'].pk}&amp;status=resumed" in html
    assert f"/problems/?region={dw.regions['光华路街道'].pk}&amp;state=open" in html
    assert f"?region={dw.regions['官园社区'].pk}" in html  # drill-down to the community
    assert 'id="dashboard-charts"' in html and "<script>" not in html  # data only: no inline script (CSP)
    assert client.get(reverse("dashboards:home"), {"region": dw.regions["官园第1网格"].pk}).status_code == 200


def test_page_refuses_regions_outside_and_roles_without_a_dashboard(dw, client, make_user):
    client.force_login(dw.u("guanyuan_a"))
    assert client.get(reverse("dashboards:home"), {"region": dw.regions["乔家巷社区"].pk}).status_code == 404
    assert client.get(reverse("dashboards:screen"), {"region": dw.regions["乔家巷社区"].pk}).status_code == 404
    client.force_login(make_user(role=Role.HOTLINE, region="文峰区"))
    assert client.get(reverse("dashboards:home")).status_code == 403


def test_screen_and_api(dw, client):
    client.force_login(dw.u("leader"))
    r = client.get(reverse("dashboards:screen"))
    assert r.status_code == 200 and b'http-equiv="refresh" content="60"' in r.content
    r = client.get("/api/v1/dashboard", {"region": dw.regions["文峰区"].pk, "on": DAY.isoformat()})
    assert r.status_code == 200
    body = r.json()
    assert body["title"] == "文峰区"
    assert {c["name"] for c in body["children"]} == {"光华路街道", "头二三街道"}
    client.force_login(dw.u("guanyuan_a"))
    assert client.get("/api/v1/dashboard", {"region": dw.regions["文峰区"].pk}).status_code == 404


def test_a_page_costs_a_fixed_number_of_queries(dw, client, django_assert_max_num_queries):
    client.force_login(dw.u("leader"))
    client.get(reverse("dashboards:home"))
    with django_assert_max_num_queries(40):
        client.get(reverse("dashboards:home"), {"region": dw.regions["文峰区"].pk})
