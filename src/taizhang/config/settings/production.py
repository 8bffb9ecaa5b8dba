"""Production: everything from the environment, nothing defaulted that must be secret."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

if not SECRET_KEY:
    raise ImproperlyConfigured("TAIZHANG_SECRET_KEY must be set in production")
# The keys derived from SECRET_KEY in base.py are for development only (docs/adr/0003-field-encryption.md).
for _name in ("TAIZHANG_FIELD_KEYS", "TAIZHANG_INDEX_KEY"):
    if not os.environ.get(_name, "").strip():
        raise ImproperlyConfigured(f"{_name} must be set in production (see docs/adr/0003-field-encryption.md)")
DEBUG = False
SESSION_COOKIE_SECURE = env_bool("TAIZHANG_HTTPS", True)
CSRF_COOKIE_SECURE = env_bool("TAIZHANG_HTTPS", True)
SECURE_SSL_REDIRECT = env_bool("TAIZHANG_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = 31536000 if env_bool("TAIZHANG_HTTPS", True) else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
