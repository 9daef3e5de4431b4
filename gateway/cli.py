"""The `gridline` command: thin wrappers around plain functions. UTF-8 output; --json prints one
JSON document."""
from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from functools import lru_cache
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy.orm import selectinload

from gateway import labels as zh
from workers.settings import ConfigError, load_settings

DEMO_DIR = Path(__file__).resolve().parents[1] / "models" / "demo"


def _fail(message: str, code: int = 2):
    click.echo(message, err=True)
    sys.exit(code)


@lru_cache(maxsize=1)
def _app():
    from . import create_app

    try:
        app = create_app()
    except ConfigError as exc:  # one line per mistake
        _fail("\n".join(f"配置错误 {line}" for line in str(exc).splitlines()))
    # An embedded Redis started by this command is stopped when it exits (its queue is kept on
    # disk); `gridline dev` starts one for all its children first.
    atexit.register(lambda: app.extensions["gridline"].close(stop_embedded=True))
    return app


def _rt():
    return _app().extensions["gridline"]


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(cls=AppGroup, help="Gridline: SMS and hotline gateway for grid-based community governance.")
def cli():
    pass


def command(*args, **kwargs):
    return cli.command(*args, with_appcontext=False, **kwargs)


# -- schema and base data ------------------------------------------------------------------
db = AppGroup("db", help="Database schema.")
cli.add_command(db)


@db.command("upgrade", with_appcontext=False)
def db_upgrade():
    """Create or migrate the schema to the newest revision."""
    rt = _rt()
    rt.db.upgrade()
    click.echo(f"数据库已是最新版本 {rt.db.current_revision()} ({rt.db.dialect})")


def _import_file(kind: str, path: str, as_json: bool) -> None:
    from models.imports import FileError, import_rows, read_rows
    from models.team import STOCK_TEAM_KINDS

    rt = _rt()
    try:
        rows = read_rows(kind, path)
    except FileError as exc:
        _fail(f"{path}: {exc}")
    except OSError as exc:
        _fail(f"{path}: 无法读取 ({exc.strerror})")
    kinds = set(STOCK_TEAM_KINDS) | {r.handler for r in rt.policy.routes.values()}
    for route in rt.policy.routes.values():
        kinds |= set(route.inform) | set(route.inform_if_urgent)
    kinds |= {sub.department for cat in rt.rules.classifier.categories.values() for sub in cat.subcategories.values()}
    kinds.discard("department")
    with rt.db.session() as session:
        report = import_rows(session, kind, rows, kinds)
    from workers import directory

    directory.invalidate()  # this process routes with the new data at once; workers within 30 s
    if as_json:
        _echo_json(report.to_dict())
        return
    click.echo(f"{kind}: 新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，拒绝 {len(report.rejected)}")
    for line, reason in report.rejected:
        click.echo(f"  第 {line} 行: {reason}")


@cli.group("import", cls=AppGroup, help="Import base data from CSV (UTF-8, header row).")
def import_group():
    pass


for _kind, _columns in (("areas", "code,name,level,parent_code[,aliases]"), ("teams", "code,name,kind,area_code"),
                        ("members", "phone,name,team_code,role"), ("residents", "phone,name,area_code,address")):
    def _make(kind=_kind, columns=_columns):
        @import_group.command(kind, with_appcontext=False, help=f"Import {kind}: columns {columns}.")
        @click.argument("file", type=click.Path(dir_okay=False))
        @click.option("--json", "as_json", is_flag=True)
        def _command(file, as_json):
            _import_file(kind, file, as_json)
    _make()


DEMO_USERS = (("admin", "管理员", "admin", None, None), ("operator", "话务员小王", "operator", None, None),
              ("supervisor", "东湖街道督办", "supervisor", None, "DH-S1"),
              ("member", "湖畔一网格", "member", "DH-S1-C1-G1-T", None), ("member2", "桃源二网格", "member", "DH-S2-C2-G2-T", None))
DEMO_PASSWORD = "gridline-demo"


