from __future__ import annotations

from taizhang.accounts.services import api_token_create
from taizhang.core.roles import Role


def test_regions_api_is_scoped(client, make_user, regions):
    user = make_user(Role.COMMUNITY, "官园社区")
    client.force_login(user)
    r = client.get("/api/v1/regions/", {"page_size": 500})
    assert r.status_code == 200
    codes = {row["code"] for row in r.json()["results"]}
    assert regions["官园社区"].code in codes
    assert regions["乔家巷社区"].code not in codes
    other = client.get(f"/api/v1/regions/{regions['乔家巷社区'].pk}")
    missing = client.get("/api/v1/regions/99999999")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() == {"error": {"code": "not_found", "message": "记录不存在", "detail": {}}}


def test_me_lists_posts(client, make_user):
    user = make_user(Role.COMMUNITY, "官园社区")
    client.force_login(user)
    data = client.get("/api/v1/me").json()
    assert data["roles"] == ["community"]
    assert data["posts"][0]["region"] == "官园社区"


def test_token_authentication(client, make_user):
    user = make_user(Role.SUBDISTRICT, "光华路街道")
    _, key = api_token_create(user=user, name="脚本")
    r = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}")
    assert r.status_code == 200
    assert r.json()["username"] == user.username
    bad = client.get("/api/v1/me", HTTP_AUTHORIZATION="Token tz_wrong")
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "authentication_failed"


def test_unauthenticated_error_shape(client, db):
    r = client.get("/api/v1/me")
    assert r.status_code in (401, 403)
    assert set(r.json()["error"]) == {"code", "message", "detail"}


def test_schema_is_served(client, db):
    r = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/regions/" in paths
    assert "/api/v1/me" in paths


def test_admins_cannot_use_tokens(client, make_user):
    admin = make_user(Role.SYSADMIN, "文峰区")
    _, key = api_token_create(user=admin, name="x")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
