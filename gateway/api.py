"""JSON API /api/v1 (token required): create a report, get a case, list cases. See docs/api.md.

Every parameter is checked (gateway.params): a bad one answers 400 with {"error": "…"}. Phones
are masked unless the caller's role needs them (access.sees_phones); every case shown is
recorded in the access audit."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from models import STATUSES, Case, to_local
from models.case import CHANNELS
from workers.entry import API
from workers.serialize import case_detail, case_summary

from . import audit, params
from .caseviews import find_cases, for_viewer, user_for_token, viewer_of, visible
from .console import ROLE_WORDS
from .reports import ReportError, submit_report

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, message: str):
    return jsonify({"error": message}), status


@bp.errorhandler(params.BadParam)
def bad_param(exc: params.BadParam):
    return error(400, str(exc))


@bp.before_request
def authenticate():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return error(401, "需要令牌：Authorization: Bearer <token>")
    rt = current_app.extensions["gridline"]
    with rt.db.session() as session:
        user = user_for_token(session, header[7:].strip())
        if user is None:
            return error(401, "令牌无效")
        g.user_id, g.viewer, g.username = user.id, viewer_of(user), user.username
        g.user_label = f"{ROLE_WORDS.get(user.role, user.role)} {user.name or user.username}（接口）"


def shown(case: Case, data: dict) -> dict:
    return for_viewer(g.viewer, case, data)


def _audit(session, action: str, cases: list[Case], detail: str = "") -> None:
    audit.record(session, g.username, g.viewer.role, action, "api", [c.id for c in cases],
                 request.remote_addr or "", detail)


@bp.post("/reports")
def create_report():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error(400, "请求体应为 JSON 对象：{\"phone\": ..., \"text\": ...}")
    rt = current_app.extensions["gridline"]
    try:
        case_id = submit_report(rt, API, str(data.get("phone") or ""), str(data.get("text") or ""), g.user_id,
                                g.user_label)
    except ReportError as exc:
        return error(422, str(exc))
    if case_id is None:
        return jsonify({"case": None, "note": "已记录，未形成案件（见消息结果）"}), 202
    with rt.db.session() as session:
        case = session.get(Case, case_id)
        if not visible(session, g.viewer, case):  # the caller learns the number, nothing of a case they may not see
            return jsonify({"number": case.number, "note": "已立案；该案件不在您的查看范围"}), 201
        return jsonify(shown(case, case_summary(case))), 201


@bp.get("/cases/<number>")
def get_case(number: str):
    params.case_number(number)
    rt = current_app.extensions["gridline"]
    with rt.db.session() as session:
        case = Case.by_number(session, number)
        if case is None:
            return error(404, f"案件 {number} 不存在")
        if not visible(session, g.viewer, case):
            return error(403, "无权查看该案件")
        _audit(session, "view", [case])
        return jsonify(shown(case, case_detail(session, case)))


@bp.get("/cases")
def list_cases():
    rt = current_app.extensions["gridline"]
    page, per_page = params.paging(request.args)
    filters = params.case_filters(request.args, STATUSES, CHANNELS, [*rt.rules.classifier.labels(), "unclassified"])
    with rt.db.session() as session:
        result = find_cases(session, g.viewer, filters, page, per_page)
        _audit(session, "list", result.cases)
        return jsonify({"cases": [shown(c, case_summary(c)) for c in result.cases], "total": result.total,
                        "page": result.page, "pages": result.pages})


@bp.get("/stats")
def stats():
    """Figures over a period within the caller's scope (gateway.stats; docs/api.md)."""
    from .stats import BY, Figures, StatsError, parse_period

    rt = current_app.extensions["gridline"]
    by = request.args.get("by") or None
    if by is not None and by not in BY:
        return error(400, f"by 应为 {' / '.join(BY)} 之一")
    try:
        period = parse_period(request.args.get("from"), request.args.get("to"), to_local(rt.now()).date())
        with rt.db.session() as session:
            figures = Figures(session, g.viewer, period, request.args.get("area") or None, rt.rules.classifier.labels())
            return jsonify(figures.report(by))
    except StatsError as exc:
        return error(exc.status, str(exc))
