"""Fixtures: a real database and a real Redis for every test.

GRIDLINE_TEST_DATABASE_URL / GRIDLINE_TEST_REDIS_URL select PostgreSQL and Redis (CI runs both
ways); without them the suite uses a SQLite file and an embedded Redis, as a new user has.
Tables are emptied and Redis flushed before each test, so worker end-to-end tests see committed
data exactly as production does.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from models import Base
from models.db import Database
from workers import runtime as runtime_module
from workers.redis_conn import EmbeddedRedis
from workers.settings import PROJECT_ROOT, load_settings

DATA = Path(__file__).parent / "data"
DEMO = PROJECT_ROOT / "models" / "demo"
TEST_DB = os.environ.get("GRIDLINE_TEST_DATABASE_URL")
TEST_REDIS = os.environ.get("GRIDLINE_TEST_REDIS_URL")
BACKEND = "postgresql" if TEST_DB else "sqlite"


def pytest_report_header(config):
    return f"gridline backends: database={TEST_DB or 'sqlite (temporary file)'} redis={TEST_REDIS or 'embedded'}"


# -- no real network: only loopback and unix sockets ----------------------------------------------
_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            raise RuntimeError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


# -- services ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def session_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("gridline")


@pytest.fixture(scope="session")
def database_url(session_dir):
    if TEST_DB:
        db = Database(TEST_DB)
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        db.upgrade()
        db.dispose()
        return TEST_DB
    url = f"sqlite:///{session_dir / 'test.db'}"
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url(session_dir):
    if TEST_REDIS:
        yield TEST_REDIS
        return
    embedded = EmbeddedRedis(session_dir / "redis")
    embedded.start()
    yield f"unix://{embedded.socket}"
    embedded.stop()


@pytest.fixture
def settings(tmp_path, database_url, redis_url):
    instance = tmp_path / "instance"
    return load_settings(
        {"GRIDLINE_INSTANCE_PATH": str(instance), "GRIDLINE_DATABASE_URL": database_url,
         "GRIDLINE_REDIS_URL": redis_url, "GRIDLINE_SECRET_KEY": "test-secret"},
        testing=True,
    )


def _empty_tables(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    raw = db.engine.raw_connection()  # autocommit: PRAGMA foreign_keys only works outside a transaction
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        for name in tables:
            cursor.execute(f"DELETE FROM {name}")
        cursor.execute("DELETE FROM sqlite_sequence")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        raw.close()


class Clock:
    """The product's clock in tests: starts at a given Beijing time and runs with real time, so
    that order is kept; `set` and `advance` travel."""

    def __init__(self, local: datetime):
        self.set(local)

    def set(self, local: datetime) -> None:
        from models import from_local

        self._start, self._real = from_local(local), time.monotonic()

    def advance(self, **delta) -> None:
        self._start += timedelta(**delta)

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._real)


# A working Wednesday, 10:00 in Beijing: no quiet hours, no holiday, unless a test says so.
DEFAULT_START = datetime(2026, 11, 18, 10, 0)


@pytest.fixture
def app(settings):
    from gateway import create_app

    from workers import directory

    app = create_app(settings)
    rt = app.extensions["gridline"]
    _empty_tables(rt.db)
    directory.invalidate()
    rt.redis.flushdb()
    rt.now = app.clock = Clock(DEFAULT_START)
    yield app
    runtime_module.reset()


@pytest.fixture
def clock(app) -> Clock:
    return app.clock


@pytest.fixture
def rt(app):
    return app.extensions["gridline"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo(rt):
    """The bundled demo district, imported through the same code as `gridline import`."""
    from models.imports import import_rows, read_rows
    from models.team import STOCK_TEAM_KINDS

    with rt.db.session() as session:
        for kind in ("areas", "teams", "members", "residents"):
            report = import_rows(session, kind, read_rows(kind, DEMO / f"{kind}.csv"), STOCK_TEAM_KINDS)
            assert not report.rejected, report.rejected
    from workers import directory

    directory.invalidate()
    return rt


# -- driving the product -------------------------------------------------------------------------
class Phone:
    """Sends signed webhook requests the way Twilio does, and drains the queues with a real worker."""

    counter = 0

    def __init__(self, client, settings, rt):
        self.client, self.settings, self.rt = client, settings, rt

    def sign(self, url: str, params: dict) -> str:
        return RequestValidator(self.settings.twilio_auth_token).compute_signature(url, params)

    def post(self, path: str, params: dict, signature: str | None = "auto", headers: dict | None = None):
        url = f"http://localhost{path}"
        headers = dict(headers or {})
        if signature == "auto":
            headers["X-Twilio-Signature"] = self.sign(url, params)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(path, data=params, headers=headers)

    def sms_params(self, sender: str, body: str, sid: str | None = None) -> dict:
        Phone.counter += 1
        return {
            "MessageSid": sid or f"SM{os.getpid():08x}{Phone.counter:024x}", "AccountSid": self.settings.twilio_account_sid,
            "From": sender, "To": self.settings.short_number, "Body": body, "NumMedia": "0", "NumSegments": "1",
            "ApiVersion": "2010-04-01", "FromCity": "宁波",
        }

    def text(self, sender: str, body: str, sid: str | None = None, drain: bool = True):
        response = self.post("/twilio/sms", self.sms_params(sender, body, sid))
        assert response.status_code == 200, response.data
        if drain:
            self.drain()
        return response

    def drain(self) -> None:
        drain_queues(self.rt)


def drain_queues(rt) -> None:
    from rq import Queue, SimpleWorker

    from workers.queues import ALL_QUEUES

    queues = [Queue(name, connection=rt.redis) for name in ALL_QUEUES]
    SimpleWorker(queues, connection=rt.redis).work(burst=True, logging_level="WARNING")


@pytest.fixture
def phone(client, settings, rt):
    return Phone(client, settings, rt)


def outbox(rt, to: str | None = None, kind: str | None = None) -> list:
    from models import OutboundMessage

    with rt.db.session() as session:
        query = sa.select(OutboundMessage).order_by(OutboundMessage.id)
        if to:
            query = query.where(OutboundMessage.to == to)
        if kind:
            query = query.where(OutboundMessage.kind == kind)
        return list(session.scalars(query))


def cases(rt) -> list:
    from models import Case

    with rt.db.session() as session:
        from sqlalchemy.orm import selectinload

        from models import CaseTeam

        loads = (selectinload(Case.informed).selectinload(CaseTeam.team), selectinload(Case.area), selectinload(Case.team))
        return list(session.scalars(sa.select(Case).options(*loads).order_by(Case.id)).unique())


def events(rt, case_id: int) -> list[str]:
    from models import CaseEvent

    with rt.db.session() as session:
        return list(session.scalars(sa.select(CaseEvent.type).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def phones_of(rt, team_code: str, roles=("leader", "member")) -> set[str]:
    from models import Member, Team

    with rt.db.session() as session:
        return set(session.scalars(
            sa.select(Member.phone).join(Team).where(Team.code == team_code, Member.role.in_(roles))
        ))


# Demo residents (models/demo/residents.csv): four per grid, in grid order.
RESIDENT_G1 = "+8613805710001"      # 贺敏, 湖畔社区第1网格 (DH-S1-C1-G1)
RESIDENT_G1_B = "+8613805710002"    # 顾静, same grid
RESIDENT_XINHE = "+8613805710009"   # 新河村第1网格 (DH-S1-C2-G1)
UNKNOWN = "+8613999990000"          # not registered anywhere


def process_env(settings, **extra) -> dict:
    """The environment a `gridline` process started by a test runs with: the test's instance,
    database and Redis."""
    return dict(os.environ, GRIDLINE_INSTANCE_PATH=str(settings.instance_path), GRIDLINE_DATABASE_URL=settings.database_url,
                GRIDLINE_REDIS_URL=settings.redis_url, GRIDLINE_SECRET_KEY="test-secret", GRIDLINE_LOG_LEVEL="WARNING",
                **extra)
