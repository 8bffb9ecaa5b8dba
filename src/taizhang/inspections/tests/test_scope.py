"""Scope: an inspector sees the targets of their own team only; everything else is 404, in pages and the API."""

from __future__ import annotations

import pytest

from taizhang.inspections import selectors, services
from taizhang.inspections.models import Campaign, CampaignTarget, Visit

from .conftest import photo, school_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(iw, client):
    campaign = iw.school_campaign()
    t1 = campaign.targets.filter(team=iw.teams["DDZ1"]).select_related("establishment").first()
    t2 = campaign.targets.filter(team=iw.teams["DDZ2"]).select_related("establishment").first()
    v2 = services.visit_submit(
        actor=iw.u("insp2a"), key=iw.key(), target=t2, answers=school_answers(observation_room="no"), photos={"": [photo()]}
    ).visit
    return campaign, t1, t2, v2


def login(client, user):
    client.force_login(user)


def test_an_inspector_of_team_1_cannot_open_team_2s_targets_or_inspections(iw, client, setup):
    campaign, t1, t2, v2 = setup
    login(client, iw.u("insp1a"))
    assert client.get(f"/inspections/targets/{t1.pk}/").status_code == 200
    assert client.get(f"/inspections/targets/{t1.pk}/inspect/").status_code == 200
    for url in (
        f"/inspections/targets/{t2.pk}/",
        f"/inspections/targets/{t2.pk}/inspect/",
        f"/inspections/visits/{v2.pk}/",
        f"/inspections/photos/{v2.photos.get().pk}/",
        f"/api/v1/visits/{v2.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
    missing = client.get("/inspections/targets/99999999/")
    assert missing.status_code == 404
    # posting to the other team's target: the same 404, nothing written
    response = client.post(f"/inspections/targets/{t2.pk}/inspect/", {"key": iw.key(), "a-preparation": "yes"})
    assert response.status_code == 404 and Visit.objects.count() == 1
    api = client.post(
        "/api/v1/visits/", {"key": iw.key(), "target": t2.pk, "answers": school_answers()}, content_type="application/json"
    )
    assert api.status_code == 404 and Visit.objects.count() == 1
    # lists and counts show only the own team's
    targets = client.get(f"/api/v1/campaigns/{campaign.pk}/targets").json()
    assert {r["team"]["id"] for r in targets["results"]} == {iw.teams["DDZ1"].pk}
    assert client.get("/api/v1/visits/").json()["count"] == 0
    progress = client.get(f"/api/v1/campaigns/{campaign.pk}").json()
    assert [r["key"] for r in progress["by_team"]] == [str(iw.teams["DDZ1"].pk)] and progress["total"]["findings"] == 0


def test_the_other_team_and_the_organiser_see_it(iw, client, setup):
    _, t1, t2, v2 = setup
    login(client, iw.u("insp2b"))
    assert client.get(f"/inspections/visits/{v2.pk}/").status_code == 200
    photo_response = client.get(f"/inspections/photos/{v2.photos.get().pk}/")
    assert photo_response.status_code == 200 and photo_response["Content-Type"] == "image/png"
    assert photo_response["Cache-Control"].startswith("private")
    login(client, iw.u("jyj_staff"))
    assert client.get(f"/inspections/targets/{t1.pk}/").status_code == 200
    assert client.get(f"/inspections/targets/{t2.pk}/").status_code == 200


def test_territorial_staff_see_the_targets_and_visits_in_their_area(iw, setup):
    campaign, _, _, v2 = setup
    guanyuan = iw.u("guanyuan_a")
    visible = set(CampaignTarget.objects.visible_to(guanyuan).values_list("establishment__name", flat=True))
    assert visible == {"官园小学", "官园幼儿园", "启明辅导学校"}
    assert Campaign.objects.visible_to(guanyuan).filter(pk=campaign.pk).exists()
    in_area = v2.region_path.startswith(iw.regions["官园社区"].path)
    assert Visit.objects.visible_to(guanyuan).filter(pk=v2.pk).exists() == in_area
    # another department has no part in it
    assert not Campaign.objects.visible_to(iw.u("swj_staff")).exists()


def test_establishments_for_an_inspector_are_their_teams_targets(iw, setup):
    campaign, _, t2, _ = setup
    mine = set(selectors.establishments_for_inspector(iw.u("insp1a")).values_list("pk", flat=True))
    assert mine == set(campaign.targets.filter(team=iw.teams["DDZ1"]).values_list("establishment_id", flat=True))
    assert t2.establishment_id not in mine
    assert not selectors.establishments_for_inspector(iw.u("jyj_staff")).exists()  # not an inspector


def test_pages_refuse_roles_without_access(iw, client, make_user):
    for role in ("hotline", "enterprise"):
        client.force_login(make_user(role, "文峰区"))
        assert client.get("/inspections/campaigns/").status_code == 403
    client.force_login(iw.u("leader"))
    assert client.get("/inspections/").status_code == 403  # leaders read, never fill in
    assert client.get("/inspections/campaigns/").status_code == 200


def test_an_inspector_opens_the_registry_page_of_their_own_targets_only(iw, client, setup):
    """The registry's scope includes an inspector's active targets (establishments.scoping.register_scope): the
    page and the API answer for team 1's target, read-only and masked; team 2's target looks missing (404), and the
    list holds exactly team 1's targets."""
    campaign, t1, t2, _v2 = setup
    login(client, iw.u("insp1a"))
    page = client.get(f"/establishments/{t1.establishment_id}/")
    assert page.status_code == 200 and t1.establishment.name in page.content.decode()
    assert "编辑" not in page.content.decode()
    assert client.get(f"/establishments/{t2.establishment_id}/").status_code == 404
    assert client.get(f"/api/v1/establishments/{t1.establishment_id}").status_code == 200
    assert client.get(f"/api/v1/establishments/{t2.establishment_id}").status_code == 404
    mine = set(
        CampaignTarget.objects.filter(campaign=campaign, team=iw.teams["DDZ1"], active=True).values_list(
            "establishment_id", flat=True
        )
    )
    listed = client.get("/api/v1/establishments/", {"page_size": 500}).json()
    ids = {row["id"] for row in listed.get("results", listed)}
    assert ids == mine
    reveal = client.post(f"/api/v1/establishments/{t1.establishment_id}/reveal", {"field": "contact_mobile", "reason": "核实"})
    assert reveal.status_code == 403
