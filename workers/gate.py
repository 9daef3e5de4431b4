"""The gate before a case opens (pure): greetings, thanks, emoji, lone digits and other texts that
report nothing do not open cases. `screen` names what a text is when it is not a report; intake
answers it with a short reply (how to report, or what is pending) and records the outcome.
"""
from __future__ import annotations

import re
import unicodedata

from classifier.normalize import normalize

GREETINGS = ("你好", "您好", "hello", "hi", "hey", "哈喽", "嗨", "在吗", "在不在", "有人吗", "喂", "早上好",
             "上午好", "中午好", "下午好", "晚上好", "早", "早安", "晚安", "请问", "打扰了", "测试", "test")
THANKS = ("谢谢", "多谢", "感谢", "谢了", "谢谢你", "谢谢您", "非常感谢", "thanks", "thankyou", "thx", "辛苦了",
          "辛苦", "好的", "好", "嗯", "哦", "噢", "ok", "okay", "收到", "知道了", "明白", "明白了", "行", "可以",
          "没事了", "没问题", "再见", "拜拜", "bye")
# Particles and fillers that may follow a greeting: "你好啊", "谢谢了哈".
_FILLERS = "啊呀吗呢哈啦了哦嘛吧的么"
_PHRASES = sorted(((w, "greeting") for w in GREETINGS), key=lambda p: -len(p[0])) + \
    sorted(((w, "thanks") for w in THANKS), key=lambda p: -len(p[0]))
_PHRASES.sort(key=lambda p: -len(p[0]))
MAX_DIGITS = 5  # a case number has six; "1", "2", "12" with no survey pending are stray digits


def _is_symbol(char: str) -> bool:
    """Punctuation, symbols (emoji included), marks, spaces, joiners and variation selectors."""
    return unicodedata.category(char)[0] in "PSZMC"


def screen(body: str) -> str | None:
    """None for a text that may be a report; else what it is: "emoji" (symbols only), "digits"
    (a lone number shorter than a case number), "greeting", "thanks" (courtesies and
    acknowledgements), or "noise" (a few Latin letters, no Chinese: "asdf")."""
    text = "".join(ch for ch in normalize(body) if not _is_symbol(ch))
    if not text:
        return "emoji" if body.strip() else None
    if text.isdigit():
        return "digits" if len(text) <= MAX_DIGITS else None
    kind = _only_courtesies(text)
    if kind:
        return kind
    if re.fullmatch(r"[a-z]{1,12}", text):
        return "noise"
    return None


def _only_courtesies(text: str) -> str | None:
    """The kind of the first phrase when the text is nothing but greeting and thanks phrases."""
    first, rest = None, text
    while rest:
        for phrase, kind in _PHRASES:
            if rest.startswith(phrase):
                first = first or kind
                rest = rest[len(phrase):].lstrip(_FILLERS)
                break
        else:
            return None
    return first


GATE_WORDS = {"emoji": "表情或符号", "digits": "单独数字", "greeting": "问候", "thanks": "致谢或应答", "noise": "无法识别的字母"}
