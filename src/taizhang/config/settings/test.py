"""Settings for the test suite: fast hashing, in-memory task backend, same security middleware."""

from .base import *  # noqa: F403
from .base import development_field_keys

SECRET_KEY = "taizhang-test-key"  # noqa: S105
# Field and blind-index keys derived from the test SECRET_KEY, whatever the developer's environment holds.
TAIZHANG_FIELD_KEYS, TAIZHANG_INDEX_KEY = development_field_keys(SECRET_KEY)
DEBUG = False
# Argon2 is what runs in production (asserted by a test on base settings); tests use a fast hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

# On PostgreSQL each test run gets its own database, so that concurrent runs on one server never
# drop each other's (pytest-django adds the xdist worker suffix to this name).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    import os as _os

    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_os.getpid()}"}

# The demo scenario at 2% of its establishments keeps the demo tests fast; `taizhang demo` uses 1.0.
TAIZHANG_DEMO_SCALE = 0.02
