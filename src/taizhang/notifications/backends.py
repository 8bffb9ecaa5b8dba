"""Pluggable senders, configured like Django's EMAIL_BACKEND::

    TAIZHANG_NOTIFY_BACKENDS = ["taizhang.notifications.backends.LogBackend"]          # the default
    TAIZHANG_NOTIFY_BACKENDS = ["taizhang.notifications.backends.EmailBackend",
                                "taizhang.notifications.backends.SmsBackend"]
    TAIZHANG_SMS_GATEWAY_URL = "https://sms.intranet.example/send"                   # required by SmsBackend
    TAIZHANG_SMS_GATEWAY_TOKEN = "…"                                                 # optional bearer token
    TAIZHANG_SMS_MOBILE_ATTRIBUTE = "mobile"                                         # where a user's number is

The in-app notification row is always written (services.notify); backends carry a copy to other channels
after the transaction commits, in a background task. A backend returns how many messages it handed over;
`fail_silently=True` (the default for the task) logs a failure instead of raising.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger("taizhang.notifications")

DEFAULT_BACKENDS = ["taizhang.notifications.backends.LogBackend"]


class BaseBackend:
    name = "base"

    def __init__(self, *, fail_silently: bool = False) -> None:
        self.fail_silently = fail_silently

    def send_messages(self, notifications: Sequence[Any]) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def _failed(self, exc: Exception, what: str) -> None:
        if not self.fail_silently:
            raise exc
        logger.warning("通知发送失败（%s）：%s", what, exc)


class LogBackend(BaseBackend):
    """Writes each notification to the `taizhang.notifications` log (the default: nothing leaves the server)."""

    name = "log"

    def send_messages(self, notifications: Sequence[Any]) -> int:
        for n in notifications:
            logger.info("通知 → %s：%s %s", getattr(n.user, "username", n.user_id), n.title, n.url)
        return len(notifications)


class EmailBackend(BaseBackend):
    """E-mail through django.core.mail (so EMAIL_BACKEND, EMAIL_HOST … apply); users without an address are skipped."""

    name = "email"

    def send_messages(self, notifications: Sequence[Any]) -> int:
        from django.core.mail import get_connection, send_mass_mail

        base = getattr(settings, "TAIZHANG_SITE_URL", "").rstrip("/")
        messages = []
        for n in notifications:
            email = getattr(n.user, "email", "")
            if not email:
                continue
            link = f"\n\n{base}{n.url}" if n.url else ""
            messages.append((f"[台账] {n.title}", f"{n.body}{link}", None, [email]))
        if not messages:
            return 0
        try:
            return int(send_mass_mail(tuple(messages), fail_silently=False, connection=get_connection()))
        except Exception as exc:
            self._failed(exc, "email")
            return 0


class SmsBackend(BaseBackend):
    """A stub for an SMS gateway on the government intranet: POSTs {"mobile", "text"} as JSON to a URL.

    Configured by settings; enabling it without TAIZHANG_SMS_GATEWAY_URL raises ImproperlyConfigured. Users
    without a number (the attribute named by TAIZHANG_SMS_MOBILE_ATTRIBUTE, default "mobile") are skipped.
    """

    name = "sms"
    max_chars = 70  # one GSM-7/UCS-2 Chinese SMS segment

    def __init__(self, *, fail_silently: bool = False) -> None:
        super().__init__(fail_silently=fail_silently)
        self.url = str(getattr(settings, "TAIZHANG_SMS_GATEWAY_URL", "") or "")
        if not self.url:
            raise ImproperlyConfigured("已启用短信通知（SmsBackend），但未配置 TAIZHANG_SMS_GATEWAY_URL")
        if not self.url.startswith(("http://", "https://")):
            raise ImproperlyConfigured("TAIZHANG_SMS_GATEWAY_URL 必须是 http:// 或 https:// 地址")
        self.token = str(getattr(settings, "TAIZHANG_SMS_GATEWAY_TOKEN", "") or "")
        self.attribute = str(getattr(settings, "TAIZHANG_SMS_MOBILE_ATTRIBUTE", "mobile"))
        self.timeout = float(getattr(settings, "TAIZHANG_SMS_TIMEOUT", 5))

    def text_of(self, notification: Any) -> str:
        return f"【台账】{notification.title}"[: self.max_chars]

    def post(self, payload: dict[str, str]) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps(payload, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked
            if response.status >= 300:
                raise OSError(f"短信网关返回 {response.status}")

    def send_messages(self, notifications: Sequence[Any]) -> int:
        sent = 0
        for n in notifications:
            mobile = str(getattr(n.user, self.attribute, "") or "")
            if not mobile:
                continue
            try:
                self.post({"mobile": mobile, "text": self.text_of(n)})
            except Exception as exc:
                self._failed(exc, "sms")
                continue
            sent += 1
        return sent


def backend_paths() -> list[str]:
    return list(getattr(settings, "TAIZHANG_NOTIFY_BACKENDS", DEFAULT_BACKENDS))


def get_backends(*, fail_silently: bool = False) -> list[BaseBackend]:
    """Instantiate the configured backends (ImproperlyConfigured for a bad path or configuration)."""
    backends = []
    for path in backend_paths():
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"TAIZHANG_NOTIFY_BACKENDS 中的 {path!r} 无法导入") from exc
        backends.append(cls(fail_silently=fail_silently))
    return backends
