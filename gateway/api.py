"""JSON API /api/v1 (token required): create a report, get a case, list cases. See docs/api.md."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from models import Case
from workers.serialize import case_detail, case_summary

from .caseviews import FILTERS, find_cases, user_for_token, viewer_of, visible
from .reports import ReportError, submit_report

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, message: str):
    return jsonify({"error": message}), status


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


@bp.post("/reports")
def create_report():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error(400, "请求体应为 JSON 对象：{\"phone\": ..., \"text\": ...}")
    rt = current_app.extensions["gridline"]
    try:
        case_id = submit_report(rt, str(data.get("phone") or ""), str(data.get("text") or ""), "api", f"api:{g.username}")
    except ReportError as exc:
        return error(422, str(exc))
    if case_id is None:
        return jsonify({"case": None, "note": "已记录，未形成案件（见消息结果）"}), 202
    with rt.db.session() as session:
        case = session.get(Case, case_id)
        return jsonify(case_summary(case)), 201


@bp.get("/cases/<number>")
def get_case(number: str):
    rt = current_app.extensions["gridline"]
    with rt.db.session() as session:
        case = Case.by_number(session, number)
        if case is None:
            return error(404, f"案件 {number} 不存在")
        if not visible(session, g.viewer, case):
            return error(403, "无权查看该案件")
        return jsonify(case_detail(session, case))


@bp.get("/cases")
def list_cases():
    rt = current_app.extensions["gridline"]
    try:
        page = int(request.args.get("page", 1))
        per_page = min(200, int(request.args.get("per_page", 50)))
    except ValueError:
        return error(400, "page 和 per_page 应为整数")
    filters = {k: request.args.get(k) for k in FILTERS if request.args.get(k)}
    with rt.db.session() as session:
        result = find_cases(session, g.viewer, filters, page, per_page)
        return jsonify({"cases": [case_summary(c) for c in result.cases], "total": result.total, "page": result.page,
                        "pages": result.pages})
