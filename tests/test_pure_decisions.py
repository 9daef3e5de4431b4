"""Table tests for the pure decision modules: state machine, working calendar, commands,
conversation intents, routing."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest

from workers.commands import Command, CommandError, CommandParser
from workers.lifecycle import TRANSITIONS, IllegalStep, next_status
from workers.policy import load_rules
from workers.settings import PROJECT_ROOT
from workers.workcal import WorkCalendar

RULES = load_rules(PROJECT_ROOT / "routing_rules.yaml")


@pytest.mark.parametrize("status, action, expected", [
    ("assigned", "acknowledge", "acknowledged"), ("returned", "acknowledge", "acknowledged"),
    ("triage", "acknowledge", "acknowledged"), ("acknowledged", "progress", "in_progress"),
    ("in_progress", "progress", "in_progress"), ("in_progress", "resolve", "resolved"),
    ("assigned", "resolve", "resolved"), ("acknowledged", "return", "returned"),
    ("in_progress", "transfer", "assigned"), ("triage", "transfer", "assigned"),
    ("acknowledged", "escalate", "assigned"), ("resolved", "reopen", "assigned"),
    ("closed", "reopen", "assigned"), ("resolved", "close", "closed"),
])
def test_legal_steps(status, action, expected):
    assert next_status(status, action) == expected


@pytest.mark.parametrize("status, action", [
    ("acknowledged", "acknowledge"), ("closed", "resolve"), ("resolved", "progress"), ("triage", "return"),
    ("assigned", "close"), ("closed", "transfer"), ("in_progress", "reopen"), ("returned", "return"),
])
def test_illegal_steps_say_why(status, action):
    with pytest.raises(IllegalStep) as error:
        next_status(status, action)
    assert "不能" in str(error.value)


def test_every_status_can_be_left_or_is_final():
    reachable = {s for table in TRANSITIONS.values() for s in table}
    assert reachable == {"triage", "assigned", "acknowledged", "in_progress", "returned", "resolved", "closed"}


CAL = WorkCalendar(time(8, 30), time(17, 30))


@pytest.mark.parametrize("start, hours, end", [
    (datetime(2026, 11, 18, 10, 0), 4, datetime(2026, 11, 18, 14, 0)),      # a Wednesday
    (datetime(2026, 11, 18, 16, 0), 4, datetime(2026, 11, 19, 11, 0)),      # runs into Thursday
    (datetime(2026, 11, 20, 16, 0), 4, datetime(2026, 11, 23, 11, 0)),      # Friday -> Monday
    (datetime(2026, 11, 21, 12, 0), 1, datetime(2026, 11, 23, 9, 30)),      # Saturday -> Monday
    (datetime(2026, 9, 30, 16, 0), 4, datetime(2026, 10, 8, 11, 0)),        # National Day holiday
    (datetime(2026, 10, 9, 17, 0), 1, datetime(2026, 10, 10, 9, 0)),        # Saturday 10-10 is a make-up day
    (datetime(2026, 9, 19, 20, 0), 2, datetime(2026, 9, 20, 10, 30)),       # Sunday 09-20 is a make-up day
    (datetime(2026, 11, 18, 7, 0), 1, datetime(2026, 11, 18, 9, 30)),       # before office hours
])
def test_working_hours(start, hours, end):
    assert CAL.add_working_hours(start, hours) == end


@pytest.mark.parametrize("start, days, end", [
    (datetime(2026, 11, 18, 10, 0), 5, datetime(2026, 11, 25, 10, 0)),
    (datetime(2026, 9, 30, 10, 0), 2, datetime(2026, 10, 9, 10, 0)),        # skips Oct 1-7
    (datetime(2026, 10, 9, 10, 0), 1, datetime(2026, 10, 10, 10, 0)),       # make-up Saturday counts
    (datetime(2026, 9, 24, 10, 0), 1, datetime(2026, 9, 28, 10, 0)),        # Mid-Autumn 09-25
])
def test_working_days(start, days, end):
    assert CAL.add_working_days(start, days) == end


def test_a_year_beyond_the_data_skips_statutory_holidays_and_is_named():
    cal = WorkCalendar(time(8, 30), time(17, 30))
    assert cal.add_working_days(datetime(2026, 12, 31, 10, 0), 1) == datetime(2027, 1, 4, 10, 0)  # 元旦 off
    assert cal.missing_years == {2027}  # its make-up working weekends are not known


def test_official_dates_in_the_rules_fill_a_missing_year():
    cal = WorkCalendar(time(8, 30), time(17, 30), holidays=frozenset({date(2027, 1, 1)}),
                       workdays=frozenset({date(2027, 1, 9)}))
    assert cal.add_working_days(datetime(2026, 12, 31, 10, 0), 1) == datetime(2027, 1, 4, 10, 0)
    assert cal.is_workday(date(2027, 1, 9))
    assert cal.missing_years == set()


PARSER = CommandParser(RULES.policy.commands)


@pytest.mark.parametrize("text, expected", [
    ("受理 100023", Command("acknowledge", "100023")),
    ("ＳＬ１０００２３", Command("acknowledge", "100023")),
    ("ack,100023", Command("acknowledge", "100023")),
    ("进展 100023 已联系物业，明天上门", Command("progress", "100023", "已联系物业，明天上门")),
    ("JZ 已联系物业", Command("progress", None, "已联系物业")),
    ("办结：100023：已修好", Command("resolve", "100023", "已修好")),
    ("Done 100023 fixed", Command("resolve", "100023", "fixed")),
    ("退回 100023 不属于本网格", Command("return", "100023", "不属于本网格")),
    ("转办 100023 DH-HOUSI", Command("transfer", "100023", "DH-HOUSI")),
    ("UP 100023 需要协调", Command("escalate", "100023", "需要协调")),
    ("列表", Command("list")), ("lb", Command("list")), ("查看 100023", Command("view", "100023")),
    ("help", Command("help")),
    ("办结 100023", CommandError("resolve", "缺少结果")),
    ("转办 100023", CommandError("transfer", "缺少团队")),
    ("UPDATE 100023", None), ("路灯坏了", None), ("上报告诉你们", Command("patrol", None, "告诉你们")),
])
def test_command_parsing(text, expected):
    assert PARSER.parse(text) == expected
