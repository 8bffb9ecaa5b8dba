"""Authentication as a government system requires it (SPEC §4)."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from taizhang.accounts.middleware import KEY as LAST_SEEN
from taizhang.audit.models import AuditEvent
from taizhang.core.roles import Role
from taizhang.testing import PASSWORD

LOGIN = "/accounts/login/"


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_production_hashes_with_argon2():
    from taizhang.config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_login_and_audit(client, make_user):
    user = make_user(Role.COMMUNITY)
    response = post_login(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert AuditEvent.objects.filter(action="login", actor=user, outcome="ok").exists()


@pytest.mark.parametrize("existing", [True, False])
def test_lockout_after_five_failures_same_for_unknown_users(client, make_user, existing):
    username = make_user(Role.COMMUNITY).username if existing else "nobody-here"
    for _ in range(4):
        r = post_login(client, username, "wrong-password-1A!")
        assert r.status_code == 401
        assert "用户名或密码错误" in r.content.decode()
    r = post_login(client, username, "wrong-password-1A!")
    assert r.status_code == 429
    assert "已锁定30分钟" in r.content.decode()
    # even the right password is refused while locked
    r = post_login(client, username, PASSWORD)
    assert r.status_code == 429
    assert AuditEvent.objects.filter(action="login_failed", username=username).count() >= 4
    assert AuditEvent.objects.filter(action="locked_out", username=username).exists()


def test_lockout_response_does_not_tell_whether_user_exists(client, make_user):
    real = make_user(Role.COMMUNITY).username
    bodies = []
    for name in (real, "ghost-user"):
        for _ in range(6):
            r = post_login(client, name, "wrong-password-1A!")
        bodies.append((r.status_code, r.content.decode().replace(name, "NAME")))
    assert bodies[0][0] == bodies[1][0] == 429
    tokens = re.compile(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"')
    assert tokens.sub("TOKEN", bodies[0][1]) == tokens.sub("TOKEN", bodies[1][1])


def test_lock_expires_after_thirty_minutes(client, make_user):
    from axes.models import AccessAttempt

    user = make_user(Role.COMMUNITY)
    for _ in range(5):
        post_login(client, user.username, "wrong-password-1A!")
    assert post_login(client, user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - settings.AXES_COOLOFF_TIME)
    assert post_login(client, user.username, PASSWORD).status_code == 302


def test_idle_timeout_ends_session_on_server(client, make_user):
    user = make_user(Role.COMMUNITY)
    client.force_login(user)
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - settings.TAIZHANG_IDLE_TIMEOUT.total_seconds() - 5
    session.save()
    key = session.session_key
    r = client.get("/")
    assert r.status_code == 302
    assert "timeout=1" in r["Location"]
    assert not Session.objects.filter(session_key=key).exists()
    assert AuditEvent.objects.filter(action="logout", actor=user, detail__reason="idle_timeout").exists()


def test_session_ends_after_the_absolute_limit_despite_activity(client, make_user):
    from taizhang.accounts.middleware import STARTED

    user = make_user(Role.COMMUNITY)
    client.force_login(user)
    assert client.get("/").status_code == 200
    session = client.session
    session[STARTED] = time.time() - settings.TAIZHANG_SESSION_MAX_AGE.total_seconds() - 5
    session[LAST_SEEN] = time.time()
    session.save()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor=user, detail__reason="max_age").exists()


def test_audit_records_the_client_address(client, make_user, settings):
    user = make_user(Role.COMMUNITY)
    client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert AuditEvent.objects.get(action="login", actor=user).ip == "10.1.2.3"
    settings.TAIZHANG_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client.post(LOGIN, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="192.0.2.7")
    assert AuditEvent.objects.filter(action="login", actor=user).latest("at").ip == "192.0.2.7"


def test_activity_within_the_limit_keeps_the_session(client, make_user):
    client.force_login(make_user(Role.COMMUNITY))
    session = client.session
    session[LAST_SEEN] = time.time() - settings.TAIZHANG_IDLE_TIMEOUT.total_seconds() + 60
    session.save()
    assert client.get("/").status_code == 200


def test_logout_ends_the_session_on_the_server(client, make_user):
    user = make_user(Role.COMMUNITY)
    post_login(client, user.username, PASSWORD)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("accounts:logout")).status_code == 405  # logout is POST only
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    # replaying the old cookie does not get back in
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short-1A!", False),
        ("password1234", False),
        ("abcdefghijkl", False),
        ("123456789012", False),
        ("Wenfeng-Grid-2020", True),
    ],
)
def test_password_rules(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


@pytest.mark.parametrize("role", [Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR])
def test_administrators_must_pass_totp(client, make_user, role):
    user = make_user(role, region="文峰区")
    r = post_login(client, user.username, PASSWORD)
    assert r["Location"] == reverse("accounts:otp")
    # no page opens before the second step; enrolment is forced on first sign-in
    assert client.get("/").url == reverse("accounts:otp")
    page = client.get(reverse("accounts:otp"))
    assert "绑定动态口令" in page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert client.post(reverse("accounts:otp"), {"token": "000000" if totp(device.bin_key) != 0 else "111111"}).status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a wrong code is counted (and throttled)
    device.throttle_reset()
    token = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    r = client.post(reverse("accounts:otp"), {"token": token})
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_staff_do_not_need_totp(client, make_user):
    user = make_user(Role.DEPARTMENT, region="文峰区")
    r = post_login(client, user.username, PASSWORD)
    assert r["Location"] == "/"
