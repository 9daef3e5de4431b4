"""The operator console (/console): server-rendered pages in Chinese, a little JS where it helps.

Login with hashed passwords, a session, CSRF tokens on every form, lockout after repeated
failures. Every page and action checks access by role and area subtree (gateway.access).
"""
from __future__ import annotations

import functools
import io
import secrets

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)

from models import STATUSES, Case, InboundMessage, User, to_local
from models.case import CHANNELS
from models.phones import InvalidPhone, to_e164
from workers import directory
from workers.casework import CaseWork, Actor
from workers.entry import CALL_NOTES, SIMULATOR, accept, clean_text, make_entry
from workers.handoff import unit_of_work
from workers.lifecycle import IllegalStep, STATUS_WORDS
from workers.notify import Notifier
from workers.serialize import case_detail

from . import audit, logins, params
from . import labels as zh
from .caseviews import actionable, find_cases, for_viewer, viewer_of, visible
from .reports import ReportError, submit_report

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
ROLE_WORDS = {"operator": "话务员", "member": "团队成员", "supervisor": "督办人员", "admin": "管理员"}
# Every code's Chinese word lives in gateway/labels.py.
MESSAGE_WORDS = zh.MESSAGES
EVENT_WORDS = zh.EVENTS
DEMO_TRAINEE = "13805710090"  # a resident of the demo district's training grid
CATEGORY_WORDS = {"stability": "维稳", "legal_aid": "法律援助", "petition": "信访", "livelihood": "民生", "unclassified": "待分类"}


def rt():
    return current_app.extensions["gridline"]


def _person(user: User) -> str:
    """How the trail names a console user: role and name."""
    return f"{ROLE_WORDS.get(user.role, user.role)} {user.name or user.username}"


# -- session, CSRF, access ------------------------------------------------------------------
def csrf_ok() -> bool:
    expected = session.get("csrf")
    return bool(expected) and secrets.compare_digest(request.form.get("csrf", ""), expected)


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@bp.before_request
def load_user():
    g.user = None
    if request.method == "POST" and not csrf_ok():
        abort(400, "表单已过期，请刷新页面后重试")
    if session.get("sid"):
        with rt().db.session() as db:
            g.user = logins.session_user(db, session["sid"], rt().now())


