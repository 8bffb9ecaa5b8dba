"""Placing a public request: by address text (regions, aliases, compounds, road sections), by address_id, by a
service attribute, or not at all — then the district triage queue. Each path is shown end to end."""

from __future__ import annotations

import pytest

from taizhang.accounts.models import OrgUnit
from taizhang.problems.models import Problem, State
from taizhang.problems.open311.placement import normalise, occurs, place_address, road_base_name

from .conftest import post

PLACES = [
    ("文峰区光华路街道官园社区3号院", "compound"),
    ("文峰区光华路街道官园社区3号院2单元", "unit2"),
    ("官园社区 3号院 2单元 门口", "unit2"),
    ("安阳市文峰区光华路街道官园社区居委会旁", "官园社区"),
    ("官园社区第1网格", "官园第1网格"),
    ("官园社区第2网格东侧", "官园第2网格"),
    ("光华路街道", "光华路街道"),
    ("头二三道街街道乔家巷社区", "乔家巷社区"),  # the article's name is an alias of NBS 头二三街道
    ("乔家巷12号", "乔家巷社区"),  # a configured alias
    ("官园３号院", "compound"),  # full-width digits
    ("官园3号院", "compound"),  # a compound's own name, without its community
    ("官园社区13号院", "官园13号院"),  # 3号院 does not match inside 13号院
]
NOWHERE = ["第1网格", "2单元", "人民公园东门", "", "安阳市", "河南省安阳市"]


def test_address_places_at_the_most_specific_region(o311):
    from taizhang.regions.models import Region

    for address, expected in PLACES:
        if expected in ("compound", "unit2"):
            want = getattr(o311, expected)
        else:
            want = o311.w.regions.get(expected) or Region.objects.get(name=expected)
        assert place_address(address).region == want, address


def test_addresses_that_name_no_place(o311):
    for address in NOWHERE:
        assert place_address(address).region is None, address


def test_road_sections(o311):
    p = place_address("光华路18号门口")  # road name of 光华路1段 (光华路街道)
    assert (p.region, p.via) == (o311.region("光华路街道"), "road_section")
    assert place_address("三道街1段").region == o311.region("头二三街道")
    assert place_address("文峰区光华路").region == o311.region("光华路街道")  # finer than the district, inside it
    # A region named in the text wins over a road elsewhere.
    assert place_address("乔家巷社区光华路").region == o311.region("乔家巷社区")


def test_a_road_name_shared_by_two_subdistricts_places_nothing(o311):
    from taizhang.regions.services import road_section_create

    road_section_create(subdistrict=o311.region("头二三街道"), name="光华路（头二三街道段）", code="TES-R09")
    assert place_address("光华路18号").region is None
    assert place_address("光华路（头二三街道段）").region == o311.region("头二三街道")  # the full name is unambiguous


def test_helpers():
    assert normalise(" 官园 ３号院 ") == "官园3号院"
    assert occurs("3号院", "官园3号院") and not occurs("3号院", "官园13号院") and not occurs("1段", "11段")
    assert road_base_name("光华路（光华路街道段1）") == "光华路" and road_base_name("光华路1段") == "光华路"


# --- end to end through POST requests -----------------------------------------------------------------


def _problem(response):
    assert response.status_code == 200, response.content
    return Problem.objects.select_related("open311").get(code=response.json()[0]["service_request_id"])


def test_post_placed_by_address(o311, http):
    p = _problem(post(http, o311, address_string="文峰区光华路街道官园社区3号院2单元"))
    assert (p.region, p.unit, p.state) == (o311.unit2, o311.w.units["官园社区"], State.ASSIGNED)
    assert p.open311.placed_by == "address" and "3号院" in p.open311.matched


def test_post_placed_by_road_section(o311, http):
    p = _problem(post(http, o311, address_string="光华路18号"))
    assert (p.region, p.unit) == (o311.region("光华路街道"), o311.w.units["光华路街道"])
    assert p.open311.placed_by == "road_section"


def test_post_placed_by_address_id(o311, http):
    p = _problem(post(http, o311, address_id=o311.region("乔家巷社区").code))
    assert (p.region, p.unit) == (o311.region("乔家巷社区"), o311.w.units["乔家巷社区"])
    assert p.open311.placed_by == "address_id" and p.address == "头二三街道乔家巷社区"


def test_post_placed_by_attribute(o311, http):
    community = o311.region("乔家巷社区").code
    p = _problem(post(http, o311, lat="36.09", long="114.35", **{"attribute[community]": community}))
    assert (p.region, p.unit) == (o311.region("乔家巷社区"), o311.w.units["乔家巷社区"])
    assert p.open311.placed_by == "attribute" and p.open311.attributes == {"community": community}
    assert "问题发生在哪个社区（村）？：头二三街道乔家巷社区" in p.description


def test_address_refines_the_attribute_but_never_contradicts_it(o311, http):
    guanyuan = o311.region("官园社区").code
    p = _problem(post(http, o311, address_string="官园社区3号院", **{"attribute[community]": guanyuan}))
    assert (p.region, p.open311.placed_by) == (o311.compound, "address")
    p = _problem(post(http, o311, address_string="乔家巷社区", **{"attribute[community]": guanyuan}))
    assert (p.region, p.open311.placed_by) == (o311.region("官园社区"), "attribute")


@pytest.mark.parametrize("location", [{"lat": "36.09", "long": "114.35"}, {"address_string": "人民公园东门"}])
def test_unplaceable_requests_go_to_the_triage_queue(o311, http, location):
    p = _problem(post(http, o311, **location))
    command = OrgUnit.objects.get(kind=OrgUnit.Kind.COMMAND)
    assert (p.state, p.unit, p.assignee, p.region) == (State.REPORTED, command, None, command.region)
    assert p.open311.placed_by == "triage"
    assert p.events.filter(kind="triage").exists()
