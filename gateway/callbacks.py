"""The 回访 queue: resolved cases whose reporter is rated by a phone call (a landline, or a
report asking to be called back; workers.returnvisit). The operator records 满意 / 基本满意 /
不满意 with a note, which closes or reopens the case exactly as an SMS rating does."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for

from models import Case
from workers import directory
from workers.casework import RATING_WORDS, Actor, CaseWork
from workers.jobs.outbound import send_outbound
from workers.notify import Notifier

from . import params, scope
from .caseviews import paged, viewer_of
from .console import ROLE_WORDS, _load_case, bp, login_required, rt

STAFF = ("operator", "admin", "supervisor")
OUTCOMES = ("satisfied", "basically_satisfied", "dissatisfied")


def queue_query(viewer):
    return (sa.select(Case).where(scope.visible(viewer), Case.status == "resolved", Case.awaiting == "rating",
                                  Case.contact == "phone"))


@bp.get("/callbacks")
@login_required(STAFF)
def callbacks():
    page, per_page = params.paging(request.args)
    with rt().db.session() as db:
        result = paged(db, queue_query(viewer_of(g.user)), (Case.resolved_at, Case.id), page, per_page)
        known = directory.current(db)
        entries = [{"case": c, "team": known.teams[c.team_id].name if c.team_id in known.teams else "—"}
                   for c in result.cases]
    return render_template("console/callbacks.html", entries=entries, result=result,
                           outcomes={k: RATING_WORDS[k] for k in OUTCOMES})


@bp.post("/cases/<number>/callback")
@login_required(STAFF)
def record_callback(number: str):
    outcome, note = request.form.get("outcome", ""), request.form.get("note", "").strip()[:500]
    if outcome not in OUTCOMES:
        abort(400, "请选择回访结果：满意、基本满意或不满意")
    runtime = rt()
    now = runtime.now()
    with runtime.db.session() as db:
        case = _load_case(db, number)
        if case.status != "resolved" or case.awaiting != "rating":
            flash(f"案件{case.number}不在待回访状态", "error")
            return redirect(url_for("console.callbacks"))
        notifier = Notifier(db, runtime.provider, runtime.policy, now)
        work = CaseWork(db, runtime, notifier, now)
        actor = Actor(f"{ROLE_WORDS[g.user.role]} {g.user.name or g.user.username}（电话回访）", "phone")
        work.record(case, "phone_visit", actor, f"{RATING_WORDS[outcome]}{'：' + note if note else ''}")
        work.rate(case, actor, outcome)
        outbound = notifier.pending_ids()
        result = "已重新打开并退回办理团队" if outcome == "dissatisfied" else "已结案"
    if outbound:
        send_outbound.enqueue(runtime.redis, outbound)
    flash(f"案件{number}回访：{RATING_WORDS[outcome]}，{result}", "ok")
    return redirect(url_for("console.callbacks"))
