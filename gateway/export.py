"""Excel (.xlsx) exports: the figures, and any filtered case list, with Chinese headers and
Beijing times. XlsxWriter in constant_memory mode writes row by row to temporary files, and the
cases are read in batches (a server-side cursor on PostgreSQL), so memory stays flat however
many rows are exported."""
from __future__ import annotations

import os
import tempfile

import sqlalchemy as sa
import xlsxwriter
from sqlalchemy.orm import Session

from models import NUMBER_BASE, Case, to_local
from models.phones import mask
from workers import directory
from workers.casework import RATING_WORDS
from workers.lifecycle import STATUS_WORDS

from .stats import HEADERS, MEMBER_HEADERS

RATE_KEYS = {k for k in HEADERS if k.endswith("_rate")}
SOURCE_WORDS = {"resident": "群众反映", "patrol": "巡查上报", "on_the_spot": "即办"}
CHANNEL_WORDS = {"sms": "短信", "voice": "电话", "operator": "话务登记", "api": "接口"}
URGENCY_WORDS = {"urgent": "紧急", "normal": "一般", "low": "较低"}
CASE_COLUMNS = [("编号", 10), ("受理时间", 17), ("状态", 8), ("类别", 10), ("小类", 12), ("紧急程度", 8),
                ("渠道", 8), ("来源", 8), ("区域", 16), ("办理团队", 20), ("反映人电话", 16), ("受理时限", 17),
                ("办结时限", 17), ("受理于", 17), ("办结于", 17), ("评价", 8), ("超期", 6), ("内容", 60)]
BATCH = 2000


def _workbook(path: str) -> tuple[xlsxwriter.Workbook, dict]:
    # Text is text: no URL or formula detection (a case text starting with "=" stays as typed), and faster.
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "remove_timezone": True, "strings_to_urls": False,
                                      "strings_to_formulas": False})
    formats = {"head": book.add_format({"bold": True, "bg_color": "#DBEAFE", "border": 1}),
               "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
               "rate": book.add_format({"num_format": "0.0%"})}
    return book, formats


def temp_path() -> str:
    handle, path = tempfile.mkstemp(prefix="gridline-", suffix=".xlsx")
    os.close(handle)
    return path


def write_figures(path: str, report: dict, title: str) -> None:
    """One sheet: the totals row, then one row per breakdown key."""
    book, fmt = _workbook(path)
    sheet = book.add_worksheet("统计")
    member = report.get("by") == "member"
    keys = list(HEADERS) + (list(MEMBER_HEADERS) if member else [])
    heads = {**HEADERS, **MEMBER_HEADERS}
    sheet.write(0, 0, title)
    sheet.write_row(1, 0, ["编码", "名称"] + [heads[k] for k in keys], fmt["head"])
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, len(keys) + 1, 11)
    for r, row in enumerate([{"key": "", "name": "合计", **report["totals"]}] + report["rows"], start=2):
        sheet.write(r, 0, row.get("key") or "")
        sheet.write(r, 1, row.get("name") or "")
        for c, key in enumerate(keys, start=2):
            value = row.get(key)
            if value is None:
                sheet.write_blank(r, c, None)
            else:
                sheet.write_number(r, c, value, fmt["rate"] if key in RATE_KEYS else None)
    book.close()


def write_cases(path: str, session: Session, query: sa.Select, labels: dict, limit: int | None = None) -> int:
    """The cases of a Case query (access and filters already in it), newest first; returns rows."""
    known = directory.current(session)
    book, fmt = _workbook(path)
    sheet = book.add_worksheet("案件")
    for c, (_head, width) in enumerate(CASE_COLUMNS):
        sheet.set_column(c, c, width)
    sheet.write_row(0, 0, [h for h, _ in CASE_COLUMNS], fmt["head"])
    columns = query.with_only_columns(
        Case.id, Case.created_at, Case.status, Case.category, Case.subcategory, Case.urgency, Case.channel,
        Case.source, Case.area_id, Case.team_id, Case.reporter_phone, Case.ack_due_at, Case.due_at,
        Case.acknowledged_at, Case.resolved_at, Case.rating, Case.overdue, Case.text,
    ).order_by(Case.id.desc())
    if limit:
        columns = columns.limit(limit)
    count = 0
    result = session.execute(columns.execution_options(yield_per=BATCH))
    for count, row in enumerate(result, start=1):
        area, team = known.areas.get(row.area_id), known.teams.get(row.team_id)
        sheet.write_row(count, 0, [
            str(NUMBER_BASE + row.id), None, STATUS_WORDS.get(row.status, row.status),
            labels.get(row.category, "待分类"), labels.get(row.subcategory, "") if row.subcategory else "",
            URGENCY_WORDS.get(row.urgency, row.urgency), CHANNEL_WORDS.get(row.channel, row.channel),
            SOURCE_WORDS.get(row.source, row.source), area.name if area else "区域未知", team.name if team else "待分派",
            mask(row.reporter_phone) if row.reporter_phone else "",
        ])
        for c, value in ((1, row.created_at), (11, row.ack_due_at), (12, row.due_at), (13, row.acknowledged_at),
                         (14, row.resolved_at)):
            if value is not None:
                sheet.write_datetime(count, c, to_local(value).replace(tzinfo=None), fmt["time"])
        sheet.write_row(count, 15, [RATING_WORDS.get(row.rating, "") if row.rating else "", "是" if row.overdue else "",
                                    row.text])
    book.close()
    return count
