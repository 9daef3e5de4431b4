"""Connection pools that fit PostgreSQL's limits, directly or behind PgBouncer.

Every Gridline process (each gunicorn worker, each `gridline worker`) holds its own pool, so the
database sees at most  processes x (GRIDLINE_DB_POOL_SIZE + GRIDLINE_DB_MAX_OVERFLOW)  connections,
which must stay under PostgreSQL's `max_connections` (100 by default) less what other clients and
superusers need. An RQ worker runs one job at a time and uses one connection; a gthread gunicorn
worker uses at most one per thread.

Behind PgBouncer in transaction mode a server connection changes hands between transactions,
so server-side prepared statements (psycopg prepares a statement after its fifth use) would be
looked up on the wrong connection: GRIDLINE_PGBOUNCER=1 turns them off. GRIDLINE_DB_POOL_SIZE=0
keeps no idle connection in the process at all (SQLAlchemy's NullPool): each unit of work opens
one, which is cheap against a local PgBouncer and leaves the pooling to it.
"""
from __future__ import annotations

from dataclasses import dataclass

TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class PoolSettings:
    size: int = 5              # connections kept open per process; 0: none (NullPool)
    overflow: int = 5          # extra connections a busy process may open for a while
    timeout: float = 30.0      # seconds to wait for a free connection before failing
    recycle: int = 600         # seconds before a connection is replaced
    pgbouncer: bool = False    # transaction pooling in front: no server-side prepared statements


def _int(env: dict, name: str, default: int, low: int = 0) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < low:
        raise ValueError(f"{name}: must be {low} or more, got {value}")
    return value


def pool_settings(env: dict) -> PoolSettings:
    """GRIDLINE_DB_POOL_SIZE, GRIDLINE_DB_MAX_OVERFLOW, GRIDLINE_DB_POOL_TIMEOUT, GRIDLINE_PGBOUNCER.
    A bad value raises ValueError whose message names the variable."""
    flag = (env.get("GRIDLINE_PGBOUNCER") or "").strip().lower()
    if flag not in TRUE + FALSE:
        raise ValueError(f"GRIDLINE_PGBOUNCER: expected 1 or 0, got {flag!r}")
    return PoolSettings(
        size=_int(env, "GRIDLINE_DB_POOL_SIZE", PoolSettings.size),
        overflow=_int(env, "GRIDLINE_DB_MAX_OVERFLOW", PoolSettings.overflow),
        timeout=float(_int(env, "GRIDLINE_DB_POOL_TIMEOUT", int(PoolSettings.timeout), low=1)),
        pgbouncer=flag in TRUE,
    )


def engine_options(pool: PoolSettings) -> dict:
    """Keyword arguments for sqlalchemy.create_engine on PostgreSQL."""
    import sqlalchemy as sa

    # No pre-ping: it costs a round trip per checkout on the webhook's hot path; recycling and
    # psycopg's own error on a dead connection (the request fails, the provider retries) suffice.
    options: dict = {"connect_args": {}}
    if pool.size == 0:
        options["poolclass"] = sa.pool.NullPool
    else:
        options.update(pool_size=pool.size, max_overflow=pool.overflow, pool_timeout=pool.timeout,
                       pool_recycle=pool.recycle)
    if pool.pgbouncer:
        options["connect_args"]["prepare_threshold"] = None
    return options
