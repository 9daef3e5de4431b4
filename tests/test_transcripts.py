"""Conversations as transcripts: tests/transcripts/*.txt, run through the signed webhook and a
real RQ worker on the demo district. A change of wording or behaviour shows up as a diff.

Format (one file holds several scenarios):

    === 名称                       a scenario: a fresh database with the demo district
    # 注释                          ignored
    贺敏> 我家楼上漏水了             贺敏 (a demo resident or member, by name) texts the short number
    +8613999990000> 你好            any phone number texts it
    ~ 30m                           the clock moves on (m, h, d)
    ! sweep                         the scheduler's deadline sweep runs
      贺敏< 【网格通】您反映…        what each party received after the line above, in order:
      张伟< …                      every SMS the step queued, with [暂缓] / [不发送] when held
                                    or suppressed

Set GRIDLINE_UPDATE_TRANSCRIPTS=1 to write what happened back into the files (then read the
diff before committing it).
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import drain_queues

HERE = Path(__file__).parent / "transcripts"
UPDATE = os.environ.get("GRIDLINE_UPDATE_TRANSCRIPTS") == "1"
STATUS_MARKS = {"held": " [暂缓]", "suppressed": " [不发送]"}
_SEND = re.compile(r"^(?P<who>[^\s<>#~!=][^<>]*?)> ?(?P<body>.*)$")
_STEP = re.compile(r"^~\s*(\d+)\s*([mhd])$")


def scenarios() -> list[tuple[Path, str, list[str]]]:
    """(file, name, input lines) per scenario; received lines (indented) are not input."""
    found = []
    for path in sorted(HERE.glob("*.txt")):
        current = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("=== "):
                current = (path, line[4:].strip(), [])
                found.append(current)
            elif current is not None and line and not line.startswith(" "):
                current[2].append(line)
    return found


def _directory(rt) -> tuple[dict[str, str], dict[str, str]]:
    from models import Member, Resident

    with rt.db.session() as session:
        people = [(m.name, m.phone) for m in session.scalars(sa.select(Member).order_by(Member.id))]
        people += [(r.name, r.phone) for r in session.scalars(sa.select(Resident).order_by(Resident.id))]
    by_name = {name: phone for name, phone in reversed(people)}
    by_phone = {phone: name for name, phone in reversed(people)}
    return by_name, by_phone


def play(phone, rt, clock, lines: list[str]) -> list[str]:
    """Run the input lines; return the transcript as it happened."""
    from models import OutboundMessage
    from workers.jobs.deadlines import sweep_deadlines

    by_name, by_phone = _directory(rt)
    out: list[str] = []
    last_id = 0
    for line in lines:
        out.append(line)
        if line.startswith("#"):
            continue
        if line == "! sweep":
            sweep_deadlines(now=rt.now())
            drain_queues(rt)
        elif (step := _STEP.match(line)):
            amount, unit = int(step.group(1)), {"m": "minutes", "h": "hours", "d": "days"}[step.group(2)]
            clock.advance(**{unit: amount})
        elif (send := _SEND.match(line)):
            who = send.group("who").strip()
            sender = by_name.get(who, who)
            assert sender.startswith("+"), f"unknown sender {who!r}: a demo name or a +86 number"
            phone.text(sender, send.group("body"))
        else:
            raise AssertionError(f"cannot read transcript line {line!r}")
        with rt.db.session() as session:
            sent = list(session.scalars(
                sa.select(OutboundMessage).where(OutboundMessage.id > last_id).order_by(OutboundMessage.id)))
            for message in sent:
                out.append(f"  {by_phone.get(message.to, message.to)}< {message.body}"
                           f"{STATUS_MARKS.get(message.status, '')}")
                last_id = message.id
    return out


def _expected(path: Path, name: str) -> list[str]:
    lines, inside = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            inside = line[4:].strip() == name
        elif inside and line:
            lines.append(line)
    return lines


def _rewrite(path: Path, name: str, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8").splitlines()
    start = text.index(f"=== {name}")
    end = next((i for i in range(start + 1, len(text)) if text[i].startswith("=== ")), len(text))
    tail = [""] if end < len(text) else []
    path.write_text("\n".join(text[:start + 1] + lines + tail + text[end:]) + "\n", encoding="utf-8")


def _ids() -> list[str]:
    """residents-3: the file and the scenario's place in it (pytest escapes Chinese in ids)."""
    seen: dict[str, int] = {}
    out = []
    for path, _, _ in scenarios():
        seen[path.stem] = seen.get(path.stem, 0) + 1
        out.append(f"{path.stem}-{seen[path.stem]}")
    return out


@pytest.mark.parametrize("path, name, lines", scenarios(), ids=_ids())
def test_transcript(phone, rt, demo, clock, path, name, lines):
    happened = play(phone, rt, clock, lines)
    expected = _expected(path, name)
    if UPDATE and happened != expected:
        _rewrite(path, name, happened)
        return
    diff = "\n".join(difflib.unified_diff(expected, happened, "expected", "happened", lineterm=""))
    assert happened == expected, f"{path.name} · {name}:\n{diff}"
