"""What the tests need from this machine: a test whose service (PostgreSQL, Redis, Chromium) is
missing is skipped with the reason here, and fails in CI, which must run every test. Import it by
module name (`from skipping import skip_or_fail`), like the e2e helpers."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run these tests)")
    pytest.skip(reason)


REDIS_ENV = "VOTING_TEST_REDIS_URL"


def redis_test_url() -> str:
    """The Redis URL for tests, or skip (fail in CI) with the reason."""
    import redis

    url = os.environ.get(REDIS_ENV)
    if not url:
        skip_or_fail(f"{REDIS_ENV} is not set; the tests that need Redis skipped")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis at {url} is unreachable: {error.__class__.__name__}")
    finally:
        client.close()
    return url
