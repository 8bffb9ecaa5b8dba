"""Settings shared by every environment. Everything that differs comes from the environment."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from csp.constants import NONCE, NONE, SELF

SRC_DIR = Path(__file__).resolve().parents[3]
BASE_DIR = Path(os.environ.get("TAIZHANG_HOME", SRC_DIR.parent)).resolve()
VAR_DIR = Path(os.environ.get("TAIZHANG_VAR", BASE_DIR / "var")).resolve()
PACKAGE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("TAIZHANG_SECRET_KEY", "")
DEBUG = env_bool("TAIZHANG_DEBUG", False)
ALLOWED_HOSTS = env_list("TAIZHANG_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("TAIZHANG_CSRF_TRUSTED_ORIGINS", "")

# --- personal-information field encryption (docs/adr/0003-field-encryption.md) ----------------------
# TAIZHANG_FIELD_KEYS: "keyid:base64key,…" (32-byte AES-256-GCM keys); the first encrypts, all decrypt.
# TAIZHANG_INDEX_KEY: base64 of 32 bytes, the separate HMAC-SHA256 key of the blind indexes.


def development_field_keys(secret_key: str) -> tuple[list[str], str]:
    """DEVELOPMENT ONLY: field and index keys derived from SECRET_KEY with HKDF-SHA256.

    They let a fresh checkout, the demo and the test suite run without set-up. Anyone who knows
    SECRET_KEY knows them, and changing SECRET_KEY makes existing encrypted data unreadable:
    production.py refuses to start without real keys in the environment.
    """

    def derive(purpose: bytes) -> str:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"taizhang-development-only", info=purpose)
        return base64.b64encode(hkdf.derive((secret_key or "taizhang-development").encode())).decode()

    return [f"dev:{derive(b'field-encryption')}"], derive(b"blind-index")


TAIZHANG_FIELD_KEYS = env_list("TAIZHANG_FIELD_KEYS")
TAIZHANG_INDEX_KEY = os.environ.get("TAIZHANG_INDEX_KEY", "").strip()
if not TAIZHANG_FIELD_KEYS or not TAIZHANG_INDEX_KEY:
    _dev_field_keys, _dev_index_key = development_field_keys(SECRET_KEY)
    TAIZHANG_FIELD_KEYS = TAIZHANG_FIELD_KEYS or _dev_field_keys
    TAIZHANG_INDEX_KEY = TAIZHANG_INDEX_KEY or _dev_index_key

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "taizhang.core",
    "taizhang.audit",
    "taizhang.regions",
    "taizhang.accounts",
    "taizhang.industries",
    "taizhang.notifications",
    "taizhang.rollups",
    "taizhang.duties",
    "taizhang.establishments",
    "taizhang.filings",
    "taizhang.problems",
    "taizhang.inspections",
    "taizhang.transfer",
    "taizhang.dashboards",
    "taizhang.api",
    "taizhang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "taizhang.audit.middleware.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "taizhang.accounts.middleware.IdleTimeoutMiddleware",
    "taizhang.accounts.middleware.PasswordChangeRequiredMiddleware",  # docs/adr/0012-must-change-password.md
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "taizhang.config.urls"
WSGI_APPLICATION = "taizhang.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "taizhang.accounts.context_processors.navigation",
                "taizhang.notifications.context_processors.unread",
            ],
        },
    }
]

# --- database: SQLite under var/ unless DATABASE_URL is set ------------------------------------
DEFAULT_SQLITE = VAR_DIR / "taizhang.sqlite3"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "taizhang.accounts.validators.MinimumLengthValidator",  # Django's, with a Chinese message
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "taizhang.accounts.validators.CharacterClassValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

# --- sessions and lockout (MLPS level 3 practice) ----------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Enforced on the server by accounts.middleware: 30 minutes without a request, and 12 hours after sign-in
# whatever the activity.
TAIZHANG_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("TAIZHANG_IDLE_MINUTES", "30")))
TAIZHANG_SESSION_MAX_AGE = timedelta(hours=int(os.environ.get("TAIZHANG_SESSION_MAX_HOURS", "12")))
CSRF_COOKIE_HTTPONLY = False

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "taizhang.accounts.views.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# Behind a reverse proxy that sets it, name the header with the real client address (e.g. HTTP_X_REAL_IP);
# never set this when clients can reach the application directly (they could forge it).
TAIZHANG_CLIENT_IP_HEADER = os.environ.get("TAIZHANG_CLIENT_IP_HEADER", "")
AXES_IPWARE_META_PRECEDENCE_ORDER = [h for h in (TAIZHANG_CLIENT_IP_HEADER, "REMOTE_ADDR") if h]

OTP_TOTP_ISSUER = "台账 Taizhang"

# --- security headers ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- i18n: Chinese first -------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]  # one UI language until an English catalogue exists (ADR 0001)
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [PACKAGE_DIR / "locale"]

# --- static files: served locally, never from a CDN ----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # attachments and generated files: outside the web root, served only through views that check access
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(VAR_DIR / "private")}},
}

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "taizhang.api.authentication.TokenAuthentication",  # first, so that refusals are 401 with WWW-Authenticate
        "taizhang.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["taizhang.core.drf.DenyAll"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "taizhang.core.drf.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "taizhang.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "台账 Taizhang API",
    "DESCRIPTION": "网格化公共服务台账系统 REST API（与页面调用同一服务层，同一权限范围）",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- background work ------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TAIZHANG_LOG_LEVEL", "INFO")},
    # fontTools logs every glyph subset at INFO while a daily report's PDF embeds its CJK font: 60+ lines a report
    "loggers": {"axes": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

TAIZHANG_DEMO_DIR = VAR_DIR / "demo"

# Lockout is by username on purpose (the same 30-minute lock whether or not the user exists); a
# per-address limit belongs to the reverse proxy, which sees the real client address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
