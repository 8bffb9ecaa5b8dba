"""At most 5 wrong current passwords in 30 minutes per user when changing one's password, on the page and the API
alike (docs/adr/0012-must-change-password.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from taizhang.accounts import selectors, services
from taizhang.accounts.models import ApiToken
from taizhang.audit.models import AuditEvent
from taizhang.core.roles import Role
from taizhang.testing import PASSWORD

PAGE = "/accounts/password/"
API = "/api/v1/accounts/password/"
NEW_PASSWORD = "Xin-Mima-2020-Chun!"
WRONG = "Wrong-Password-1!"


def page_change(client, old, new=NEW_PASSWORD):
    return client.post(PAGE, {"old_password": old, "new_password1": new, "new_password2": new})


def api_change(client, old, new=NEW_PASSWORD, **headers):
    return client.post(API, {"old_password": old, "new_password": new}, content_type="application/json", **headers)


def sign_in(user, password=PASSWORD):
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": password})
    assert response.status_code == 302
    return client


def token_for(user):
    _, key = services.api_token_create(user=user, name="脚本")
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def failures(user):
    return AuditEvent.objects.filter(object_id=str(user.pk), object_type="accounts.user", outcome="failed").count()


@pytest.fixture
def user(make_user):
    return make_user(Role.COMMUNITY)


def test_the_numbers_are_those_of_the_login_lockout():
    assert selectors.PASSWORD_FAILURE_LIMIT == settings.AXES_FAILURE_LIMIT == 5
    assert selectors.PASSWORD_FAILURE_WINDOW == settings.AXES_COOLOFF_TIME == timedelta(minutes=30)


def test_the_fifth_wrong_password_on_the_page_ends_the_session_and_the_sixth_is_refused_unchecked(user):
    client = sign_in(user)
    for left in (4, 3, 2, 1):
        wrong = page_change(client, WRONG)
        assert wrong.status_code == 400
        assert f"当前密码不正确，请重新输入。再输错{left}次将退出登录" in wrong.text
    fifth = page_change(client, WRONG)
    assert fifth.status_code == 302 and fifth["Location"] == reverse("accounts:login") + "?password_locked=1"
    assert not Session.objects.exists()  # the session that guessed is gone
    assert client.get("/")["Location"].startswith(reverse("accounts:login"))
    assert AuditEvent.objects.filter(action="logout", actor=user, detail={"reason": "password_attempts"}).exists()
    login_page = client.get(fifth["Location"])
    assert "修改密码时当前密码连续输错次数过多，为保护账户已退出登录" in login_page.text

    # signing in again works (that is the login lockout's business), but the change stays refused, right password or not
    client = sign_in(user)
    sixth = page_change(client, PASSWORD)
    assert sixth.status_code == 429
    assert "当前密码输错次数过多，修改密码已暂停，请于" in sixth.text
    assert failures(user) == 5  # not checked, so not counted as a wrong one …
    assert AuditEvent.objects.filter(object_id=str(user.pk), outcome="denied", detail={"password": "change_locked"}).exists()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # … and nothing changed
    assert client.get("/").status_code == 200  # a refused attempt does not end the session


def test_the_api_counts_with_the_page_and_revokes_the_token_that_used_up_the_attempts(user):
    browser = sign_in(user)
    for _ in range(3):
        assert page_change(browser, WRONG).status_code == 400
    auth = token_for(user)
    fourth = api_change(Client(), WRONG, **auth)
    assert fourth.status_code == 400 and "再输错1次" in fourth.json()["error"]["message"]
    fifth = api_change(Client(), WRONG, **auth)
    assert fifth.status_code == 429
    error = fifth.json()["error"]
    assert error["code"] == "password_change_locked"
    assert error["message"].startswith("当前密码已连续输错5次，为保护账户已退出登录")
    assert error["detail"]["signed_out"] is True
    assert 0 < int(fifth["Retry-After"]) <= 30 * 60
    assert not ApiToken.objects.usable().filter(user=user).exists()  # the token that guessed is revoked
    assert Client().get("/api/v1/me", **auth).status_code == 401
    # the page, in the session that is still open, refuses even the right password
    assert page_change(browser, PASSWORD).status_code == 429
    # and so does the API, with another token, without ending anything
    other = token_for(user)
    sixth = api_change(Client(), PASSWORD, **other)
    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "password_change_locked"
    assert sixth.json()["error"]["message"].startswith("当前密码输错次数过多，修改密码已暂停")
    assert sixth.json()["error"]["detail"]["signed_out"] is False
    assert Client().get("/api/v1/me", **other).status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert failures(user) == 5


def test_the_limit_ends_a_browser_session_that_uses_the_api(user):
    client = sign_in(user)
    for _ in range(4):
        assert api_change(client, WRONG).status_code == 400
    fifth = api_change(client, WRONG)
    assert fifth.status_code == 429 and fifth.json()["error"]["detail"]["signed_out"] is True
    assert not Session.objects.exists()
    assert client.get("/api/v1/me").status_code in (401, 403)


def test_the_limit_is_per_user(user, make_user):
    other = make_user(Role.COMMUNITY)
    for _ in range(5):
        services.user_password_check(user=other, password=WRONG)
    assert selectors.password_change_locked_until(user=other) is not None
    assert selectors.password_change_locked_until(user=user) is None
    assert page_change(sign_in(user), PASSWORD).status_code == 302


def test_a_successful_change_starts_the_count_again(user):
    client = sign_in(user)
    for _ in range(4):
        assert page_change(client, WRONG).status_code == 400
    assert page_change(client, PASSWORD).status_code == 302
    auth = token_for(user)
    for left in (4, 3, 2, 1):  # without the reset the first of these would have been the fifth
        wrong = api_change(Client(), WRONG, **auth)
        assert wrong.status_code == 400 and f"再输错{left}次" in wrong.json()["error"]["message"]
    assert api_change(Client(), NEW_PASSWORD, "Third-Mima-2020-Xia!", **auth).status_code == 204


def test_a_reset_by_an_administrator_starts_the_count_again(user, make_user):
    for _ in range(5):
        services.user_password_check(user=user, password=WRONG)
    assert selectors.password_change_locked_until(user=user) is not None
    services.user_password_set(user=user, password=NEW_PASSWORD, actor=make_user(Role.SECADMIN))
    assert selectors.password_change_locked_until(user=user) is None


def test_the_lock_lasts_until_the_oldest_of_the_five_leaves_the_window(user):
    results = [services.user_password_check(user=user, password=WRONG) for _ in range(5)]
    assert [r.outcome for r in results] == ["wrong"] * 4 + ["limit_reached"]
    first = AuditEvent.objects.filter(object_id=str(user.pk), outcome="failed").order_by("at").first()
    assert first is not None
    until = selectors.password_change_locked_until(user=user)
    assert until is not None
    assert until == first.at + timedelta(minutes=30) == results[-1].locked_until
    assert selectors.password_change_locked_until(user=user, now=until - timedelta(seconds=1)) == until
    assert selectors.password_change_locked_until(user=user, now=until) is None
    # wrong ones older than the window do not count
    assert selectors.password_failures(user=user, now=timezone.now() + timedelta(minutes=31)) == []
