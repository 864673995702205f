"""Shared fixtures: ../shared test data, temporary stores, real servers (scripts/test-services.sh).

Tests that read the test-only data folder (``../shared`` next to the checkout, or
``$SAFECITY_SHARED``: MOT17 excerpts and the Town Centre clip, which the repository does not ship
because of their licences) carry the ``needs_shared_data`` marker; every test that uses the
``shared_dir`` fixture gets it automatically. Without the folder they are skipped with a message
naming the data and where it comes from, so a clone without it passes; with
``SAFECITY_REQUIRE_SHARED_DATA=1`` (set by ``.ci/run``) such a skip is a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SAFECITY_SHARED", REPO.parent / "shared"))
REQUIRE_SHARED = os.environ.get("SAFECITY_REQUIRE_SHARED_DATA", "") not in ("", "0")
SHARED_DATA_NOTE = (
    f"needs the test-only data folder {SHARED} (data/video/mot17-mini-dev: MOTChallenge MOT17 excerpts, "
    "non-commercial; data/video/towncentre-5s: Oxford Town Centre; data/video/falls-gmdcsa24: GMDCSA24 "
    "falls, MIT; each with a SOURCE.md): the "
    "project's shared/ folder next to the checkout, or set SAFECITY_SHARED to it"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_shared_data: reads ../shared test-only data; skipped without it, "
        "a failure with SAFECITY_REQUIRE_SHARED_DATA=1",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "shared_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_shared_data)


def _missing_shared_data() -> None:
    if REQUIRE_SHARED:
        pytest.fail(f"{SHARED_DATA_NOTE} (SAFECITY_REQUIRE_SHARED_DATA is set: it must be there)")
    pytest.skip(SHARED_DATA_NOTE)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_shared_data") is not None and not SHARED.is_dir():
        _missing_shared_data()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        _missing_shared_data()
    return SHARED


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'safecity.db'}"


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: integration tests need the real servers; run them through `make test` "
            "(scripts/test-services.sh starts PostgreSQL and mosquitto)"
        )
    return value


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    return _require_env("SAFECITY_TEST_PG_URL")


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    return _require_env("SAFECITY_TEST_MQTT_HOST"), int(_require_env("SAFECITY_TEST_MQTT_PORT"))
