"""`gridline stats`: the figures of /api/v1/stats on the command line (whole district scope),
as a table, one JSON document (--json) or an Excel file (--xlsx)."""
from __future__ import annotations

import click

from .cli import _echo_json, _fail, _rt, command

COLUMNS = ("received", "closed", "closure_rate", "on_time_rate", "first_time_rate", "satisfaction_rate", "local_rate",
           "patrol", "on_the_spot", "visits")


def _cell(value) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if isinstance(value, float) else str(value)


@command("stats")
@click.option("--from", "start", default=None, help="first day, YYYY-MM-DD (default: the 1st of this month)")
@click.option("--to", "end", default=None, help="last day, included (default: the end of this month)")
@click.option("--area", default=None, help="area code: that area's subtree only")
@click.option("--by", default=None, type=click.Choice(["street", "community", "grid", "team", "member", "department",
                                                        "category"]))
@click.option("--json", "as_json", is_flag=True)
@click.option("--xlsx", "xlsx", default=None, type=click.Path(dir_okay=False, writable=True), help="write an Excel file")
def stats(start, end, area, by, as_json, xlsx):
    """Figures over a period: 办结率, 按期办结率, 一次办结率, 满意率 ... (local days, both included)."""
    from models import to_local

    from .access import Viewer
    from .export import write_figures
    from .stats import HEADERS, Figures, StatsError, parse_period

    rt = _rt()
    try:
        period = parse_period(start, end, to_local(rt.now()).date())
        with rt.db.session() as session:
            report = Figures(session, Viewer("admin"), period, area, rt.rules.classifier.labels()).report(by)
    except StatsError as exc:
        _fail(f"统计参数错误：{exc}")
    if xlsx:
        write_figures(xlsx, report, f"统计区间 {period.label()}（北京时间）{'，区域 ' + area if area else ''}")
    if as_json:
        _echo_json(report)
        return
    click.echo(f"统计区间 {period.label()}（北京时间，按受理日期）{'，区域 ' + area if area else ''}")
    header = ["名称"] + [HEADERS[c] for c in COLUMNS]
    lines = [[("合计")] + [_cell(report["totals"][c]) for c in COLUMNS]]
    lines += [[r["name"]] + [_cell(r[c]) for c in COLUMNS] for r in report["rows"]]
    click.echo("\t".join(header))
    for line in lines:
        click.echo("\t".join(line))
    if xlsx:
        click.echo(f"已写入 {xlsx}")
