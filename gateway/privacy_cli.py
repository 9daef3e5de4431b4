"""`gridline privacy erase|sweep` and `gridline audit`: residents' personal information (PIPL)."""
from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup


def _cli():
    from . import cli

    return cli


def cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:?"


privacy = AppGroup("privacy", help="Residents' personal information: erasure and retention.")


@privacy.command("erase", with_appcontext=False)
@click.option("--phone", required=True, help="the resident's phone (any format)")
@click.option("--json", "as_json", is_flag=True)
def erase(phone, as_json):
    """A deletion request: anonymise the phone and its texts in cases, SMS and calls, delete the
    resident row, keep the figures; prints what changed."""
    from models.phones import InvalidPhone, mask, to_e164
    from workers.privacy import erase_phone

    from .audit import record

    cli = _cli()
    try:
        e164 = to_e164(phone)
    except InvalidPhone as exc:
        cli._fail(f"--phone: {exc}")
    rt = cli._rt()
    with rt.db.session() as session:
        changes = erase_phone(session, e164, rt.now())
        record(session, cli_user(), "", "erase", "cli", changes.case_ids or [None],
               detail=f"删除请求 {mask(e164)}: {changes.counts}")
    if as_json:
        cli._echo_json(dict(changes.to_dict(), phone=mask(e164)))
        return
    if not changes.counts:
        click.echo(f"{mask(e164)}: 没有找到相关数据，未做改动")
    else:
        click.echo(f"{mask(e164)} 已匿名化（统计数字保留）:")
        for table, count in changes.counts.items():
            click.echo(f"  {table}: {count}")
        if changes.case_ids:
            click.echo(f"  涉及案件: {', '.join(changes.to_dict()['cases'])}")
    for note in changes.notes:
        click.echo(f"  注意: {note}")


@privacy.command("sweep", with_appcontext=False)
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="retention in days (default: privacy.retention_days or GRIDLINE_RETENTION_DAYS)")
def sweep(days):
    """Anonymise closed cases past the retention period now (the scheduler does it hourly)."""
    from workers.jobs.retention import sweep_retention

    cli = _cli()
    rt = cli._rt()
    if days is not None:
        rt.retention_days = days
    if rt.retention_days <= 0:
        cli._fail("未设置保存期限：在 routing_rules.yaml 的 privacy.retention_days 或 GRIDLINE_RETENTION_DAYS 中设置天数，或用 --days")
    total = 0
    while True:
        count = sweep_retention()
        total += count
        if count == 0:
            break
    click.echo(f"已匿名化结案超过 {rt.retention_days} 天的案件 {total} 件")


@click.command("audit")
@click.option("--case", "number", default=None, help="one case number")
@click.option("--user", "username", default=None)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True)
def audit_command(number, username, limit, as_json):
    """Who viewed, listed, exported or erased which case, newest first."""
    from models import Case

    from .audit import ACTION_WORDS, query

    cli = _cli()
    case_id = None
    if number:
        case_id = Case.id_from_number(number)
        if case_id is None:
            cli._fail("--case: 案件编号应为 6 到 8 位数字")
    with cli._rt().db.session() as session:
        rows = query(session, case_id=case_id, username=username, limit=limit)
    if as_json:
        cli._echo_json([r.to_dict() for r in rows])
        return
    if not rows:
        click.echo("没有访问记录")
    for r in rows:
        click.echo(f"{r.to_dict()['at']} {r.username:<16} {ACTION_WORDS.get(r.action, r.action):<4} "
                   f"{r.case or '-':<8} {r.channel:<8} {r.address} {r.detail}")
