"""Production: everything from the environment, nothing defaulted that must be secret."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

if not SECRET_KEY:
    raise ImproperlyConfigured("TAIZHANG_SECRET_KEY must be set in production")
DEBUG = False
SESSION_COOKIE_SECURE = env_bool("TAIZHANG_HTTPS", True)
CSRF_COOKIE_SECURE = env_bool("TAIZHANG_HTTPS", True)
SECURE_SSL_REDIRECT = env_bool("TAIZHANG_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = 31536000 if env_bool("TAIZHANG_HTTPS", True) else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
