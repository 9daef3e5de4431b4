"""Engine and sessions for one database URL; schema migration through Alembic."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process read while a worker writes; busy_timeout queues writers instead of
    # failing them; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 (the driver Gridline installs)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Database:
    def __init__(self, url: str, echo: bool = False, pool=None):
        from .pooling import PoolSettings, engine_options

        url = normalise_url(url)
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: a failed statement's error (and echo) never prints residents' phones or texts.
        kwargs: dict = {"echo": echo, "future": True, "hide_parameters": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            settings = pool or PoolSettings()
            kwargs.update(engine_options(settings))  # see models.pooling
            # PostgreSQL's JIT spent 1.5 s compiling each figure query over a year of 200,000
            # cases that runs in 0.3 s without it (bench/scale.py); our queries are short.
            # PgBouncer refuses the `options` startup parameter: behind it, set jit = off on the
            # database instead (ALTER DATABASE gridline SET jit = off), as the README says.
            if url.startswith("postgresql") and not settings.pgbouncer:
                kwargs.setdefault("connect_args", {})["options"] = "-c jit=off"
        self.engine = sa.create_engine(url, **kwargs)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            # pysqlite's own BEGIN handling defers locks; emit BEGIN ourselves so that the first
            # write in a transaction takes the lock and a SELECT never upgrades under us.
            sa.event.listen(self.engine, "connect", _disable_pysqlite_begin)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Same pool, no transaction: for single statements that must be durable on return.
        self.autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # A forked child (RQ work horse, gunicorn worker) must not reuse the parent's sockets.
        os.register_at_fork(after_in_child=lambda: self.engine.dispose(close=False))

    def insert_returning(self, sql: str, params: dict):
        """Run one driver-level INSERT ... RETURNING in autocommit and return the first column
        (None when nothing was inserted). The webhook's hot path: one round trip, no
        transaction, no ORM or statement processing."""
        raw = self.engine.raw_connection()
        driver = raw.driver_connection
        postgres = not self.is_sqlite
        try:
            if postgres:
                driver.autocommit = True
            cursor = raw.cursor()
            try:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            finally:
                cursor.close()
            return row[0] if row else None
        finally:
            if postgres:
                driver.autocommit = False
            raw.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        command.upgrade(alembic_config(self), revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_begin(conn) -> None:
    if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        conn.exec_driver_sql("BEGIN")


def _disable_pysqlite_begin(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None


def alembic_config(database: Database):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.engine
    return config
