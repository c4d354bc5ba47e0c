"""Shared test fixtures: databases (SQLite and the real PostgreSQL), the clock, the replay server,
and for alerts: a mail server, a webhook receiver and the core team's setup (`team`; configs of
alert tests are written by tests/alerting.py `write_config`)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alerting import fresh_store, record, team_config
from servers import SMTP_PASSWORD, Mailbox, RawMailbox, Receiver

if TYPE_CHECKING:
    from tracker.config import Config
    from tracker.demo.replay import ReplayServer
    from tracker.store import Store

DATA = Path(__file__).parent / "data"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _secrets_of_this_test_only() -> Iterator[None]:
    """The secrets a test registers (every `${VAR}` value its configs read) are forgotten after it:
    the registry is the process's, and a common word registered by one test ("next", a wrong value
    given on purpose) was masked in every later test of its worker. Those registered by wider
    fixtures, set up before this one, stay for their scope."""
    from tracker import secrets

    kept = set(secrets._known)
    yield
    secrets._known.clear()
    secrets._known.update(kept)


def pytest_configure(config: pytest.Config) -> None:
    """The project's modules compiled to bytecode once, before any test (by the controller, not by
    each xdist worker): CI and this sandbox run with PYTHONDONTWRITEBYTECODE, so every `tracker`
    process a test starts, and every ingest worker it spawns, compiled tracker/ and spiders/ from
    source again (0.6 s of a one-source `tracker run`'s 4 s, some 500 processes a run). pip
    compiles an installed wheel so; this does the same for the checkout. Nothing else changes:
    Python checks each .pyc against its source."""
    if hasattr(config, "workerinput"):
        return
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("tracker", "spiders"):
        compileall.compile_dir(root / package, quiet=2)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the machine has cores. A sixth of the time a worker waits
    (a lease cycle's real 30 seconds, a server held or stalled on purpose, a browser loading) with
    nothing for its core to do; the extra worker takes that time."""
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first (real servers, processes and clocks: seconds each, half a minute
    for a lease cycle), the rest after, each group in file order: xdist hands tests out in this
    order, and a long test drawn near the end kept the run going while the other workers idled."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not here"
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; dropped afterwards."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required under CI=true: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    import psycopg

    name = f"tracker_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_pg(name: str) -> str:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: the test runs once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return _reset_pg(request.getfixturevalue("pg_database"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture
def pg_url(pg_database: str) -> str:
    return _reset_pg(pg_database)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:  # type: ignore[valid-type]
    """Set the tracker clock: frozen_now("2026-11-24T14:00:00Z")."""

    def set_now(value: str) -> None:
        monkeypatch.setenv("TRACKER_NOW", value)

    set_now("2026-11-24T14:00:00Z")
    yield set_now


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """The loopback server of recorded responses (tracker/demo/replay.py), started for one test."""
    from tracker.demo.replay import serve

    with serve() as server:
        yield server


@pytest.fixture
def legistar(replay: Any) -> Any:
    """The loopback Legistar Web API (tracker/demo/legistar_api.py, evaluating real OData queries)
    mounted at /v1 of the replay server."""
    from tracker.demo.legistar_api import LegistarApi

    api = LegistarApi("/v1")
    replay.mount("/v1", api)
    return api


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on loopback, read back."""
    box = Mailbox()
    box.start()
    yield box
    box.close()


@pytest.fixture
def smtp() -> Iterator[RawMailbox]:
    """A real SMTP server on loopback demanding a login (user "tracker", `SMTP_PASSWORD`), keeping
    each message's bytes as they came."""
    box = RawMailbox("tracker", SMTP_PASSWORD)
    box.start()
    yield box
    box.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on loopback for apprise's webhooks."""
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def team(tmp_path: Path, db_url: str, mailbox: Mailbox, receiver: Receiver, frozen_now: Any) -> tuple[Config, Store]:
    """The core team's config (tests/alerting.py `team_config`) and a store holding S. 35's baseline."""
    config = team_config(tmp_path, db_url, mailbox.port, receiver.port)
    store = fresh_store(config)
    record(store, config, "referred")  # baseline
    return config, store
