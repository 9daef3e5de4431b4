"""Team members' SMS commands (pure parsing): "受理 100023", "sl100023", "ＡＣＫ　100023",
"办结：100023 已修好", "辦結 100023 已修好", "列表". Normalised as reports are (traditional
characters, full width, spaces, punctuation, case), and never a guess at which case is meant:
`choose_case` takes a case only when the number names one of the team's open cases."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from classifier.normalize import to_simplified

NEEDS_TEXT = {"progress": "内容", "resolve": "结果", "return": "原因", "transfer": "团队", "escalate": "原因",
              "patrol": "内容", "on_the_spot": "内容", "visit": "内容", "log": "内容"}
# Field work by members (workers.fieldwork): no case number; "上报" without one is a patrol report.
FIELD_ACTIONS = ("patrol", "on_the_spot", "visit", "log")
NEEDS_CASE = ("acknowledge", "progress", "resolve", "return", "transfer", "escalate", "view")
USAGE = {
    "acknowledge": "受理 编号", "progress": "进展 编号 内容", "resolve": "办结 编号 结果", "return": "退回 编号 原因",
    "transfer": "转办 编号 团队编号或名称", "escalate": "上报 编号 原因", "list": "列表", "view": "查看 编号",
    "help": "帮助", "patrol": "巡查 内容（或 上报 内容）", "on_the_spot": "即办 内容", "visit": "走访 内容",
    "log": "日志 内容",
}
_SEP = r"[\s:：,，、.。;；!！\-—]*"


@dataclass(frozen=True)
class Command:
    action: str
    number: str | None = None
    text: str = ""


@dataclass(frozen=True)
class CommandError:
    action: str | None
    error: str

    @property
    def usage(self) -> str:
        return f"格式：{USAGE[self.action]}" if self.action else "回复“帮助”查看指令"


class CommandParser:
    def __init__(self, words: dict[str, frozenset[str]]):
        self.words = {w.upper(): action for action, ws in words.items() for w in ws}
        alternatives = sorted(self.words, key=len, reverse=True)
        # A Latin command word must not run into more letters ("UPDATE" is not "UP ...").
        self.pattern = re.compile(
            r"^(?P<verb>" + "|".join(re.escape(w) + (r"(?![A-Z])" if w.isascii() else "") for w in alternatives) + r")"
            # Any run of 4-12 digits right after the verb is meant as a case number ("受理 10001"
            # is a mistyped number, not a note), unless a unit follows it ("办结 2000元已退还").
            + _SEP + r"(?P<number>\d{4,12}(?![\d元块米号楼层栋幢户%]))?" + _SEP + r"(?P<text>.*)$",
            re.S,
        )

    def parse(self, body: str) -> Command | CommandError | None:
        """A Command, a CommandError (a command word, used wrongly), or None (not a command)."""
        text = command_form(body)
        match = self.pattern.match(text.upper())
        if not match:
            return None
        action = self.words[match.group("verb")]
        number = match.group("number")
        if action == "escalate" and not number:
            action = "patrol"
        # Field work has no case number: a number at the start belongs to the text.
        start = "number" if action in FIELD_ACTIONS and number else "text"
        number = None if action in FIELD_ACTIONS else number
        rest = ""
        if match.group(start):
            original = body.strip()
            # Keep what the member typed (full-width punctuation and all) when NFKC kept the length.
            source = original if len(original) == len(text) else text
            rest = source[match.start(start):].strip()
        if action in NEEDS_TEXT and not rest:
            return CommandError(action, f"缺少{NEEDS_TEXT[action]}")
        if action in ("list", "help") and (number or rest):
            return Command(action)
        return Command(action, number, rest)

    def looks_like_command(self, body: str) -> bool:
        """Latin letters then a case number ("XYZ 100023") or a bare case number: a mistyped command."""
        text = command_form(body).upper()
        return bool(re.match(r"^([A-Z]{1,10}" + _SEP + r")?\d{6,8}\b", text))


def command_form(body: str) -> str:
    """What a command is matched on: NFKC (full width -> half width) and simplified characters,
    one for one, so positions still line up with what the member typed."""
    return to_simplified(unicodedata.normalize("NFKC", body)).strip()


CASE_NUMBER = re.compile(r"^\d{6,8}$")


@dataclass(frozen=True)
class CaseChoice:
    """`number`: act on this case (or look it up, when `lookup`); else `error` says why not."""

    number: str | None = None
    error: str = ""
    lookup: bool = False


def open_list(numbers: list[str], limit: int = 6) -> str:
    if not numbers:
        return "本团队没有办理中的案件"
    shown = "、".join(numbers[:limit])
    return f"本团队办理中：{shown}" + (f"等{len(numbers)}件" if len(numbers) > limit else "")


def choose_case(action: str, number: str | None, text: str, open_numbers: list[str]) -> CaseChoice:
    """Which case a member's command acts on (pure). A number among the team's open cases is
    taken; a well-formed number outside them is looked up (a case above the team's level, or a
    closed one, gets its own answer); anything else is an error listing the open cases. Without a
    number only a team with exactly one open case is spared writing it, and not when the member
    wrote something else where the number goes ("受理 abc")."""
    valid = open_list(open_numbers)
    if number:
        if number in open_numbers:
            return CaseChoice(number)
        if CASE_NUMBER.match(number):
            return CaseChoice(number, lookup=True)
        return CaseChoice(error=f"没有编号为{number}的案件（编号为6位数字）。{valid}。")
    if action in ("acknowledge", "view") and text:
        return CaseChoice(error=f"“{text[:12]}”不是案件编号。{valid}。")
    if len(open_numbers) == 1:
        return CaseChoice(open_numbers[0])
    if not open_numbers:
        return CaseChoice(error=f"{valid}。")
    return CaseChoice(error=f"请写明编号，格式：{USAGE[action]}。{valid}")
