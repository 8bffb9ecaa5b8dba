from __future__ import annotations

import json
from datetime import date

from taizhang.accounts.models import OrgUnit, User
from taizhang.core.roles import ALL_ROLES, Role
from taizhang.demo import scenario
from taizhang.regions.models import Level, Region


def test_demo_builds_the_article_scenario(db, tmp_path):
    ctx = scenario.build(today=date(2020, 3, 19))
    path = scenario.write_logins(ctx, tmp_path)
    logins = json.loads(path.read_text(encoding="utf-8"))
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).count() == 16
    assert OrgUnit.objects.filter(kind=OrgUnit.Kind.INSPECTION_TEAM).count() == 7
    ziwei = Region.objects.get(name="紫薇大道街道")
    communities = Region.objects.filter(parent=ziwei)
    assert communities.count() == 11
    assert all(c.children.filter(level=Level.GRID).exists() for c in communities)
    guanyuan = Region.objects.get(short_name="官园社区")
    assert Region.objects.subtree(guanyuan).filter(level=Level.COMPOUND).count() == 39
    assert Region.objects.subtree(guanyuan).filter(level=Level.UNIT).count() == 120
    # every role except the enterprise contact (added with the establishments) has a login
    assert set(logins) >= ALL_ROLES - {Role.ENTERPRISE}
    for role in (Role.DEPARTMENT, Role.SUBDISTRICT, Role.COMMUNITY):
        scopes = {e["scope"] for e in logins[role]}
        assert len(logins[role]) >= 2
        assert len(scopes) >= 2
    for role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR):
        assert len(logins[role][0]["totp_secret"]) == 32
    assert isinstance(logins["open311_api_key"], str)
    for entries in logins.values():
        if not isinstance(entries, list):
            continue
        for e in entries:
            assert User.objects.get(username=e["username"]).check_password(e["password"])
    # the README's shared demo password works without a forced change (docs/adr/0012-must-change-password.md)
    assert not User.objects.filter(must_change_password=True).exists()
