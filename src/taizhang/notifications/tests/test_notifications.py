"""In-app notifications, delivered to other channels by pluggable backends after the transaction commits."""

from __future__ import annotations

import json
import logging
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from taizhang.core.roles import Role
from taizhang.notifications import backends
from taizhang.notifications.models import Notification
from taizhang.notifications.services import mark_read, notify


def test_notify_writes_rows_and_delivers_after_commit(make_user, django_capture_on_commit_callbacks, caplog):
    a, b = make_user(Role.COMMUNITY), make_user(Role.COMMUNITY)
    with (
        caplog.at_level(logging.INFO, logger="taizhang.notifications"),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        rows = notify(users=[a, b, a, None], title="新问题待办：WF-20200319-0001", body="缺口罩", url="/problems/1/")
    assert len(rows) == 2  # distinct users only
    assert len(callbacks) == 1  # nothing is sent before the commit
    assert "WF-20200319-0001" not in caplog.text
    with caplog.at_level(logging.INFO, logger="taizhang.notifications"):
        callbacks[0]()
    assert "WF-20200319-0001" in caplog.text  # the default LogBackend
    assert Notification.objects.get(user=a).delivered == {"log": True}


def test_email_backend_uses_django_mail(make_user, settings, django_capture_on_commit_callbacks):
    settings.TAIZHANG_NOTIFY_BACKENDS = ["taizhang.notifications.backends.EmailBackend"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = make_user(Role.COMMUNITY)
    user.email = "grid@example.gov.cn"
    user.save()
    nobody = make_user(Role.COMMUNITY)
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[user, nobody], title="督办：WF-1", body="超期", url="/problems/1/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["grid@example.gov.cn"] and "督办：WF-1" in mail.outbox[0].subject


def test_sms_backend_needs_a_gateway_url(settings):
    settings.TAIZHANG_SMS_GATEWAY_URL = ""
    with pytest.raises(ImproperlyConfigured, match="TAIZHANG_SMS_GATEWAY_URL"):
        backends.SmsBackend()
    settings.TAIZHANG_SMS_GATEWAY_URL = "file:///etc/passwd"
    with pytest.raises(ImproperlyConfigured):
        backends.SmsBackend()
    settings.TAIZHANG_NOTIFY_BACKENDS = ["taizhang.notifications.backends.Nope"]
    with pytest.raises(ImproperlyConfigured):
        backends.get_backends()


def test_sms_backend_posts_to_the_gateway_without_touching_the_network(settings, make_user):
    settings.TAIZHANG_SMS_GATEWAY_URL = "https://sms.intranet.invalid/send"
    settings.TAIZHANG_SMS_GATEWAY_TOKEN = "t0ken"
    user = make_user(Role.COMMUNITY)
    user.mobile = "13800000018"  # the attribute named by TAIZHANG_SMS_MOBILE_ATTRIBUTE
    n = Notification(user=user, title="督办：WF-20200319-0001 超期 2 个工作日")
    sent = []

    class Response:
        status = 200

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(request, timeout):
        sent.append((request.full_url, request.headers, json.loads(request.data)))
        return Response()

    with mock.patch("taizhang.notifications.backends.urllib.request.urlopen", fake_urlopen):
        assert backends.SmsBackend().send_messages([n]) == 1
    url, headers, payload = sent[0]
    assert url == "https://sms.intranet.invalid/send" and headers["Authorization"] == "Bearer t0ken"
    assert payload == {"mobile": "13800000018", "text": "【台账】督办：WF-20200319-0001 超期 2 个工作日"}

    def failing(request, timeout):
        raise OSError("gateway down")

    with mock.patch("taizhang.notifications.backends.urllib.request.urlopen", failing):
        assert backends.SmsBackend(fail_silently=True).send_messages([n]) == 0
        with pytest.raises(OSError, match="gateway down"):
            backends.SmsBackend().send_messages([n])


def test_the_list_page_shows_only_my_notifications(client, make_user):
    me, other = make_user(Role.COMMUNITY), make_user(Role.COMMUNITY)
    notify(users=[me], title="给我的", url="/problems/")
    notify(users=[other], title="给别人的")
    client.force_login(me)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "给我的" in page and "给别人的" not in page and "1 条未读" in page
    assert client.get(reverse("notifications:badge")).content.decode().count(">1<") == 1
    mine = Notification.objects.get(user=me)
    r = client.post(reverse("notifications:open", args=[mine.pk]))
    assert r.status_code == 302 and r["Location"] == "/problems/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    theirs = Notification.objects.get(user=other)
    client.post(reverse("notifications:open", args=[theirs.pk]))
    theirs.refresh_from_db()
    assert theirs.read_at is None  # nobody marks another user's messages


def test_mark_all_read(client, make_user):
    me = make_user(Role.ENTERPRISE)
    notify(users=[me], title="a")
    notify(users=[me], title="b")
    assert mark_read(user=me) == 2
    client.force_login(me)
    assert client.post(reverse("notifications:read_all")).status_code == 302
    assert client.get(reverse("notifications:badge")).content.decode().strip() == ""


def test_context_processor_is_lazy(rf, make_user, django_assert_num_queries):
    from taizhang.notifications.context_processors import unread

    me = make_user(Role.COMMUNITY)
    notify(users=[me], title="a")
    request = rf.get("/")
    request.user = me
    with django_assert_num_queries(0):
        ctx = unread(request)
    assert str(ctx["unread_notifications"]) == "1" and ctx["unread_notifications"] == 1
