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
