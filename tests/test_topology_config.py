"""Settings for more than one host: connection pools that fit PostgreSQL (and PgBouncer in
transaction mode), and a Redis URL that may name Sentinel."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from models.db import Database
from models.pooling import PoolSettings
from tests.conftest import BACKEND, RESIDENT_G1, TEST_REDIS, Phone, cases, outbox
from workers.settings import ConfigError, load_settings


@pytest.mark.parametrize("env, message", [
    ({"GRIDLINE_DB_POOL_SIZE": "many"}, "GRIDLINE_DB_POOL_SIZE: expected a whole number, got 'many'"),
    ({"GRIDLINE_DB_MAX_OVERFLOW": "-1"}, "GRIDLINE_DB_MAX_OVERFLOW: must be 0 or more, got -1"),
    ({"GRIDLINE_PGBOUNCER": "maybe"}, "GRIDLINE_PGBOUNCER: expected 1 or 0, got 'maybe'"),
    ({"GRIDLINE_REDIS_URL": "redis+sentinel://10.0.0.1:26379"}, "GRIDLINE_REDIS_URL: no service (master) name"),
    ({"GRIDLINE_REDIS_URL": "redis+sentinel://10.0.0.1:x/gridline"}, "GRIDLINE_REDIS_URL: bad sentinel address"),
])
def test_bad_topology_settings_fail_at_start_naming_the_variable(tmp_path, env, message):
    with pytest.raises(ConfigError) as error:
        load_settings(dict(env, GRIDLINE_INSTANCE_PATH=str(tmp_path)))
    assert str(error.value).startswith(message)


def test_pool_settings_are_read_from_the_environment(tmp_path):
    settings = load_settings({"GRIDLINE_INSTANCE_PATH": str(tmp_path), "GRIDLINE_DB_POOL_SIZE": "0",
                              "GRIDLINE_DB_MAX_OVERFLOW": "3", "GRIDLINE_PGBOUNCER": "1"})
    assert settings.db_pool == PoolSettings(size=0, overflow=3, pgbouncer=True)
    assert load_settings({"GRIDLINE_INSTANCE_PATH": str(tmp_path)}).db_pool == PoolSettings(size=5, overflow=5)


@pytest.mark.skipif(BACKEND != "postgresql", reason="pools and prepared statements are PostgreSQL's")
def test_behind_pgbouncer_no_connection_is_kept_and_no_statement_is_prepared(database_url):
    db = Database(database_url, pool=PoolSettings(size=0, pgbouncer=True))
    try:
        assert isinstance(db.engine.pool, sa.pool.NullPool)
        with db.engine.connect() as conn:
            for _ in range(8):  # psycopg would prepare from the fifth execution on
                conn.execute(sa.text("SELECT count(*) FROM areas WHERE id > :n"), {"n": 0})
            assert conn.connection.driver_connection.prepare_threshold is None
            assert conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0
    finally:
        db.dispose()
    pooled = Database(database_url, pool=PoolSettings(size=3, overflow=2))
    try:
        assert pooled.engine.pool.size() == 3 and pooled.engine.pool._max_overflow == 2
    finally:
        pooled.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, seconds: float, what: str) -> None:
    """Until something listens on the loopback port; fails with `what` if the process dies first."""
    deadline = time.monotonic() + seconds
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process.poll() is None and time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def sentinel_url():
    """A real Redis Sentinel watching the test Redis; the URL that names it."""
    if not (TEST_REDIS or "").startswith("redis://") or not shutil.which("redis-server"):
        pytest.skip("Sentinel needs a TCP Redis and redis-server")
    target = urlsplit(TEST_REDIS)
    folder = Path(tempfile.mkdtemp(prefix="gridline-sentinel-"))
    port = free_port()
    config = folder / "sentinel.conf"
    config.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                      f"sentinel monitor gridline-test {target.hostname} {target.port or 6379} 1\n")
    process = subprocess.Popen(["redis-server", str(config), "--sentinel"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_port(port, process, 10, "sentinel did not start")
        yield f"redis+sentinel://127.0.0.1:{port}/gridline-test{target.path or '/0'}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_message_flows_through_redis_found_by_sentinel(settings, database_url, demo, sentinel_url):
    from gateway import create_app

    from workers import runtime

    app = create_app(settings.replace(redis_url=sentinel_url))
    try:
        rt = app.extensions["gridline"]
        connection_kwargs = rt.redis.connection_pool.connection_kwargs
        assert type(rt.redis.connection_pool).__name__ == "SentinelConnectionPool"
        assert rt.redis.ping()
        Phone(app.test_client(), settings, rt).text(RESIDENT_G1, "小区门口路灯坏了一个星期")
        [case] = cases(rt)
        assert case.category == "livelihood"
        assert [m.kind for m in outbox(rt, to=RESIDENT_G1)] == ["receipt"]
        assert connection_kwargs["db"] == int(urlsplit(sentinel_url).path.rsplit("/", 1)[1])
    finally:
        runtime.reset()
