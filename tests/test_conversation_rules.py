"""The pure decisions behind the conversation rules: the gate before a case, which case a
command acts on, when a second text joins the first, when a reminder is worth sending."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from workers.commands import CaseChoice, CommandParser, choose_case
from workers.conversation import continues
from workers.deadlines import needs_reminder
from workers.gate import screen
from workers.policy import load_rules
from workers.settings import PROJECT_ROOT

POLICY = load_rules(PROJECT_ROOT / "routing_rules.yaml").policy


@pytest.mark.parametrize("text, kind", [
    ("你好", "greeting"), ("您好！", "greeting"), ("hello", "greeting"), ("Hi~", "greeting"), ("在吗？", "greeting"),
    ("你好，在吗", "greeting"), ("謝謝", "thanks"), ("好的，谢谢！", "thanks"), ("OK", "thanks"), ("👍", "emoji"),
    ("🙏🙏", "emoji"), ("。。。", "emoji"), ("1", "digits"), ("２", "digits"), ("12345", "digits"), ("asdf", "noise"),
])
def test_the_gate_names_what_is_not_a_report(text, kind):
    assert screen(text) == kind


@pytest.mark.parametrize("text", ["路灯坏了", "早上路灯不亮", "你好，我家楼上漏水", "100001", "好几天没人收垃圾",
                                  "wifi坏了", "3号楼漏水", "谢谢你们上次修好了路灯，这次楼道灯又坏了"])
def test_the_gate_lets_reports_through(text):
    assert screen(text) is None


@pytest.mark.parametrize("number, text, open_numbers, expected", [
    ("100001", "", ["100001"], CaseChoice("100001")),
    ("100009", "", ["100001"], CaseChoice("100009", lookup=True)),  # above the team, or closed: looked up
    (None, "", ["100001"], CaseChoice("100001")),
    ("10001", "", ["100001"], CaseChoice(error="没有编号为10001的案件（编号为6位数字）。本团队办理中：100001。")),
    (None, "abc", ["100001"], CaseChoice(error="“abc”不是案件编号。本团队办理中：100001。")),
    (None, "", ["100001", "100002"], CaseChoice(error="请写明编号，格式：受理 编号。本团队办理中：100001、100002")),
    (None, "", [], CaseChoice(error="本团队没有办理中的案件。")),
])
def test_a_command_never_guesses_its_case(number, text, open_numbers, expected):
    assert choose_case("acknowledge", number, text, open_numbers) == expected


@pytest.mark.parametrize("body, number, text", [
    ("受理 10001", "10001", ""), ("辦結 100012 已協調物業", "100012", "已協調物業"), ("办结 2000元已退还", None, "2000元已退还"),
    ("進展：100013，已到現場", "100013", "已到現場"), ("受理 abc", None, "abc"),
])
def test_commands_read_traditional_and_mistyped_numbers(body, number, text):
    parsed = CommandParser(POLICY.commands).parse(body)
    assert (parsed.number, parsed.text) == (number, text)


WINDOW = timedelta(minutes=10)
SEGMENT_PIECE = "我家住在湖滨路10号1单元101室，楼上住户装修以后卫生间一直往我家漏水，墙面已经发霉，天花板也开始掉皮，家里老人孩子都住不了，找过物业"


@pytest.mark.parametrize("previous, gap, text, words, case_words, same, expected", [
    (SEGMENT_PIECE, timedelta(minutes=1), "都说联系不上", frozenset({"物业"}), frozenset(), False, "fragment"),
    ("路灯坏了", timedelta(minutes=3), "就在3幢门口", frozenset(), frozenset({"路灯"}), False, "detail"),
    ("路灯坏了", timedelta(minutes=3), "路灯一周没亮", frozenset({"路灯"}), frozenset({"路灯"}), True, "same_matter"),
    ("我家楼上漏水", timedelta(minutes=1), "物业一直不来修", frozenset({"物业"}), frozenset({"漏水"}), True, "same_matter"),
    ("路灯坏了", timedelta(minutes=3), "还有垃圾桶满了", frozenset({"垃圾桶"}), frozenset({"路灯"}), True, None),
    ("路灯坏了", timedelta(minutes=3), "公司拖欠工资", frozenset({"拖欠工资"}), frozenset({"路灯"}), False, None),
    ("路灯坏了", timedelta(minutes=11), "就在3幢门口", frozenset(), frozenset({"路灯"}), False, None),
])
def test_a_second_text_joins_only_when_it_continues(previous, gap, text, words, case_words, same, expected):
    assert continues(previous, gap, text, words, case_words, same, WINDOW) == expected


def test_no_reminder_in_the_first_half_of_a_deadline():
    start, lead = datetime(2026, 11, 18, 2, 0), timedelta(minutes=30)
    assert not needs_reminder(start, start + timedelta(minutes=15), lead)   # urgent: 15 min to acknowledge
    assert not needs_reminder(start, start + timedelta(minutes=59), lead)
    assert needs_reminder(start, start + timedelta(hours=1), lead)
    assert needs_reminder(start, start + timedelta(hours=4), lead)


def test_2027_deadlines_skip_the_spring_festival_and_national_day():
    from datetime import date, time

    from workers.workcal import WorkCalendar

    cal = WorkCalendar(time(8, 30), time(17, 30))
    # Thursday 4 February 2027 + 1 working day: 除夕 (Fri 5th) and 春节 to Wed 10th are off.
    assert cal.add_working_days(datetime(2027, 2, 4, 10, 0), 1) == datetime(2027, 2, 11, 10, 0)
    assert cal.add_working_days(datetime(2027, 9, 30, 10, 0), 1) == datetime(2027, 10, 6, 10, 0)
    assert not cal.is_workday(date(2027, 10, 5)) and cal.is_workday(date(2027, 10, 6))
    listed = dict(cal.days_off(2027))
    assert listed[date(2027, 2, 8)] == "春节" and listed[date(2027, 10, 1)] == "国庆节"


def test_make_up_working_days_come_from_the_rules():
    from datetime import date, time

    from workers.workcal import WorkCalendar

    cal = WorkCalendar(time(8, 30), time(17, 30), workdays=frozenset({date(2027, 2, 20)}))
    assert cal.is_workday(date(2027, 2, 20))  # a Saturday worked
    assert (date(2027, 2, 20), "调休上班") in cal.days_off(2027)
    assert cal.missing_years == set() and cal.knows_year(2027)


def test_rules_check_lists_next_year_s_days_off():
    from datetime import date

    from tests.test_imports import run

    output = run(None, "rules", "check").output
    next_year = date.today().year + 1
    assert f"{next_year} 年时限不计的工作日与调休上班日" in output
    assert any(line.strip().startswith(f"{next_year}-") and "春节" in line for line in output.splitlines())


def test_listing_a_year_does_not_mark_it_missing():
    from datetime import time

    from workers.workcal import WorkCalendar

    cal = WorkCalendar(time(8, 30), time(17, 30))
    cal.days_off(2027)
    assert cal.missing_years == set()
