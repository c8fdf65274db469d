"""Test settings: the project's settings, with localhost PostgreSQL and Redis by default.

Every value can still be overridden from the environment.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shelterchat")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("REDIS_PREFIX", "shelterchat-tests")
# The test servers speak plain HTTP.
os.environ.setdefault("HTTPS", "off")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789")

from shelterchat.settings import *  # noqa: F403

PLATFORM_DOMAIN = "platform.test"