@bp.app_context_processor
def helpers():
    def local_iso(value: str | None) -> str:
        from datetime import datetime

        return to_local(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")).strftime("%m-%d %H:%M") if value else ""

    return {"csrf_token": csrf_token, "local": lambda v: to_local(v).strftime("%m-%d %H:%M") if v else "",
            "local_iso": local_iso,
            "status_words": STATUS_WORDS, "role_words": ROLE_WORDS, "category_words": CATEGORY_WORDS,
            "event_words": EVENT_WORDS, "message_words": MESSAGE_WORDS,
            "word": zh.word, "rating_words": zh.RATINGS,
            "labels": rt().rules.classifier.labels()}


def login_required(roles: tuple[str, ...] = ()):
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            if g.user is None:
                return redirect(url_for("console.login", next=request.path))
            if roles and g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return inner
    return wrap


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("console/login.html")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    with rt().db.session() as db:
        outcome = login_guard().check(db, username, password, request.remote_addr or "")
        if outcome.throttled:
            return render_template("console/login.html",
                                   error=f"登录失败次数过多，账号已锁定，请 {outcome.wait_minutes} 分钟后再试"), 429
        user = outcome.user
        if user is None:
            return render_template("console/login.html", error="用户名或密码错误"), 401
        if not user.active:  # told only to someone who knows the password
            return render_template("console/login.html", error="账号已停用，请联系管理员"), 403
        session.clear()  # a new session on login: no fixation
        session["sid"] = logins.open_session(db, user, request.remote_addr or "", rt().now())
        session.permanent = True
    target = request.args.get("next") or ""
    return redirect(target if target.startswith("/console") else url_for("console.cases"))


@bp.post("/logout")
def logout():
    with rt().db.session() as db:
        logins.close_session(db, session.get("sid"))
    session.clear()
    return redirect(url_for("console.login"))


def login_guard() -> logins.LoginGuard:
    guard = current_app.extensions.get("gridline.logins")
    if guard is None:
        guard = current_app.extensions["gridline.logins"] = logins.LoginGuard(rt().redis)
    return guard


@bp.route("/password", methods=["GET", "POST"])
@login_required()
def password():
    """Change one's own password: every other session of the user ends."""
    if request.method == "GET":
        return render_template("console/password.html")
    current, new = request.form.get("current", ""), request.form.get("new", "")
    with rt().db.session() as db:
        user = db.get(User, g.user.id)
        error = logins.change_password(db, user, current, new, request.form.get("confirm", ""))
        if error:
            return render_template("console/password.html", error=error), 422
        session["sid"] = logins.open_session(db, user, request.remote_addr or "", rt().now())
    flash("密码已修改，其他已登录的会话均已退出", "ok")
    return redirect(url_for("console.cases"))


# -- cases -----------------------------------------------------------------------------------
@bp.get("/")
@login_required()
def cases():
    filters = params.case_filters(request.args, STATUSES, CHANNELS, [*rt().rules.classifier.labels(), "unclassified"])
    page = params.integer(request.args, "page", 1, 1, params.MAX_PAGE)
    with rt().db.session() as db:
        result = find_cases(db, viewer_of(g.user), filters, page)
        known = directory.current(db)
        now = rt().now()
        rows = [{"case": c, "area": known.areas[c.area_id].name if c.area_id in known.areas else "区域未知",
                 "team": known.teams[c.team_id].name if c.team_id in known.teams else "待分派",
                 "left": zh.time_left(c.due_at, now, c.status)} for c in result.cases]
        return render_template("console/cases.html", rows=rows, result=result, filters=filters,
                               areas=sorted(known.areas.values(), key=lambda a: a.code),
                               teams=sorted(known.teams.values(), key=lambda t: t.code))


def _load_case(db, number: str) -> Case:
    case = Case.by_number(db, params.case_number(number))
    if case is None:
        abort(404)
    if not visible(db, viewer_of(g.user), case):
        abort(403)
    return case


@bp.get("/cases/<number>")
@login_required()
def case(number: str):
    with rt().db.session() as db:
        item = _load_case(db, number)
        detail = for_viewer(viewer_of(g.user), item, case_detail(db, item))
        audit.record(db, g.user.username, g.user.role, "view", "console", [item.id], request.remote_addr or "")
        known = directory.current(db)
        from models import Call

        calls = db.scalars(sa.select(Call).join(InboundMessage, InboundMessage.id == Call.inbound_id)
                           .where(InboundMessage.case_id == item.id)).all()
        return render_template("console/case.html", case=item, detail=detail, can_act=actionable(db, viewer_of(g.user), item),
                               calls=calls,
                               teams=sorted(known.teams.values(), key=lambda t: t.code),
                               area=known.areas.get(item.area_id), team=known.teams.get(item.team_id))


@bp.get("/cases/<number>/print")
@login_required()
def print_case(number: str):
    """交办单: one printable A4 page per case, for units that work from paper."""
    from models.phones import mask_local, mask_name

    with rt().db.session() as db:
        item = _load_case(db, number)
        detail = case_detail(db, item)
        known = directory.current(db)
        informed = [known.teams[ct.team_id].name for ct in item.informed if ct.team_id in known.teams]
        return render_template("console/print.html", case=item, detail=detail, area=known.areas.get(item.area_id),
                               team=known.teams.get(item.team_id), informed=informed,
                               reporter=mask_name(item.reporter_name), phone=mask_local(item.reporter_phone),
                               category=CaseWork(db, rt(), None, rt().now()).category_label(item), now=rt().now())


@bp.post("/cases/<number>/act")
@login_required()
def act(number: str):
    action = request.form.get("action", "")
    text = clean_text(request.form.get("text", "")).strip()
    runtime = rt()
    now = runtime.now()
    with unit_of_work(runtime) as uow:
        db = uow.session
        item = _load_case(db, number)
        if not actionable(db, viewer_of(g.user), item):
            abort(403)
        notifier = Notifier(db, runtime.provider, runtime.policy, now)
        work = CaseWork(db, runtime, notifier, now)
        actor = Actor(_person(g.user), "console")
        try:
            if action == "note":
                message = work.progress(item, actor, text) if text else None
            elif action == "resolve":
                message = work.resolve(item, actor, text or "已办结")
            elif action == "escalate":
                message = work.escalate(item, actor, text or "话务员上报")
            elif action == "reassign":
                message = work.transfer(item, actor, request.form.get("team", ""))
            elif action == "recategorise":
                if request.form.get("category", "") in (item.subcategory or item.category, ""):
                    raise IllegalStep(f"案件{item.number}已是{work.category_label(item)}，未更改")
                message = _recategorise(work, item, actor, request.form.get("category", ""))
            else:
                abort(400)
            if message is None:
                flash("请填写内容", "error")
                return redirect(url_for("console.case", number=number))
        except IllegalStep as exc:
            flash(str(exc), "error")
            return redirect(url_for("console.case", number=number))
        uow.send(notifier.pending_ids())
    flash(message, "ok")
    return redirect(url_for("console.case", number=number))


def _recategorise(work: CaseWork, item: Case, actor: Actor, value: str) -> str:
    """An operator's correction: recorded with the old and new labels, usable for learning."""
    rules = work.rt.rules.classifier
    if value in rules.categories:
        category, subcategory = value, None
    else:
        parent = next((c for c in rules.categories.values() if value in c.subcategories), None)
        if parent is None:
            raise IllegalStep(f"未知类别 {value}")
        category, subcategory = parent.key, value
    old = (item.category, item.subcategory)
    item.category, item.subcategory = category, subcategory
    item.department = rules.categories[category].subcategories[subcategory].department if subcategory else None
    names = rules.labels()
    before = "·".join(names.get(k, k) for k in old if k) or "待分类"
    work.record(item, "recategorised", actor, f"{before} → {work.category_label(item)}",
                old_category=old[0], old_subcategory=old[1], category=category, subcategory=subcategory, text=item.text)
    return f"案件{item.number}已改为 {work.category_label(item)}"


# -- intake (call notes) -------------------------------------------------------------------------
@bp.route("/intake", methods=["GET", "POST"])
@login_required(("operator", "admin", "supervisor"))
def intake():
    if request.method == "POST":
        phone, notes = request.form.get("phone", ""), request.form.get("notes", "")
        try:
            case_id = submit_report(rt(), CALL_NOTES, phone, notes, g.user.id, _person(g.user))
        except ReportError as exc:
            return render_template("console/intake.html", error=str(exc), phone=phone, notes=notes), 422
        if case_id is None:
            flash("已记录，但未形成案件（见消息结果）", "error")
            return redirect(url_for("console.intake"))
        if request.form.get("category"):
            with rt().db.session() as db:
                item = db.get(Case, case_id)
                runtime = rt()
                work = CaseWork(db, runtime, Notifier(db, runtime.provider, runtime.policy, runtime.now()), runtime.now())
                try:
                    _recategorise(work, item, Actor(_person(g.user), "console"), request.form["category"])
                except IllegalStep:
                    pass
                seen = visible(db, viewer_of(g.user), item)
        else:
            with rt().db.session() as db:
                seen = visible(db, viewer_of(g.user), db.get(Case, case_id))
        from models.case import NUMBER_BASE

        flash(f"已受理，案件编号 {NUMBER_BASE + case_id}，回执短信已发给来电人", "ok")
        if not seen:  # e.g. a stability case: the operator records it, its handlers see it
            return redirect(url_for("console.intake"))
        return redirect(url_for("console.case", number=str(NUMBER_BASE + case_id)))
    return render_template("console/intake.html")


@bp.get("/classify")
@login_required()
def classify_preview():
    text = request.args.get("text", "")[:2000]
    result = rt().classifier.classify(text) if text.strip() else None
    if result is None:
        return jsonify({"category": None})
    labels = rt().rules.classifier.labels()
    data = result.to_dict()
    data["label"] = labels.get(result.category, "待分类") + (f"·{labels[result.subcategory]}" if result.subcategory else "")
    return jsonify(data)


# -- dashboard, ranking, exports: gateway/dashboard.py -----------------------------------------
def _vitals_panel(runtime):
    """Admins see the pipeline's backpressure above the figures (workers.vitals)."""
    if g.user.role != "admin":
        return None
    from workers.vitals import describe, snapshot, within

    vitals = snapshot(runtime)
    return {"v": vitals, "lines": describe(vitals), "within": within}


# -- phone simulator ------------------------------------------------------------------------------
@bp.route("/simulator", methods=["GET", "POST"])
@login_required(("operator", "admin", "supervisor"))
def simulator():
    from . import simulator as sim

    runtime = rt()
    phone = clean_text(request.values.get("phone", "")).strip() or DEMO_TRAINEE
    try:
        e164 = to_e164(phone)
    except InvalidPhone as exc:
        return render_template("console/simulator.html", phone=phone, error=str(exc), conversation=[]), 422
    with runtime.db.session() as db:
        if not sim.training_phone(db, runtime.settings.training_areas, e164):
            return render_template("console/simulator.html", phone=phone, conversation=[],
                                   error="只能模拟培训区域的居民或成员号码（GRIDLINE_TRAINING_AREAS）"), 403
    text = clean_text(request.form.get("text", "")).strip() if request.method == "POST" else ""
    if text:
        accept(runtime, make_entry(SIMULATOR, e164, text, None, runtime.now(), entered_by=g.user.id,
                                   entered_by_label=_person(g.user), to=runtime.settings.short_number))
        return redirect(url_for("console.simulator", phone=phone))
    with runtime.db.session() as db:
        conversation = sim.conversation(db, viewer_of(g.user), e164)
    return render_template("console/simulator.html", phone=phone, conversation=conversation)


# -- base data import (admins) ----------------------------------------------------------------------
# -- accounts (admins) ----------------------------------------------------------------------------
@bp.get("/users")
@login_required(("admin",))
def users():
    from .accounts import list_users

    with rt().db.session() as db:
        rows = list_users(db)
        known = directory.current(db)
        scope_names = {t.code: t.name for t in known.teams.values()} | {a.code: a.name for a in known.areas.values()}
    return render_template("console/users.html", rows=rows, scope_names=scope_names)


@bp.post("/users/<username>/act")
@login_required(("admin",))
def user_act(username):
    from .accounts import AccountError, revoke_tokens, set_active

    action = request.form.get("action", "")
    try:
        with rt().db.session() as db:
            if action in ("disable", "enable"):
                set_active(db, username, action == "enable", by=g.user.username)
                flash(f"用户 {username} 已{'启用' if action == 'enable' else '停用'}", "ok")
            elif action == "revoke":
                token_id = request.form.get("token", "")
                if not (token_id.isascii() and token_id.isdigit()):
                    raise AccountError("缺少令牌编号")
                revoke_tokens(db, username, [int(token_id)])
                flash(f"已撤销 {username} 的令牌 #{token_id}", "ok")
            else:
                raise AccountError(f"未知操作 {action!r}")
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.users"))


@bp.get("/audit")
@login_required(("admin",))
def audit_log():
    """Who viewed, listed, exported or erased which case (admins only)."""
    number = params.text(request.args, "case", 8)
    username = params.text(request.args, "user", 64)
    with rt().db.session() as db:
        case_id = Case.id_from_number(params.case_number(number)) if number else None
        rows = audit.query(db, case_id=case_id, username=username)
    return render_template("console/audit.html", rows=rows, case=number, user=username,
                           action_words=audit.ACTION_WORDS)


@bp.route("/import", methods=["GET", "POST"])
@login_required(("admin",))
def import_data():
    if request.method == "GET":
        return render_template("console/import.html")
    from models.imports import FileError, import_rows, read_rows
    from models.team import STOCK_TEAM_KINDS

    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    if kind not in ("areas", "teams", "members", "residents") or upload is None:
        return render_template("console/import.html", error="请选择数据类型和 CSV 文件"), 422
    try:
        text = upload.read().decode("utf-8-sig")
        rows = read_rows(kind, io.StringIO(text))
    except UnicodeDecodeError:
        return render_template("console/import.html", error="文件不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）"), 422
    except FileError as exc:
        return render_template("console/import.html", error=str(exc)), 422
    kinds = set(STOCK_TEAM_KINDS) | {s.department for c in rt().rules.classifier.categories.values() for s in c.subcategories.values()}
    with rt().db.session() as db:
        report = import_rows(db, kind, rows, kinds)
    directory.invalidate()
    return render_template("console/import.html", report=report)

