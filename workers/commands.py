"""Team members' SMS commands (pure parsing): "受理 100023", "sl100023", "ＡＣＫ　100023",
"办结：100023 已修好", "列表". Tolerant of full width, spaces, punctuation and case."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NEEDS_TEXT = {"progress": "内容", "resolve": "结果", "return": "原因", "transfer": "团队", "escalate": "原因"}
NEEDS_CASE = ("acknowledge", "progress", "resolve", "return", "transfer", "escalate", "view")
USAGE = {
    "acknowledge": "受理 编号", "progress": "进展 编号 内容", "resolve": "办结 编号 结果", "return": "退回 编号 原因",
    "transfer": "转办 编号 团队编号或名称", "escalate": "上报 编号 原因", "list": "列表", "view": "查看 编号",
    "help": "帮助",
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
            + _SEP + r"(?P<number>\d{6,8})?" + _SEP + r"(?P<text>.*)$",
            re.S,
        )

    def parse(self, body: str) -> Command | CommandError | None:
        """A Command, a CommandError (a command word, used wrongly), or None (not a command)."""
        text = unicodedata.normalize("NFKC", body).strip()
        match = self.pattern.match(text.upper())
        if not match:
            return None
        action = self.words[match.group("verb")]
        number = match.group("number")
        rest = ""
        if match.group("text"):
            original = body.strip()
            # Keep what the member typed (full-width punctuation and all) when NFKC kept the length.
            source = original if len(original) == len(text) else text
            rest = source[match.start("text"):].strip()
        if action in NEEDS_TEXT and not rest:
            return CommandError(action, f"缺少{NEEDS_TEXT[action]}")
        if action in ("list", "help") and (number or rest):
            return Command(action)
        return Command(action, number, rest)

    def looks_like_command(self, body: str) -> bool:
        """Latin letters then a case number ("XYZ 100023") or a bare case number: a mistyped command."""
        text = unicodedata.normalize("NFKC", body).strip().upper()
        return bool(re.match(r"^([A-Z]{1,10}" + _SEP + r")?\d{6,8}\b", text))
