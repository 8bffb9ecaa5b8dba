"""Settings for a developer's machine and the demo: SQLite under var/ unless DATABASE_URL is set."""

from .base import *  # noqa: F403
from .base import SECRET_KEY as _SECRET_KEY
from .base import env_bool

DEBUG = env_bool("TAIZHANG_DEBUG", False)
SECRET_KEY = _SECRET_KEY or "taizhang-local-development-key-not-for-production-use"
