"""A password someone else set must be changed at the first sign-in (docs/adr/0012-must-change-password.md)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from taizhang.accounts import services
from taizhang.accounts.models import User
from taizhang.audit.models import AuditEvent
from taizhang.core.errors import ApplicationError
from taizhang.core.roles import Role
from taizhang.filings import enterprise
from taizhang.testing import PASSWORD

CHANGE = "/accounts/password/"
NEW_PASSWORD = "Qiye-Xinmima-2020!"
MESSAGE = "您的密码由他人设置，请先修改密码后再继续使用"


@pytest.fixture
def contact(world):
    """An enterprise contact whose account a community worker opened: (user, initial password)."""
    est = world.establishment("官园超市", "官园第1网格")
    account, password = enterprise.enterprise_account_create(establishment=est, actor=world.users["guanyuan_a"])
    return account.user, password


@pytest.fixture
def signed_in(client, contact):
    user, password = contact
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    return client


def change(client, old, new, confirm=None, next_url=""):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": confirm or new, "next": next_url})


# --- where the flag is set ---------------------------------------------------------------------------


def test_a_staff_opened_enterprise_account_is_flagged(contact):
    user, _ = contact
    user.refresh_from_db()
    assert user.must_change_password
    created = AuditEvent.objects.get(action="create", object_type="accounts.user", object_id=str(user.pk))
    assert created.detail == {"must_change_password": True}


def test_self_registration_is_not_flagged(world):
    est = world.establishment("官园超市", "官园第1网格", contact_mobile="13912345678")
    account = enterprise.enterprise_register(
        credit_code=str(est.credit_code), mobile="13912345678", display_name="王老板", password="Qiye-Mima-2020!"
    )
    assert not User.objects.get(pk=account.user_id).must_change_password


def test_a_user_created_by_an_administrator_is_flagged_one_created_without_actor_is_not(make_user):
    sysadmin = make_user(Role.SYSADMIN)
    by_admin = services.user_create(username="zhangsan", password=PASSWORD, display_name="张三", actor=sysadmin)
    assert by_admin.must_change_password
    bootstrap = services.user_create(username="lisi", password=PASSWORD, display_name="李四")
    assert not bootstrap.must_change_password


def test_a_reset_by_someone_else_flags_the_user_a_reset_by_the_user_does_not(make_user):
    secadmin, user = make_user(Role.SECADMIN), make_user(Role.COMMUNITY)
    services.user_password_set(user=user, password=NEW_PASSWORD, actor=secadmin)
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="update", object_type="accounts.user", object_id=str(user.pk), actor=secadmin)
    assert event.detail["changes"]["password"] == ["***", "***"]
    assert event.detail["changes"]["must_change_password"] == [False, True]
    services.user_password_set(user=user, password="Another-Pass-2020!", actor=user)
    user.refresh_from_db()
    assert not user.must_change_password
    with pytest.raises(ApplicationError):
        services.user_password_set(user=user, password="short", actor=secadmin)


def test_demo_users_are_not_flagged_and_their_walkthrough_opens_pages(db):
    from taizhang.demo import scenario

    ctx = scenario.build(today=date(2020, 3, 19))
    assert User.objects.exists()
    assert not User.objects.filter(must_change_password=True).exists()
    enterprise_login = ctx.logins[Role.ENTERPRISE][0]
    client = Client()
    client.post(reverse("accounts:login"), {"username": enterprise_login["username"], "password": scenario.DEMO_PASSWORD})
    assert client.get("/").status_code == 200


# --- enforcement -------------------------------------------------------------------------------------


def test_every_page_redirects_to_the_change_page(signed_in):
    home = signed_in.get("/")
    assert home.status_code == 302 and home["Location"] == CHANGE
    portal = signed_in.get("/filings/portal/?tab=1")
    assert portal.status_code == 302 and portal["Location"] == CHANGE + "?next=%2Ffilings%2Fportal%2F%3Ftab%3D1"
    for url in ("/accounts/me/", "/notifications/", "/establishments/", "/no-such-page/"):
        response = signed_in.get(url)
        assert response.status_code == 302 and response["Location"].startswith(CHANGE), url
    posted = signed_in.post("/notifications/read-all/")
    assert posted.status_code == 302 and posted["Location"] == CHANGE
    page = signed_in.get(CHANGE)
    assert page.status_code == 200
    assert MESSAGE in page.text
    assert reverse("notifications:badge") not in page.text  # no navigation and no polling on the forced page
    # the page's own assets still load
    assert signed_in.get("/static/taizhang/app.css").status_code == 200


def test_the_api_answers_403_with_its_own_code(signed_in, contact):
    user, _ = contact
    by_session = signed_in.get("/api/v1/me")
    assert by_session.status_code == 403
    error = by_session.json()["error"]
    assert error["code"] == "password_change_required" and error["message"] == MESSAGE
    assert error["detail"] == {"change_url": CHANGE}
    # a token does not get round it
    _, key = services.api_token_create(user=user, name="测试")
    by_token = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}")
    assert by_token.status_code == 403
    assert by_token.json()["error"] == error


def test_htmx_requests_are_sent_to_the_change_page(signed_in):
    response = signed_in.get(reverse("notifications:badge"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == CHANGE
    assert "Location" not in response


def test_logout_still_works(signed_in):
    response = signed_in.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert not Session.objects.exists()
    assert signed_in.get("/")["Location"].startswith(reverse("accounts:login"))


def test_changing_the_password_clears_the_flag(signed_in, contact):
    user, initial = contact
    wrong = change(signed_in, "Wrong-Password-1!", NEW_PASSWORD)
    assert wrong.status_code == 400
    assert AuditEvent.objects.filter(
        action="update", object_type="accounts.user", object_id=str(user.pk), outcome="failed"
    ).exists()
    same = change(signed_in, initial, initial)
    assert same.status_code == 400 and "新密码不能与原密码相同" in same.text
    weak = change(signed_in, initial, "password")
    assert weak.status_code == 400
    mismatch = change(signed_in, initial, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert mismatch.status_code == 400
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(initial)

    done = change(signed_in, initial, NEW_PASSWORD, next_url="/filings/portal/")
    assert done.status_code == 302 and done["Location"] == "/filings/portal/"
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="update", object_type="accounts.user", object_id=str(user.pk), actor=user, outcome="ok")
    assert event.detail["changes"] == {"password": ["***", "***"], "must_change_password": [True, False]}
    # the session survives the change and everything opens
    assert signed_in.get("/").status_code == 200
    assert signed_in.get("/filings/portal/").status_code == 200
    assert signed_in.get("/api/v1/me").status_code == 200
    assert MESSAGE not in signed_in.get(CHANGE).text


def test_anyone_may_change_their_password_from_my_account(client, make_user):
    user = make_user(Role.COMMUNITY)
    client.force_login(user)
    assert CHANGE in client.get(reverse("accounts:me")).text
    assert client.get("/").status_code == 200  # not flagged: nothing redirects
    done = change(client, PASSWORD, NEW_PASSWORD, next_url=reverse("accounts:me"))
    assert done.status_code == 302 and done["Location"] == reverse("accounts:me")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.must_change_password


def test_the_change_page_needs_a_signed_in_user(client):
    response = client.get(CHANGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_an_administrator_passes_totp_before_changing(client, make_user):
    admin = make_user(Role.SYSADMIN)
    User.objects.filter(pk=admin.pk).update(must_change_password=True)
    client.post(reverse("accounts:login"), {"username": admin.username, "password": PASSWORD})
    assert client.get(reverse("accounts:otp")).status_code == 200  # the second step is open
    response = client.get(CHANGE)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:otp")
    assert client.get("/accounts/users/")["Location"].startswith(CHANGE)


# --- the API endpoint ----------------------------------------------------------------------------------

API = "/api/v1/accounts/password/"


def api_change(client, old, new, **headers):
    return client.post(API, {"old_password": old, "new_password": new}, content_type="application/json", **headers)


def test_a_forced_user_changes_the_password_through_the_api_with_a_token(contact):
    user, initial = contact
    _, key = services.api_token_create(user=user, name="手机")
    token = f"Token {key}"
    browser = Client()
    browser.post(reverse("accounts:login"), {"username": user.username, "password": initial})
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=token).status_code == 403  # refused everywhere else …
    assert browser.get("/api/v1/me").json()["error"]["code"] == "password_change_required"

    done = api_change(Client(), initial, NEW_PASSWORD, HTTP_AUTHORIZATION=token)  # … but not here
    assert done.status_code == 204
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="update", object_type="accounts.user", object_id=str(user.pk), actor=user, outcome="ok")
    assert event.detail["changes"] == {"password": ["***", "***"], "must_change_password": [True, False]}
    # the token stays valid (and is no longer refused); the user's browser session has ended, as after the page
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=token).status_code == 200
    assert browser.get("/")["Location"].startswith(reverse("accounts:login"))


def test_a_forced_user_changes_the_password_through_the_api_in_the_browser_session(signed_in, contact):
    user, initial = contact
    other = Client()
    other.post(reverse("accounts:login"), {"username": user.username, "password": initial})
    assert signed_in.get("/api/v1/me").status_code == 403
    done = api_change(signed_in, initial, NEW_PASSWORD)
    assert done.status_code == 204
    # this session is kept and everything opens; the user's other session has ended
    assert signed_in.get("/api/v1/me").status_code == 200
    assert signed_in.get("/").status_code == 200
    assert other.get("/")["Location"].startswith(reverse("accounts:login"))


def test_the_api_refuses_what_the_page_refuses(signed_in, contact):
    user, initial = contact
    wrong = api_change(signed_in, "Wrong-Password-1!", NEW_PASSWORD)
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["code"] == "password_incorrect"
    assert error["message"].startswith("当前密码不正确") and "再输错4次" in error["message"]
    assert error["detail"]["old_password"] == [error["message"]]
    failed = AuditEvent.objects.get(action="update", object_type="accounts.user", object_id=str(user.pk), outcome="failed")
    assert failed.actor == user and failed.detail == {"password": "old_password_incorrect"}  # as on the page

    same = api_change(signed_in, initial, initial)
    assert same.status_code == 400
    assert same.json()["error"]["code"] == "invalid"
    assert same.json()["error"]["detail"] == {"new_password": ["新密码不能与原密码相同"]}
    weak = api_change(signed_in, initial, "abc")
    assert weak.status_code == 400
    messages = weak.json()["error"]["detail"]["new_password"]
    assert "密码须包含小写字母、大写字母、数字、符号中的至少3类。" in messages
    assert "密码太短，至少需要12个字符。" in messages  # Django's own message is English in its zh_Hans catalogue
    assert "密码太短，至少需要12个字符。" in change(signed_in, initial, "abc").text  # the page says the same
    missing = signed_in.post(API, {}, content_type="application/json")
    assert missing.status_code == 400 and set(missing.json()["error"]["detail"]) == {"old_password", "new_password"}
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(initial)


def test_the_api_needs_a_signed_in_user(client, db):
    response = api_change(client, "x", NEW_PASSWORD)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_endpoint_is_in_the_schema(client, db):
    paths = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    operation = paths[API]["post"]
    assert set(operation["responses"]) == {"204", "400", "401", "429"}
