"""Shared fixtures: paths, service availability (PostgreSQL, Redis)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis profiles: CI (CI=true, as `.ci/run` is run) uses the full example counts the issues
# ask for (>= 100 per property); a developer's run uses fewer. Select one explicitly with
# HYPOTHESIS_PROFILE=ci|dev. Property tests set no max_examples of their own: the profile decides.
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
#: The brief's bug-report cases live beside the project (``../shared/cases``).
CASES = ROOT.parent / "shared" / "cases"

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


def services_required() -> bool:
    """CI sets ``CHANNELS_LINT_REQUIRE_SERVICES=1``: then a missing service fails, never skips."""
    return os.environ.get("CHANNELS_LINT_REQUIRE_SERVICES") == "1"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or fail, when services are required) unless ``host:port`` accepts connections."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError as error:
        reason = f"{name} is not reachable on {host}:{port} ({error}); start it or unset the test"
        if services_required():
            pytest.fail(reason + " [CHANNELS_LINT_REQUIRE_SERVICES=1]")
        pytest.skip(reason)


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture(scope="session")
def thread_connections_closed(django_db_setup, django_db_blocker):
    """Close the database connections that ``database_sync_to_async``'s worker thread
    opened, before the test database is dropped (PostgreSQL refuses to drop a database
    that still has sessions)."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())
