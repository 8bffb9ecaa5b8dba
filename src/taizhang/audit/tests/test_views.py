from __future__ import annotations

from taizhang.audit.models import AuditEvent
from taizhang.core.roles import Role


def verified_login(client, user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


def test_auditor_reads_and_filters_the_log(client, make_user):
    auditor = make_user(Role.AUDITOR, "文峰区")
    make_user(Role.COMMUNITY, "官园社区", username="someone")
    client.post("/accounts/login/", {"username": "someone", "password": "bad-password-1A!"})
    verified_login(client, auditor)
    page = client.get("/audit/", {"action": "login_failed"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "someone" in body
    assert "登录失败" in body
    assert client.get("/audit/", {"action": "create"}).content.decode().count("someone") == 0


def test_other_roles_cannot_read_the_log(client, make_user):
    for role, region in [(Role.SYSADMIN, "文峰区"), (Role.SECADMIN, "文峰区"), (Role.LEADER, "文峰区")]:
        user = make_user(role, region)
        if role in (Role.SYSADMIN, Role.SECADMIN):
            verified_login(client, user)
        else:
            client.force_login(user)
        assert client.get("/audit/").status_code == 403
        assert AuditEvent.objects.filter(action="denied", actor=user).exists()
