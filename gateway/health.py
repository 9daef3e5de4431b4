"""GET /healthz: 200 when the database and Redis answer, at least one worker is alive and no
message has waited longer than GRIDLINE_HEALTH_MAX_WAIT seconds; otherwise 503 naming what fails."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from workers import liveness

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    rt = current_app.extensions["gridline"]
    checks: dict[str, str] = {}
    body: dict = {}
    try:
        with rt.db.session() as session:
            session.execute(sa.text("SELECT 1"))
            waiting = liveness.oldest_waiting(session, rt.now())
        checks["database"] = "ok"
        body["oldest_waiting_seconds"] = {k: (round(v, 1) if v is not None else None) for k, v in waiting.items()}
        limit = rt.settings.health_max_wait_seconds
        late = [k for k, v in waiting.items() if v is not None and v > limit]
        checks["backlog"] = "ok" if not late else f"error: {', '.join(late)} waiting over {limit} s"
    except Exception as exc:  # any failure means unhealthy; say which
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        rt.redis.ping()
        checks["redis"] = "ok"
        body["workers"] = liveness.alive(rt.redis, "worker")
        body["schedulers"] = liveness.alive(rt.redis, "scheduler")
        checks["workers"] = "ok" if body["workers"] else "error: no worker alive"
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, **body}
    if not healthy:
        body["failing"] = [k for k, v in checks.items() if v != "ok"]
    return jsonify(body), 200 if healthy else 503
