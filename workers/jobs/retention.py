"""sweep_retention: anonymise closed cases older than the retention period (workers.privacy)."""
from __future__ import annotations

import logging

from .. import runtime
from ..privacy import retention_sweep
from ..queues import SWEEPS, job

log = logging.getLogger(__name__)


@job(SWEEPS, timeout=600, retries=0)
def sweep_retention(now=None) -> int:
    rt = runtime.get()
    days = rt.retention_days
    if days <= 0:
        return 0
    now = now or rt.now()
    with rt.db.session() as session:
        changes = retention_sweep(session, days, now)
        if changes.case_ids:
            from models import AccessRecord

            session.add_all([AccessRecord(username="system", role="", action="anonymise", channel="system", case_id=i,
                                          detail=f"结案满 {days} 天，匿名化") for i in changes.case_ids])
    if changes.case_ids:
        log.info("retention anonymised cases=%d days=%d changed=%s", len(changes.case_ids), days, changes.counts)
    return len(changes.case_ids)
