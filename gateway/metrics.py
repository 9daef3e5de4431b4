"""GET /metrics: backpressure in Prometheus text format (workers.vitals). No personal data: counts,
ages and worker names only. Expose it where /healthz is exposed (an internal network)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import CollectorRegistry

from workers.vitals import Vitals, snapshot

bp = Blueprint("metrics", __name__)

STAGE_HELP = {
    "received": "messages the webhooks stored",
    "intake": "stored -> processed (queue wait plus processing)",
    "send": "SMS row written -> handed to the provider",
}


def families(vitals: Vitals):
    """The snapshot as Prometheus metric families."""
    depth = GaugeMetricFamily("gridline_queue_depth", "Items waiting in a Redis queue (inbox: message ids; "
                              "others: RQ jobs)", labels=["queue"])
    for name, value in vitals.queues.items():
        depth.add_metric([name], value)
    yield depth
    failed = GaugeMetricFamily("gridline_failed_jobs", "Jobs in RQ's failed registry", labels=["queue"])
    for name, value in vitals.failed_jobs.items():
        failed.add_metric([name], value)
    yield failed

    if "database" not in vitals.errors:
        waiting = GaugeMetricFamily("gridline_waiting_messages", "Messages stored and not yet processed (inbound) "
                                    "or due and not yet sent (outbound)", labels=["direction"])
        oldest = GaugeMetricFamily("gridline_oldest_waiting_seconds", "Age of the oldest waiting message "
                                   "(0 when none waits)", labels=["direction"])
        for direction, w in (("inbound", vitals.inbound), ("outbound", vitals.outbound)):
            waiting.add_metric([direction], w.count)
            oldest.add_metric([direction], w.oldest_seconds or 0.0)
        yield waiting
        yield oldest
        yield GaugeMetricFamily("gridline_held_messages", "SMS held through quiet hours", value=vitals.held)

    for stage, figures in vitals.stages.items():
        yield CounterMetricFamily(f"gridline_{stage}", f"Messages through stage {stage}: {STAGE_HELP.get(stage, '')}",
                                  value=figures["count"])
        if figures["timed"]:
            buckets = [(_le(bound), count) for bound, count in figures["buckets"]] + [("+Inf", figures["timed"])]
            yield HistogramMetricFamily(f"gridline_{stage}_latency_seconds", f"Latency of stage {stage}: "
                                        f"{STAGE_HELP.get(stage, '')}", buckets=buckets, sum_value=figures["sum_seconds"])

    if "redis" not in vitals.errors:
        workers = GaugeMetricFamily("gridline_workers", "Live workers by state", labels=["state"])
        states: dict[str, int] = {}
        for w in vitals.workers:
            states[w.state] = states.get(w.state, 0) + 1
        for state in ("idle", "busy"):
            states.setdefault(state, 0)
        for state, count in sorted(states.items()):
            workers.add_metric([state], count)
        yield workers
        yield GaugeMetricFamily("gridline_live_workers", "Workers whose heartbeat is current", value=len(vitals.workers))

    up = GaugeMetricFamily("gridline_source_up", "1 when the source answered this scrape", labels=["source"])
    for source in ("database", "redis"):
        up.add_metric([source], 0 if source in vitals.errors else 1)
    yield up


def _le(bound: float) -> str:
    return repr(float(bound))


def render(vitals: Vitals) -> bytes:
    class Collector:
        def collect(self):
            return families(vitals)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    return generate_latest(registry)


@bp.get("/metrics")
def metrics():
    vitals = snapshot(current_app.extensions["gridline"])
    return Response(render(vitals), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