@command()
def demo():
    """Load the bundled demo district (areas, teams, members, residents) and demo console users."""
    for kind in ("areas", "teams", "members", "residents"):
        _import_file(kind, str(DEMO_DIR / f"{kind}.csv"), as_json=False)
    for username, name, role, team, area in DEMO_USERS:
        save_user(username, DEMO_PASSWORD, role, team, area, name)
    click.echo(f"控制台演示账号: {', '.join(u[0] for u in DEMO_USERS)}，密码 {DEMO_PASSWORD}（仅供演示，上线前请用 gridline users disable 用户名 停用）")


def save_user(username: str, password: str, role: str, team_code: str | None, area_code: str | None, name: str = "") -> None:
    from gateway.logins import set_password
    from models import Area, Team, User
    from models.user import ROLES

    if role not in ROLES:
        _fail(f"--role: 应为 {', '.join(ROLES)} 之一")
    if len(password) < 8:
        _fail("密码至少 8 位")
    with _rt().db.session() as session:
        team = session.scalar(sa.select(Team).where(Team.code == team_code)) if team_code else None
        area = Area.by_code(session, area_code) if area_code else None
        if team_code and team is None:
            _fail(f"--team: 团队 {team_code} 不存在")
        if area_code and area is None:
            _fail(f"--area: 区域 {area_code} 不存在")
        if role == "member" and team is None:
            _fail("团队成员需要 --team")
        if role == "supervisor" and area is None:
            _fail("督办人员需要 --area")
        user = session.scalar(sa.select(User).where(User.username == username)) or User(username=username)
        user.name, user.role = name or user.name or username, role
        set_password(session, user, password)  # a changed password ends the user's console sessions
        user.team_id, user.area_id = (team.id if team else None), (area.id if area else None)
        user.active, user.failed_logins, user.locked_until = True, 0, None
        session.add(user)


users = AppGroup("users", help="Console users.")
cli.add_command(users)


@users.command("add", with_appcontext=False)
@click.argument("username")
@click.option("--role", required=True, help="operator, member, supervisor or admin")
@click.option("--team", "team_code", default=None, help="team code (members)")
@click.option("--area", "area_code", default=None, help="area code (supervisors: their subtree)")
@click.option("--name", default="")
@click.password_option()
def users_add(username, role, team_code, area_code, name, password):
    """Create or update a console user (password hashed)."""
    save_user(username, password, role, team_code, area_code, name)
    click.echo(f"用户 {username} 已保存（{role}）")


@users.command("list", with_appcontext=False)
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json):
    """Console users with role, team or area, state and API tokens."""
    from gateway.accounts import list_users

    with _rt().db.session() as session:
        rows = list_users(session)
    if as_json:
        _echo_json([r.to_dict() for r in rows])
        return
    for r in rows:
        scope = r.team or r.area or ""
        tokens = "、".join(f"#{t.id} {t.name}" for t in r.tokens) or "无令牌"
        click.echo(f"{r.username:<16} {r.role:<10} {scope:<16} {'启用' if r.active else '停用'}  {tokens}")


@users.command("disable", with_appcontext=False)
@click.argument("username")
def users_disable(username):
    """Switch a user off: no login, open sessions end, API tokens stop working. Not deleted:
    case trails name the people who acted. `users add` switches them on again."""
    from gateway.accounts import AccountError, set_active

    try:
        with _rt().db.session() as session:
            set_active(session, username, False)
    except AccountError as exc:
        _fail(str(exc))
    click.echo(f"用户 {username} 已停用")


