"""Settings for the test suite: fast hashing, in-memory task backend, same security middleware."""

from .base import *  # noqa: F403

SECRET_KEY = "taizhang-test-key"  # noqa: S105
DEBUG = False
# Argon2 is what runs in production (asserted by a test on base settings); tests use a fast hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
