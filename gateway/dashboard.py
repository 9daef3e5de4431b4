"""Console figures: the dashboard over a period with drill-down from district to grid, the
ranking for 考核, and the Excel exports (figures and any filtered case list). Routes on the
console blueprint; the figures come from gateway.stats (SQL aggregates, access inside)."""
from __future__ import annotations

import os
from datetime import date, timedelta

from flask import abort, g, render_template, request, send_file

from models import STATUSES, to_local
from models.case import CHANNELS
from workers import directory

from . import audit, params
from .caseviews import case_query, viewer_of
from .console import _vitals_panel, bp, login_required, rt
from .stats import BY, HEADERS, MEMBER_HEADERS, Figures, StatsError, parse_period, this_month

RANK_KEYS = ("closure_rate", "on_time_rate", "first_time_rate", "satisfaction_rate", "local_rate", "on_the_spot_rate",
             "received", "closed", "patrol", "visits")
BY_WORDS = {"street": "街道", "community": "社区", "grid": "网格", "team": "团队", "member": "成员",
            "department": "职能部门", "category": "类别"}
EXPORT_LIMIT = 1_000_000
RANK_SHOWN = 200  # the page shows the top; the Excel export has every row


@bp.app_template_filter("pct")
def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def quick_periods(today: date) -> list[tuple[str, date, date]]:
    month = this_month(today)
    last_month = this_month(month.start - timedelta(days=1))
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return [("本月", month.start, month.end), ("上月", last_month.start, last_month.end),
            ("本季度", quarter_start, today), ("本年", date(today.year, 1, 1), today),
            ("近 7 天", today - timedelta(days=6), today)]


def _figures(db, area: str | None = None) -> Figures:
    runtime = rt()
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), to_local(runtime.now()).date())
        return Figures(db, viewer_of(g.user), period, area, runtime.rules.classifier.labels())
    except StatsError as exc:
        abort(exc.status, str(exc))


def _start_area(known) -> str | None:
    """The area the dashboard opens on: the one asked for, a supervisor's own, or the single root."""
    if request.args.get("area"):
        return request.args["area"]
    if g.user.role == "supervisor" and g.user.area_id in known.areas:
        return known.areas[g.user.area_id].code
    return known.areas[known.roots[0]].code if len(known.roots) == 1 else None


def _breadcrumb(known, code: str | None) -> list:
    area = next((a for a in known.areas.values() if a.code == code), None) if code else None
    if area is None:
        return []
    chain = [known.areas[i] for i in reversed(known.lineage(area.id))]
    if g.user.role == "supervisor":  # a supervisor cannot climb above their own area
        ids = [a.id for a in chain]
        chain = chain[ids.index(g.user.area_id):] if g.user.area_id in ids else chain[-1:]
    return chain


@bp.get("/dashboard")
@login_required()
def dashboard():
    with rt().db.session() as db:
        known = directory.current(db)
        area = _start_area(known)
        figures = _figures(db, area)
        view = {"totals": figures.totals(), "children": figures.rows("children"),
                "by_category": figures.rows("category"), "by_team": figures.rows("team")[:8],
                "by_department": [r for r in figures.rows("department") if r["key"]]}
    return render_template("console/dashboard.html", v=view, period=figures.period, area=area,
                           breadcrumb=_breadcrumb(known, area), quick=quick_periods(to_local(rt().now()).date()),
                           headers=HEADERS, vitals=_vitals_panel(rt()))


@bp.get("/ranking")
@login_required()
def ranking():
    by = request.args.get("by") or "grid"
    sort = request.args.get("sort") or "closure_rate"
    if by not in BY or sort not in RANK_KEYS:
        abort(400, "排名维度或排序指标无效")
    with rt().db.session() as db:
        figures = _figures(db, request.args.get("area") or None)
        rows = figures.rows(by)
    # Rates rank with the empty (no cases) last; ties keep the larger caseload first.
    rows.sort(key=lambda r: (r[sort] is None, -(r[sort] or 0), -r["received"]))
    return render_template("console/ranking.html", rows=rows[:RANK_SHOWN], total=len(rows), by=by, sort=sort, period=figures.period,
                           area=request.args.get("area") or "", by_words=BY_WORDS, headers={**HEADERS, **MEMBER_HEADERS},
                           rank_keys=RANK_KEYS, quick=quick_periods(to_local(rt().now()).date()))


def _send(path: str, name: str):
    response = send_file(path, as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.call_on_close(lambda: os.path.exists(path) and os.unlink(path))
    return response


@bp.get("/figures.xlsx")
@login_required()
def figures_xlsx():
    from .export import temp_path, write_figures

    by = request.args.get("by") or "children"
    if by not in BY + ("children",):
        abort(400, "统计维度无效")
    with rt().db.session() as db:
        known = directory.current(db)
        area = request.args.get("area") or (_start_area(known) if by == "children" else None)
        figures = _figures(db, area)
        report = figures.report(by)
    path = temp_path()
    write_figures(path, report, f"统计区间 {figures.period.label()}（北京时间）{'，区域 ' + area if area else ''}")
    return _send(path, f"gridline-figures-{figures.period.start}-{figures.period.end}.xlsx")


@bp.get("/cases.xlsx")
@login_required()
def cases_xlsx():
    """The case list as filtered on the cases page (and, if given, received within from/to)."""
    from .export import temp_path, write_cases

    runtime = rt()
    filters = params.case_filters(request.args, STATUSES, CHANNELS, [*runtime.rules.classifier.labels(), "unclassified"])
    period = None
    if request.args.get("from") or request.args.get("to"):
        try:
            period = parse_period(request.args.get("from"), request.args.get("to"), to_local(runtime.now()).date())
        except StatsError as exc:
            abort(400, str(exc))
    path = temp_path()
    with runtime.db.session() as db:
        query = case_query(viewer_of(g.user), filters, db.get_bind().dialect.name, period)
        count = write_cases(path, db, query, runtime.rules.classifier.labels(), EXPORT_LIMIT)
        # One audit row for the export (not one per case), naming what was exported.
        chosen = " ".join(f"{k}={v}" for k, v in filters.items()) + (f" 受理于 {period.label()}" if period else "")
        audit.record(db, g.user.username, g.user.role, "export", "console", [None], request.remote_addr or "",
                     f"案件清单 Excel {count} 件 {chosen}".strip())
    return _send(path, f"gridline-cases-{to_local(runtime.now()).strftime('%Y%m%d-%H%M')}.xlsx")


@bp.get("/worklogs")
@login_required()
def worklogs():
    """民情日志: members' visit and work-log entries, within the viewer's areas, newest first."""
    import sqlalchemy as sa

    from models import WorkLog

    from . import scope
    from .caseviews import paged

    page, per_page = params.paging(request.args)
    area = request.args.get("area") or None
    with rt().db.session() as db:
        figures = _figures(db, area)
        period = figures.period
        query = sa.select(WorkLog).where(scope.area_visible(viewer_of(g.user), WorkLog.area_id),
                                         WorkLog.created_at >= period.start_utc, WorkLog.created_at < period.end_utc)
        if area:
            query = query.where(scope.in_area(WorkLog.area_id, area))
        result = paged(db, query, (WorkLog.id.desc(),), page, per_page)
        known = directory.current(db)
        entries = [{"log": r, "area": known.areas[r.area_id].name if r.area_id in known.areas else "—"}
                   for r in result.cases]
    return render_template("console/worklogs.html", entries=entries, result=result, period=period, area=area or "",
                           quick=quick_periods(to_local(rt().now()).date()))