@users.command("revoke", with_appcontext=False)
@click.argument("username")
@click.argument("token_ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="revoke every token of the user")
def users_revoke(username, token_ids, every):
    """Revoke API tokens by id (see `users list`), or all of a user's tokens with --all."""
    from gateway.accounts import AccountError, revoke_tokens

    if not token_ids and not every:
        _fail("请给出令牌编号（gridline users list 可查），或用 --all 撤销全部")
    try:
        with _rt().db.session() as session:
            count = revoke_tokens(session, username, None if every else list(token_ids))
    except AccountError as exc:
        _fail(str(exc))
    click.echo(f"已撤销 {username} 的 {count} 个令牌")


@cli.command("token", with_appcontext=False)
@click.argument("username")
@click.option("--name", default="api", help="what the token is for")
def token_create(username, name):
    """Create an API token for a user; it is shown once."""
    from gateway.caseviews import new_token
    from models import User

    with _rt().db.session() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            _fail(f"用户 {username} 不存在")
        token = new_token(session, user, name)
    click.echo(token)


# -- rules and classification ------------------------------------------------------------------
rules = AppGroup("rules", help="Routing rules.")
cli.add_command(rules)


@rules.command("check", with_appcontext=False)
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def rules_check(file):
    """Validate routing rules; each error names its place in the file."""
    from workers.policy import parse_rules_file

    settings = None
    try:
        settings = load_settings()
    except ConfigError as exc:
        if file is None:
            _fail(f"配置错误 {exc}")
    if file is None:
        file = str(settings.rules_path)
    parsed, problems, filename = parse_rules_file(file)
    if problems:
        for problem in problems:
            click.echo(problem.render(file), err=True)
        _fail(f"{len(problems)} 个错误", 1)
    if settings is not None:  # the providers this configuration sends through need approved templates
        from workers.provider_templates import template_problems

        missing = template_problems(parsed.policy, settings.replace(rules_path=Path(file)))
        for line in missing:
            click.echo(line, err=True)
        if missing:
            _fail(f"{len(missing)} 个错误", 1)
    from datetime import date

    from workers.deadlines import calendar_for

    calendar = calendar_for(parsed.policy.working_time)
    for year in (date.today().year, date.today().year + 1):
        if not calendar.knows_year(year):
            click.echo(f"{file}: 警告 working_time: {year} 年调休安排未收录（chinese_calendar 未覆盖，规则中也未填写）："
                       f"法定节假日已按 holidays 扣除，调休上班的周末未计入；国务院公布放假安排后请填入 "
                       f"working_time.workdays / holidays")
    next_year = date.today().year + 1
    days = calendar.days_off(next_year)
    click.echo(f"{file}: {next_year} 年时限不计的工作日与调休上班日（{len(days)} 天）：")
    for day, name in days:
        click.echo(f"  {day.isoformat()} 周{'一二三四五六日'[day.weekday()]} {name}")
    cats = parsed.classifier.categories
    subs = sum(len(c.subcategories) for c in cats.values())
    words = len(parsed.classifier.all_keywords())
    click.echo(f"{file}: 有效（{len(cats)} 个类别，{subs} 个子类，{words} 个关键词，{len(parsed.policy.templates)} 个短信模板）")


@rules.command("templates", with_appcontext=False)
@click.argument("provider", type=click.Choice(["aliyun", "tencent"]))
def rules_templates(provider):
    """Print every SMS template as the text to submit for approval, and the YAML to paste back."""
    from workers.provider_templates import NOT_SENT, approval_text, placeholders
    from workers.policy import load_rules

    try:
        policy = load_rules(load_settings().rules_path).policy
    except ConfigError as exc:
        _fail(f"配置错误 {exc}")
    mapped = policy.provider_templates.get(provider, {})
    click.echo(f"# 在{'阿里云短信服务 > 国内消息 > 模板管理' if provider == 'aliyun' else '腾讯云短信 > 国内短信 > 正文模板管理'}"
               f"逐条申请（类型：通知短信），审核通过后把模板编号填入 routing_rules.yaml：")
    click.echo("provider_templates:")
    click.echo(f"  {provider}:")
    for key, text in policy.templates.items():
        if key in NOT_SENT:
            continue
        params = mapped[key].params if key in mapped else tuple(placeholders(text))
        template_id = mapped[key].id if key in mapped else ("SMS_待填写" if provider == "aliyun" else "待填写")
        click.echo(f"    # {approval_text(provider, text, params)}")
        click.echo(f"    {key}: {{id: {json.dumps(template_id, ensure_ascii=False)}, params: [{', '.join(params)}]}}")


@command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
def classify(text, as_json):
    """Classify a text: category, department, urgency, confidence, matched keywords, tokens."""
    from classifier.explain import explain_lines
    clf = _classifier(None)
    result = clf.classify(text)
    if as_json:
        _echo_json(result.to_dict())
        return
    labels = clf.rules.labels()
    click.echo(f"类别: {labels.get(result.category, result.category)} ({result.category})")
    for line in explain_lines(result, labels):
        click.echo(line)
    if result.subcategory:
        click.echo(f"子类: {labels[result.subcategory]} ({result.subcategory}) -> {result.department}")
    click.echo(f"紧急程度: {result.urgency}   置信度: {result.confidence:.2f}   得分: {result.score:g}")
    rule_hits = [m for m in result.matched if m.source == "rules"]
    learned = [m for m in result.matched if m.source == "learned"]
    click.echo("命中: " + ("、".join(f"{m.keyword}({m.weight:g})" for m in rule_hits) or "无"))
    if learned:
        click.echo("学习所得: " + "、".join(f"{m.keyword}(+{m.weight:g})" for m in learned))
    if result.negated:
        click.echo("否定: " + "、".join(m.keyword for m in result.negated))
    if result.runner_up:
        click.echo(f"次选: {result.runner_up.category} ({result.runner_up.score:g})，可协同办理")
    click.echo("分词: " + " / ".join(result.tokens))


classifier_group = AppGroup("classifier", help="Evaluate and train the classifier.")
cli.add_command(classifier_group)
LEVELS = click.Choice(["category", "subcategory"])


def _classifier(lexicon: str | None, stock_model: bool | None = None):
    from classifier import Classifier, LearnedModel, LexiconError
    from classifier.places import RulesError
    from classifier.rules import load_classifier_rules

    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(f"配置错误 {exc}")
    try:
        rules = load_classifier_rules(settings.rules_path)
    except RulesError as exc:
        _fail(str(exc))
    lexicon = lexicon or settings.lexicon_path
    try:
        model = LearnedModel.load(lexicon, rules) if lexicon else None
    except LexiconError as exc:
        _fail(f"词典错误 {exc}")
    return Classifier(rules, cache_dir=settings.instance_path / "jieba", model=model, stock_model=stock_model)


@classifier_group.command("eval", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--level", type=LEVELS, default="category", show_default=True)
@click.option("--lexicon", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--no-stock-model", "no_stock", is_flag=True, help="the stock rules alone: signals, then keywords")
@click.option("--json", "as_json", is_flag=True)
def classifier_eval(file, level, lexicon, no_stock, as_json):
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix on text,label."""
    from classifier.evaluate import metrics, predict_label, read_labelled

    try:
        rows = read_labelled(file)
    except ValueError as exc:
        _fail(str(exc))
    from classifier.model import label_target

    clf = _classifier(lexicon, stock_model=False if no_stock else None)
    gold, texts = [], []
    for text, label in rows:
        target = label_target(label, clf.rules)
        if target is None:
            _fail(f"{file}: 未知标签 {label!r}")
        if level == "category":
            gold.append(target[0])
        elif target[1] is not None:  # subcategory scores are over livelihood cases
            gold.append(target[1])
        else:
            continue
        texts.append(text)
    predicted = [predict_label(clf.classify(text), level) for text in texts]
    result = metrics(gold, predicted)
    if as_json:
        _echo_json(result)
        return
    click.echo(f"n={result['n']}  accuracy={result['accuracy']:.3f}  macro_f1={result['macro_f1']:.3f}")
    for label, m in result["per_class"].items():
        click.echo(f"  {label:<24} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f} n={m['support']}")


@classifier_group.command("learn", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--level", type=LEVELS, default="subcategory", show_default=True,
              help="category: learn the four categories (subcategory labels count as livelihood)")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def classifier_learn(file, level, output):
    """Learn from labelled past cases (text,label) a lexicon used on top of the stock rules."""
    from classifier.evaluate import read_labelled
    from classifier.learn import LearnError, cross_validated_macro_f1, learn

    clf = _classifier(None)
    try:
        rows = read_labelled(file)
        model = learn(clf, rows, level)
    except (ValueError, LearnError) as exc:
        _fail(f"{file}: {exc}")
    model.save(output)
    info = model.info
    learner = info["learner"]
    f1 = cross_validated_macro_f1(model)
    click.echo(f"{output}: 来自 {info['cases']} 条案例，{len(model.labels)} 个标签，{info['features']} 个特征（词、词对、二字组）")
    click.echo(f"  模型: {'线性SVM' if learner['kind'] == 'svm' else '逻辑回归'} C={learner['C']:g}，"
               f"规则得分权重 {learner['stock_scale']:g}" + ("，含二字组" if learner.get("char_grams") else "")
               + (f"，{info['folds']} 折交叉验证 macro-F1 {f1:.3f}" if f1 is not None else ""))
    for candidate, value in info["cross_validation"].items():
        click.echo(f"    {candidate:<28} {value:.3f}")


@classifier_group.command("export-corrections", with_appcontext=False)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
def classifier_export(output):
    """Operators' recategorisations as a text,label CSV for `classifier learn`."""
    import csv

    from models import CaseEvent

    with _rt().db.session() as session:
        rows = session.scalars(sa.select(CaseEvent).where(CaseEvent.type == "recategorised").order_by(CaseEvent.id)).all()
        data = [(e.data.get("text", ""), e.data.get("subcategory") or e.data.get("category")) for e in rows]
    with open(output, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(d for d in data if d[0] and d[1])
    click.echo(f"{output}: {len(data)} 条更正")


# -- SMS -----------------------------------------------------------------------------------------
sms = AppGroup("sms", help="SMS tools.")
cli.add_command(sms)


def signed_sms_params(settings, phone: str, text: str) -> dict:
    return {
        "MessageSid": "SM" + uuid.uuid4().hex, "SmsSid": "", "AccountSid": settings.twilio_account_sid,
        "From": phone, "To": settings.short_number, "Body": text, "NumMedia": "0",
        "NumSegments": str(max(1, -(-len(text) // 67))), "ApiVersion": "2010-04-01",
    }


@sms.command("simulate", with_appcontext=False)
@click.option("--from", "phone", required=True, help="sender phone, e.g. 13805710001")
@click.option("--channel", default="twilio", show_default=True, type=click.Choice(["twilio", "aliyun", "tencent", "android"]),
              help="the inbound route to drive, with its real authentication")
@click.option("--url", default=None, help="post to a running server (default: in-process, same code path)")
@click.argument("text")
def sms_simulate(phone, channel, url, text):
    """Deliver an SMS through a channel's real, authenticated inbound route."""
    from twilio.request_validator import RequestValidator

    from models.phones import InvalidPhone, to_e164

    app = _app()
    settings = app.config["GRIDLINE_SETTINGS"]
    try:
        e164 = to_e164(phone)
    except InvalidPhone as exc:
        _fail(f"--from: {exc}")
    if channel != "twilio":
        _simulate_push(app, settings, channel, e164, text, url)
        return
    params = signed_sms_params(settings, e164, text)
    params["SmsSid"] = params["MessageSid"]
    validator = RequestValidator(settings.twilio_auth_token)
    if url:
        import requests

        target = url.rstrip("/") + "/twilio/sms"
        signed_url = f"{settings.public_url}/twilio/sms" if settings.public_url else target
        response = requests.post(target, data=params, timeout=10,
                                 headers={"X-Twilio-Signature": validator.compute_signature(signed_url, params)})
        status = response.status_code
    else:
        signed_url = f"{settings.public_url}/twilio/sms" if settings.public_url else "http://localhost/twilio/sms"
        response = app.test_client().post("/twilio/sms", data=params,
                                          headers={"X-Twilio-Signature": validator.compute_signature(signed_url, params)})
        status = response.status_code
    if status != 200:
        _fail(f"网关拒绝: HTTP {status}", 1)
    click.echo(f"已投递 {params['MessageSid']}（{e164} -> {settings.short_number}）")
    _worker_hint()


def _simulate_push(app, settings, channel: str, e164: str, text: str, url: str | None) -> None:
    from .channels.simulate import NotConfigured, push_for

    try:
        push = push_for(channel, settings, e164, text)
    except NotConfigured as exc:
        _fail(str(exc))
    if url:
        import requests

        response = requests.post(url.rstrip("/") + push.path, data=push.body, headers=push.headers, timeout=10)
        status, answer = response.status_code, response.text
    else:
        response = app.test_client().post(push.path, data=push.body, headers=push.headers)
        status, answer = response.status_code, response.get_data(as_text=True)
    if status != 200:
        _fail(f"网关拒绝: HTTP {status} {answer.strip()}", 1)
    click.echo(f"已投递 {channel}:{push.key}（{e164}），网关应答 {answer.strip()}")
    _worker_hint()


def _worker_hint() -> None:
    from rq import Worker

    try:
        if not Worker.all(connection=_rt().redis):
            click.echo("提示: 没有运行中的 worker，消息已入队；运行 `gridline worker` 或 `make run` 处理。")
    except Exception:  # only a hint; the message is stored either way
        pass


@command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--to", "to", default=None, help="only messages to this phone")
@click.option("--limit", default=200, show_default=True)
def outbox(as_json, to, limit):
    """Outbound messages, newest last: to, body, status, case number, kind."""
    from models import OutboundMessage, to_local
    from models.case import NUMBER_BASE
    from models.phones import InvalidPhone, to_e164
    from workers.serialize import outbound_dict

    query = sa.select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if to:
        try:
            query = query.where(OutboundMessage.to == to_e164(to))
        except InvalidPhone as exc:
            _fail(f"--to: {exc}")
    with _rt().db.session() as session:
        rows = list(reversed(session.scalars(query).all()))
        data = [outbound_dict(m, str(NUMBER_BASE + m.case_id) if m.case_id else None) for m in rows]
    if as_json:
        _echo_json(data)
        return
    if not data:
        click.echo("发件箱为空")
    for m, row in zip(data, rows):
        click.echo(f"#{m['id']} {to_local(row.created_at):%m-%d %H:%M:%S} -> {m['to']} [{m['kind']}] "
                   f"案件 {m['case'] or '-'} {m['status']}\n    {m['body']}")


@command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--status", default=None)
@click.option("--phone", default=None)
@click.option("--limit", default=100, show_default=True)
def cases(as_json, status, phone, limit):
    """List cases, newest first."""
    from models import STATUSES, Case
    from models.phones import InvalidPhone, to_e164
    from workers.serialize import case_summary

    query = sa.select(Case).order_by(Case.id.desc()).limit(limit)
    if status:
        if status not in STATUSES:
            _fail(f"--status: 应为 {', '.join(STATUSES)} 之一")
        query = query.where(Case.status == status)
    if phone:
        try:
            query = query.where(Case.reporter_phone == to_e164(phone))
        except InvalidPhone as exc:
            _fail(f"--phone: {exc}")
    with _rt().db.session() as session:
        found = session.scalars(query.options(selectinload(Case.area), selectinload(Case.team))).all()
        data = [case_summary(c) for c in found]
        from .audit import record
        from .privacy_cli import cli_user

        record(session, cli_user(), "", "list", "cli", [c.id for c in found])
    if as_json:
        _echo_json(data)
        return
    if not data:
        click.echo("没有案件")
    for c in data:
        click.echo(f"{c['number']} {c['status']:<12} {c['category']}/{c['subcategory'] or '-'} {c['urgency']:<6} "
                   f"{c['area'] or '-'} -> {c['team'] or '-'} 时限 {zh.local_text(c['due_at'])}")


case_group = AppGroup("case", help="One case.")
cli.add_command(case_group)


@case_group.command("show", with_appcontext=False)
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
def case_show(number, as_json):
    """One case with its whole event trail and messages."""
    from models import Case
    from workers.serialize import case_detail

    with _rt().db.session() as session:
        case = Case.by_number(session, number)
        if case is None:
            _fail(f"案件 {number} 不存在", 1)
        data = case_detail(session, case)
        from .audit import record
        from .privacy_cli import cli_user

        record(session, cli_user(), "", "view", "cli", [case.id])
    if as_json:
        _echo_json(data)
        return
    click.echo(f"案件 {data['number']}  状态 {data['status']}  {data['category']}/{data['subcategory'] or '-'}  "
               f"{data['urgency']}  渠道 {data['channel']}")
    click.echo(f"区域 {data['area']}  办理 {data['team']}  知会 {', '.join(data['informed_teams']) or '-'}")
    click.echo(f"受理时限 {zh.local_text(data['ack_due_at'])}  办结时限 {zh.local_text(data['due_at'])}  超期 {'是' if data['overdue'] else '否'}")
    rating = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意", "no_response": "未回复"}
    click.echo(f"评价 {rating.get(data['rating'], '-')}  重复反映 {data['repeat_count']} 次  重新打开 {data['reopen_count']} 次  "
               f"上报 {data['escalation_level']} 级")
    click.echo(f"内容: {data['text']}")
    click.echo("轨迹:")
    for e in data["events"]:
        click.echo(f"  {zh.local_text(e['at'])} {zh.word(zh.EVENTS, e['type']):<8} {e['actor']}  {e['note']}")
    click.echo("短信:")
    for m in data["messages"]:
        arrow = f"<- {m['from']}" if m["direction"] == "in" else f"-> {m['to']} [{m['kind']}] {m['status']}"
        click.echo(f"  {zh.local_text(m['at'])} {arrow}: {m['body']}")


# -- processes -----------------------------------------------------------------------------------
@command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json):
    """Queue depths, oldest waiting message, stage figures and live workers (exit 1 if a source fails)."""
    from workers.vitals import describe, snapshot

    vitals = snapshot(_rt())
    if as_json:
        _echo_json(vitals.to_dict())
    else:
        click.echo("\n".join(describe(vitals)))
    if vitals.errors:
        sys.exit(1)


@command()
@click.option("--burst", is_flag=True, help="drain the queues, then exit")
@click.option("--fork/--no-fork", default=False, help="fork a work horse per job (default: run jobs in-process)")
def worker(burst, fork):
    """Run an RQ worker on the inbound, outbound and sweeps queues."""
    from sqlalchemy.orm import configure_mappers

    from workers.process import run_worker
    from workers.queues import ALL_QUEUES

    from .logs import configure_logging

    configure_logging("INFO")
    rt = _rt()
    configure_mappers()
    rt.classifier.classify("预热")  # load jieba and the domain dictionary once, before any fork
    run_worker(rt, ALL_QUEUES, burst=burst, fork=fork, logging_level=os.environ.get("GRIDLINE_LOG_LEVEL", "INFO"))


@command()
def scheduler():
    """Enqueue periodic sweeps (safe to run twice: each tick is claimed once)."""
    from workers.schedule import run_scheduler

    from .logs import configure_logging

    configure_logging("INFO")
    stopping = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__("now", True))
    from workers.liveness import Heartbeat

    heartbeat = Heartbeat(_rt().redis, "scheduler").start()
    try:
        run_scheduler(_rt().redis, stop=lambda: stopping["now"])
    except KeyboardInterrupt:
        pass
    finally:
        heartbeat.stop()


@command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", "processes", default=2, show_default=True, type=int, help="gunicorn worker processes")
def serve(host, port, processes):
    """Serve the web app with gunicorn (gateway.wsgi:app)."""
    _app()  # fail here, with one clear line, on bad configuration
    from .launch import dev_credentials, is_loopback

    if not is_loopback(host):
        found = dev_credentials(_rt(), tuple(u[0] for u in DEMO_USERS), DEMO_PASSWORD)
        if found:
            _fail(f"拒绝在 {host} 上启动：仍在使用开发凭据：{'；'.join(found)}")
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers",
                              str(processes), "--access-logfile", "-", "--log-level", "warning",
                              "--logger-class", "gateway.logs.GunicornLogger", "gateway.wsgi:app"])


@command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def dev(host, port):
    """Run web, worker and scheduler together (Ctrl-C stops all three)."""
    rt = _rt()

    def stop(*_):
        raise KeyboardInterrupt  # SIGTERM (a service manager, `kill`) stops the children like Ctrl-C

    signal.signal(signal.SIGTERM, stop)
    started_redis = rt.embedded_redis.start() if rt.embedded_redis else False
    exe = [sys.executable, "-m", "gateway.cli"]
    children = [
        subprocess.Popen(exe + ["serve", "--host", host, "--port", str(port)]),
        subprocess.Popen(exe + ["worker"]),
        subprocess.Popen(exe + ["scheduler"]),
    ]
    click.echo(f"Gridline 已启动: http://{host}:{port}/healthz  （Ctrl-C 停止）")
    click.echo("试一试: gridline sms simulate --from 13805710001 \"村东头两伙人打起来了\" && sleep 1 && gridline outbox")
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        _fail("一个子进程退出了，正在停止其余进程", 1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if started_redis:
            rt.embedded_redis.stop()


from .privacy_cli import audit_command, privacy  # noqa: E402  (issue 10: PIPL commands)

cli.add_command(privacy)
cli.add_command(audit_command)

from . import cli_stats  # noqa: E402,F401  (gridline stats)


def main():
    cli(prog_name="gridline")


if __name__ == "__main__":
    main()
