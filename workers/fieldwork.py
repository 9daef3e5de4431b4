"""Grid members' own field work by SMS (巡查 / 上报 without a case number, 即办, 走访 / 日志).

- a patrol report (巡查件) is a case reported by the member: classified and routed like any case,
  no resident receipt and no survey; the member is answered in staff wording;
- an on-the-spot case (即办件) is opened and closed at once by that member, in their team;
- a visit or work-log entry (民情日志) is kept apart from cases, for the member's grid.
Called by Intake for a parsed member command, inside its unit of work.
"""
from __future__ import annotations

from models import Case, InboundMessage, Member, WorkLog

from .casework import member_actor
from .deadlines import case_deadlines
from .texts import excerpt, local_time

KIND_WORDS = {"visit": "走访", "log": "工作日志"}


class FieldWork:
    def __init__(self, intake, members: list[Member], message: InboundMessage | None):
        self.intake, self.session, self.now = intake, intake.session, intake.now
        # A phone in several teams works for the first: its grid team in the stock data.
        self.member = next((m for m in members if m.team.kind == "grid_team"), members[0])
        self.message = message
        self.channel = message.channel if message is not None else "sms"

    def run(self, parsed) -> tuple[str, str, Case | None]:
        return {"patrol": self.patrol, "on_the_spot": self.on_the_spot, "visit": self.log,
                "log": self.log}[parsed.action](parsed)

    def patrol(self, parsed) -> tuple[str, str, Case | None]:
        from .intake import Reporter

        member, team = self.member, self.member.team
        reporter = Reporter(member.phone, member.name, team.area, None, member)
        case = self.intake.open_case(reporter, parsed.text, self.channel, self.message,
                                     extra_event=("patrol", "网格员巡查上报"), source="patrol")
        handler = case.team.name if case.team else "区指挥中心（待分派）"
        return (f"巡查上报已立案，编号{case.number}，{self.intake.work.category_label(case)}，"
                f"交{handler}办理，时限{local_time(case.due_at)}。"), "patrol_case", case

    def on_the_spot(self, parsed) -> tuple[str, str, Case | None]:
        member, team, now = self.member, self.member.team, self.now
        result = self.intake.rt.classifier.classify(parsed.text)
        explained = result.to_dict()
        explained.pop("tokens", None)
        ack_due, due = case_deadlines(now, result.category, result.urgency, self.intake.policy)
        case = Case(
            status="closed", category=result.category, subcategory=result.subcategory, department=result.department,
            urgency=result.urgency, confidence=round(result.confidence, 3), channel=self.channel, source="on_the_spot",
            reporter_phone=member.phone, reporter_name=member.name, area_id=team.area_id, team_id=team.id,
            text=parsed.text, classification=explained, created_at=now, updated_at=now, last_message_at=now,
            ack_due_at=ack_due, due_at=due, acknowledged_at=now, resolved_at=now, closed_at=now,
            reporter_member_id=member.id, acknowledged_by_id=member.id, resolved_by_id=member.id,
        )
        self.session.add(case)
        self.session.flush()
        actor = member_actor(member, self.channel)
        work = self.intake.work
        work.record(case, "received", actor, excerpt(parsed.text, 200), inbound_id=self.message.id if self.message else None)
        work.record(case, "on_the_spot", actor, "即办件：现场发现、现场处置")
        work.record(case, "resolved", actor, parsed.text)
        work.record(case, "closed", actor, "即办件，当场办结")
        return f"即办件已登记并办结，编号{case.number}（{work.category_label(case)}）。", "on_the_spot_case", case

    def log(self, parsed) -> tuple[str, str, Case | None]:
        member, team = self.member, self.member.team
        self.session.add(WorkLog(kind=parsed.action, member_id=member.id, team_id=team.id, area_id=team.area_id,
                                 author=member_actor(member, self.channel).label, text=parsed.text,
                                 inbound_id=self.message.id if self.message else None, created_at=self.now))
        return f"已记入{team.area.name}民情日志（{KIND_WORDS[parsed.action]}）。", "work_log", None
