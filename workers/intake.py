"""Intake: an inbound text (SMS now; voice and operator notes use the same door) becomes a case,
joins one, or ends in a recorded, explained outcome. Called inside one unit of work; the caller
commits and then enqueues the queued SMS.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Area, Case, CaseTeam, InboundMessage, Member, OptOut, Resident, Team
from models.phones import mask

from .conversation import STRONG_WEIGHT, continues, read_intent
from .gate import GATE_WORDS, screen
from .deadlines import case_deadlines, skip_early_reminders
from .locate import AreaName, find_area
from .notify import Notifier, open_cases_of
from .privacy import refusal_team_name
from . import directory
from .casework import Actor, CaseWork, member_actor, role_title
from .commands import FIELD_ACTIONS, Command, CommandError, CommandParser, choose_case, open_list
from .conversation import keyword_form
from .entry import Entry, entry_of
from .fieldwork import FieldWork
from .returnvisit import contact_for
from .lifecycle import IllegalStep
from .routing import RoutingDecision, route_case
from .texts import excerpt, local_time, render

log = logging.getLogger(__name__)
NOTICE_ROLES = ("leader", "member")
COMMAND_WORDS = {"acknowledge": "受理", "progress": "报告进展", "resolve": "办结", "return": "退回", "transfer": "转办",
                 "escalate": "上报", "view": "查看"}
LOCATION_QUESTION_VALID = timedelta(days=1)


@dataclass
class Reporter:
    phone: str
    name: str
    area: Area | None
    resident: Resident | None
    member: Member | None

    @property
    def actor(self) -> str:
        who = f"{role_title(self.member)} {self.member.name}" if self.member else "居民"
        return f"{who} {mask(self.phone)}"


class Intake:
    def __init__(self, session: Session, runtime, notifier: Notifier | None = None):
        self.session = session
        self.rt = runtime
        self.policy = runtime.policy
        self.now = runtime.now()
        self.notifier = notifier or Notifier(session, runtime.provider, runtime.policy, self.now)
        self.work = CaseWork(session, runtime, self.notifier, self.now)
        self._memberships: dict[str, list[Member]] = {}
        self.entry: Entry | None = None  # the message being handled, as its door handed it in

    def _record(self, case: Case, type_: str, actor: str, note: str = "", channel: str = "system", **data) -> None:
        self.work.record(case, type_, Actor(actor, channel), note, **data)

    # -- who is writing ------------------------------------------------------------------
    def members_with(self, phone: str) -> list[Member]:
        """The active team memberships of a phone, looked up once per message: the command check
        and the reporter both ask."""
        if phone not in self._memberships:
            self._memberships[phone] = list(self.session.scalars(
                sa.select(Member).where(Member.phone == phone, Member.active.is_(True)).order_by(Member.id)))
        return self._memberships[phone]

    def reporter(self, phone: str) -> Reporter:
        resident = self.session.scalar(sa.select(Resident).where(Resident.phone == phone))
        member = next(iter(self.members_with(phone)), None)
        if resident is not None:
            return Reporter(phone, resident.name, resident.area, resident, member)
        if member is not None:
            return Reporter(phone, member.name, member.team.area, None, member)
        return Reporter(phone, "", None, None, None)

    def _via(self) -> str:
        """What the trail adds to the sender: who typed a report, or that it was simulated."""
        entry = self.entry
        if entry is None:
            return ""
        if entry.door.simulated:
            return f"（培训模拟，{entry.entered_by_label or '控制台'}操作）"
        return f"（{entry.entered_by_label} 录入）" if entry.entered_by_label else ""

    def _member_actor(self, member: Member) -> Actor:
        actor = member_actor(member)
        return Actor(actor.label + self._via(), actor.channel, actor.member)

    # -- one inbound message ---------------------------------------------------------------
    def handle_inbound(self, message: InboundMessage) -> None:
        policy = self.policy
        entry = self.entry = entry_of(message)
        if message.from_phone is None:
            self._finish(message, "rejected", "invalid_sender", f"发送号码无法识别: {message.from_raw!r}")
            return
        phone = message.from_phone
        # Commands and ratings act as the phone: only a door that proves the handset may.
        if entry.acts_as_phone and (self._member_command(message, phone) or self._rating_reply(message, phone)):
            return
        open_cases = open_cases_of(self.session, phone)
        intent = read_intent(message.body, policy.conversation, frozenset(c.number for c in open_cases))
        channel = message.channel

        if intent.kind == "empty":
            self.notifier.send(phone, "empty_message", {}, "command_reply", inbound=message)
            self._finish(message, "rejected", "empty", "空短信，已请发送人描述问题")
        elif intent.kind == "oversized":
            limit = policy.conversation.max_body_chars
            self.notifier.send(phone, "oversized_message", {"limit": limit}, "command_reply", inbound=message)
            self._finish(message, "rejected", "oversized", f"{len(message.body)} 字，超过 {limit} 字上限")
        elif not entry.acts_as_phone:  # typed by a person: it opens or adds to a case, nothing else
            self._report(message, phone, message.body.strip(), open_cases, channel, conversational=False)
        elif intent.kind == "opt_out":
            self._opt_out(message, phone)
        elif intent.kind == "opt_in":
            self._opt_in(message, phone)
        elif intent.kind == "status":
            self._status(message, phone, open_cases)
        elif intent.kind == "case_reply":
            case = next(c for c in open_cases if c.number == intent.case_number)
            self._add_to_case(message, case, intent.text or message.body, channel, acknowledge=True)
        elif intent.kind == "unknown_case" and not self._matter_words(intent.text):
            self._unknown_case(message, phone, intent.case_number, open_cases)
        elif (kind := screen(message.body)) is not None:
            self._not_a_report(message, phone, kind, open_cases)
        else:  # a report (one that opens with a number not theirs included: "100001 路灯坏了")
            text = message.body.strip() if intent.kind == "unknown_case" else intent.text
            self._report(message, phone, text, open_cases, channel)

    # -- texts that are not reports (workers/gate.py) -----------------------------------------
    def _not_a_report(self, message: InboundMessage, phone: str, kind: str, open_cases: list[Case]) -> None:
        """Greetings, thanks, emoji, stray digits: a short reply, an outcome, no case."""
        if self.members_with(phone):
            self.notifier.send(phone, "cmd_help", {}, "command_reply", inbound=message)
            self._finish(message, "processed", "not_a_command", f"{GATE_WORDS[kind]}，已回复指令帮助")
            return
        self.notifier.send(phone, f"gate_{kind}", {"hint": self._pending_hint(open_cases)}, "command_reply",
                           inbound=message)
        self._finish(message, "processed", "not_a_report", f"{GATE_WORDS[kind]}，未立案，已回复如何反映")

    def _pending_hint(self, open_cases: list[Case]) -> str:
        if not open_cases:
            return render(self.policy, "gate_howto", {})
        latest = open_cases[0]
        numbers = "、".join(c.number for c in open_cases[:3])
        return render(self.policy, "gate_pending", {
            "number": numbers, "status": self.policy.status_labels.get(latest.status, latest.status)
            if len(open_cases) == 1 else "办理中"})

    def _unknown_case(self, message: InboundMessage, phone: str, number: str, open_cases: list[Case]) -> None:
        """A case number that is not one of the sender's open cases: never another person's case."""
        numbers = "、".join(c.number for c in open_cases[:3])
        template = "unknown_case" if open_cases else "unknown_case_none"
        self.notifier.send(phone, template, {"number": number, "numbers": numbers}, "command_reply", inbound=message)
        self._finish(message, "processed", "unknown_case", f"编号{number}不是发送人办理中的案件")

    def _finish(self, message: InboundMessage, status: str, outcome: str, note: str = "", case: Case | None = None) -> None:
        message.status = status
        message.outcome = outcome
        message.outcome_note = note
        message.processed_at = self.now
        if case is not None:
            message.case_id = case.id

    def _opt_out(self, message: InboundMessage, phone: str) -> None:
        if self.session.get(OptOut, phone) is not None:
            self._finish(message, "processed", "opted_out", "已是退订状态，不再回复")
            return
        self.session.add(OptOut(phone=phone, source="keyword"))
        self.session.flush()
        self.notifier.send(phone, "opt_out", {}, "opt_out", inbound=message)
        self._finish(message, "processed", "opted_out", "已退订并发送确认")

    def _opt_in(self, message: InboundMessage, phone: str) -> None:
        existing = self.session.get(OptOut, phone)
        if existing is not None:
            self.session.delete(existing)
            self.session.flush()
        self.notifier.send(phone, "opt_in", {}, "opt_in", inbound=message)
        self._finish(message, "processed", "opted_in", "恢复接收短信")

    def _status(self, message: InboundMessage, phone: str, open_cases: list[Case]) -> None:
        policy = self.policy
        if not open_cases:
            self.notifier.send(phone, "status_none", {}, "status_update", inbound=message)
        else:
            lines = "；".join(
                policy.templates["status_line"].format(
                    number=c.number, status=policy.status_labels.get(c.status, c.status),
                    team=c.team.name if c.team else "待分派", due=local_time(c.due_at),
                )
                for c in open_cases[:3]
            )
            self.notifier.send(phone, "status_reply", {"lines": lines}, "status_update", inbound=message)
        self._finish(message, "processed", "status_query", f"{len(open_cases)} 件办理中")

    # -- reports -------------------------------------------------------------------------
    def _report(self, message: InboundMessage, phone: str, text: str, open_cases: list[Case], channel: str,
                conversational: bool = True) -> None:
        now = self.now
        window = self.policy.conversation.join_window
        latest = open_cases[0] if open_cases and conversational else None
        if latest is not None and latest.awaiting == "location" and now - latest.created_at <= LOCATION_QUESTION_VALID:
            self._location_answer(message, latest, text, within_window=now - latest.last_message_at <= window)
            return
        if latest is not None and self._continues(latest, text, window):
            self._add_to_case(message, latest, text, channel, acknowledge=True)
            return
        repeat = self._repeat_of(text, open_cases)
        if repeat is not None:
            self._repeat(message, repeat, text, channel)
            return
        reporter = self.reporter(phone)
        case = self.open_case(reporter, text, channel, inbound=message)
        self._finish(message, "processed", "case_opened", f"案件 {case.number}", case)

    def _continues(self, case: Case, text: str, window: timedelta) -> bool:
        """A second text joins the case just opened only when it continues it (conversation.continues)."""
        gap = self.now - case.last_message_at
        if gap > window:
            return False
        previous = case.text.rsplit("\n", 1)[-1]
        result = self.rt.classifier.classify(text)
        words = self._matter_words(text, result)
        same_category = (result.category, result.subcategory) == (case.category, case.subcategory)
        return continues(previous, gap, text, words, self._matter_words(case.text) if words else frozenset(),
                         same_category, window) is not None

    def _matter_words(self, text: str, result=None) -> frozenset[str]:
        """The strong keywords of a text: what matter it names, if any."""
        result = result or self.rt.classifier.classify(text)
        return frozenset(m.keyword for m in result.matched if m.weight >= STRONG_WEIGHT)

    def _add_to_case(self, message: InboundMessage, case: Case, text: str, channel: str, acknowledge: bool) -> None:
        case.text = f"{case.text}\n{text}"
        case.last_message_at = self.now
        self._record(case, "resident_message", f"居民 {mask(case.reporter_phone)}{self._via()}", excerpt(text, 200), channel)
        if case.category == "unclassified" and case.area_id is not None:
            self._reclassify_and_route(case)
        elif case.team_id is not None:
            self.work.tell_team(case.team_id, "case_addition",
                                {"number": case.number, "excerpt": excerpt(text, self.policy.conversation.excerpt_chars)},
                                "team_notice", case, leaders_only=True, urgent=case.urgency == "urgent")
        if acknowledge:
            self.notifier.send(case.reporter_phone, "addition_receipt",
                               {"number": case.number, "status": self.policy.status_labels.get(case.status, case.status)},
                               "command_reply", case, message)
        self._finish(message, "processed", "case_joined", f"并入案件 {case.number}", case)

    def _location_answer(self, message: InboundMessage, case: Case, text: str, within_window: bool) -> None:
        area_id = find_area(text, self._area_names())
        case.text = f"{case.text}\n{text}"
        case.last_message_at = self.now
        actor = f"居民 {mask(case.reporter_phone)}{self._via()}"
        self._record(case, "resident_message", actor, excerpt(text, 200), message.channel)
        if area_id is not None:
            area = self.session.get(Area, area_id)
            case.area_id, case.area, case.awaiting = area.id, area, None
            self._record(case, "located", actor, f"居民回复所在区域：{area.name}")
            self._reclassify_and_route(case, located=True)
            self._finish(message, "processed", "location_answer", f"定位到 {area.name}", case)
        elif within_window:
            self._finish(message, "processed", "case_joined", f"并入案件 {case.number}（仍待确认区域）", case)
        else:
            case.awaiting = None
            self._record(case, "location_unknown", "系统", "未能识别居民回复的地址，留待人工分派")
            team = case.team.name if case.team else "区指挥中心"
            self.notifier.send(case.reporter_phone, "location_unknown", {"number": case.number, "team": team},
                               "command_reply", case, message)
            self._finish(message, "processed", "location_unknown", "地址未识别，人工分派", case)

    def _area_names(self) -> list[AreaName]:
        return directory.current(self.session).area_names

    # -- opening and routing a case --------------------------------------------------------
    def open_case(self, reporter: Reporter, text: str, channel: str, inbound: InboundMessage | None = None,
                  extra_event: tuple[str, str] | None = None, source: str = "resident") -> Case:
        """source "patrol": a member's own report (workers.fieldwork), no resident receipt."""
        now = self.now
        area = reporter.area
        located_from_text = False
        if area is None:
            area_id = find_area(text, self._area_names())
            if area_id is not None:
                area, located_from_text = self.session.get(Area, area_id), True
        case = Case(
            status="triage", category="unclassified", urgency="normal", channel=channel, text=text,
            reporter_phone=reporter.phone, reporter_name=reporter.name,
            resident_id=reporter.resident.id if reporter.resident else None,
            area_id=area.id if area else None, area=area, created_at=now, last_message_at=now, updated_at=now,
            classification={}, source=source, contact=contact_for(reporter.phone, text) if source == "resident" else "sms",
            reporter_member_id=reporter.member.id if source != "resident" and reporter.member else None,
        )
        self.session.add(case)
        # Classified and routed before the first flush: the case row goes out once, complete,
        # and its informed teams without a lazy load. Events and texts need its number, after.
        result = self._set_classification(case)
        decision = self._route(case, area_known=area is not None)
        self._assign(case, decision, now)
        self.session.flush()
        entry = self.entry
        self._record(case, "received", reporter.actor + self._via(), excerpt(text, 200), channel,
               inbound_id=inbound.id if inbound else None, door=entry.door.name if entry else None,
               entered_by=entry.entered_by if entry else None)
        if extra_event:
            self._record(case, extra_event[0], reporter.actor, extra_event[1], channel)
        if located_from_text:
            self._record(case, "located", "系统", f"根据内容定位到 {area.name}")
        self._record_classification(case, result)
        self._announce(case, decision)
        if source != "resident":
            pass  # the member hears back in staff wording (workers.fieldwork)
        elif area is None:
            case.awaiting = "location"
            self.notifier.send(reporter.phone, "receipt_triage", {"number": case.number}, "receipt", case, inbound)
        else:
            self._send_receipt(case, "receipt", inbound)
        log.info("case opened number=%s category=%s team=%s reporter=%s", case.number, case.category,
                 case.team.code if case.team else None, mask(reporter.phone))
        return case

    def _classify(self, case: Case) -> None:
        self._record_classification(case, self._set_classification(case))

    def _set_classification(self, case: Case):
        result = self.rt.classifier.classify(case.text)
        case.category, case.subcategory, case.department = result.category, result.subcategory, result.department
        case.urgency, case.confidence = result.urgency, round(result.confidence, 3)
        explained = result.to_dict()
        explained.pop("tokens", None)
        case.classification = explained
        return result

    def _record_classification(self, case: Case, result) -> None:
        words = "、".join(f"{m.keyword}({m.weight:g})" for m in result.matched[:6]) or "无"
        self._record(case, "classified", "系统",
               f"{self.work.category_label(case)}，紧急程度 {self.policy.urgency_labels.get(case.urgency, case.urgency)}，"
               f"置信度 {result.confidence:.2f}，关键词 {words}")

    def _reclassify_and_route(self, case: Case, located: bool = False) -> None:
        before = (case.category, case.team_id)
        self._classify(case)
        decision = self._route(case, area_known=True)
        if (case.category, decision.handler.id if decision.handler else None) != before or located:
            self._apply_routing(case, decision, self.now)
            if located:
                self._send_receipt(case, "receipt_located", None)

    def _route(self, case: Case, area_known: bool) -> RoutingDecision:
        known = directory.current(self.session)
        lineage = known.lineage(case.area_id) if case.area_id else sorted(known.roots)
        return route_case(case.category, case.department, case.urgency, lineage, known.teams_by_area, self.policy,
                          area_known)

    def _apply_routing(self, case: Case, decision: RoutingDecision, now) -> None:
        self._assign(case, decision, now)
        self._announce(case, decision)

    def _assign(self, case: Case, decision: RoutingDecision, now) -> None:
        """The handling team, status, deadlines and informed teams (no event, no text yet)."""
        case.team_id = decision.handler.id if decision.handler else None
        case.team = self.session.get(Team, case.team_id) if case.team_id else None
        case.status = "triage" if decision.triage or case.team is None else "assigned"
        case.ack_due_at, case.due_at = case_deadlines(now, case.category, case.urgency, self.policy)
        skip_early_reminders(case, now, self.policy)
        known = {ct.team_id for ct in case.informed}
        for ref in decision.informed:
            if ref.id not in known:
                case.informed.append(CaseTeam(team_id=ref.id, role="informed"))

    def _announce(self, case: Case, decision: RoutingDecision) -> None:
        """The routing event and the team notices (the case has its number by now)."""
        note = f"交 {case.team.name} 办理" if case.team else "无可分派团队，待人工处理"
        if decision.informed:
            note += "；知会 " + "、".join(t.name for t in decision.informed)
        if decision.notes:
            note += "（" + "；".join(decision.notes) + "）"
        self._record(case, "triage" if case.status == "triage" else "assigned", "系统", note,
               team=case.team.code if case.team else None, informed=[t.code for t in decision.informed])
        params = self.work.notice_params(case)
        informed_ids = [ref.id for ref in decision.informed]
        members = self._members_of([case.team_id] + informed_ids if case.team_id else informed_ids)
        urgent = case.urgency == "urgent"
        for member in members.get(case.team_id, {}).get("notice", []):
            self.notifier.send(member.phone, "team_notice", params, "team_notice", case, proactive=True, urgent=urgent)
        for team_id in informed_ids:
            for member in members.get(team_id, {}).get("leaders", []):
                self.notifier.send(member.phone, "informed_notice", params, "team_notice", case, proactive=True,
                                   urgent=urgent)
        gap = self.work.calendar_gap_note()
        if gap:
            self._record(case, "calendar_gap", "系统", gap)

    def _members_of(self, team_ids: list[int]) -> dict[int, dict[str, list[Member]]]:
        """Per team: who gets case notices (leaders and members) and who gets brief notes (leaders,
        or everyone when the team has no leader). One query for all the teams."""
        rows = self.session.scalars(
            sa.select(Member).where(Member.team_id.in_(team_ids), Member.active.is_(True)).order_by(Member.id)
        ).all() if team_ids else []
        out: dict[int, dict[str, list[Member]]] = {}
        for member in rows:
            entry = out.setdefault(member.team_id, {"notice": [], "leaders": [], "all": []})
            entry["all"].append(member)
            if member.role in NOTICE_ROLES:
                entry["notice"].append(member)
            if member.role == "leader":
                entry["leaders"].append(member)
        for entry in out.values():
            if not entry["leaders"]:
                entry["leaders"] = entry["notice"] or entry["all"]
        return out

    def _send_receipt(self, case: Case, template: str, inbound: InboundMessage | None) -> None:
        if not case.reporter_phone:
            return
        params = {"number": case.number, "team": case.team.name if case.team else "区指挥中心",
                  "due": local_time(case.due_at), "area": case.area.name if case.area else ""}
        if template == "receipt" and case.urgency == "urgent":
            template = "receipt_urgent"  # says 110 for danger now, not a deadline hours away
        self.notifier.send(case.reporter_phone, template, params, "receipt", case, inbound)

    # -- team members' commands ------------------------------------------------------------
    def _member_command(self, message: InboundMessage, phone: str) -> bool:
        members = self.members_with(phone)
        if not members:
            return False
        parser = _parser(self.policy)
        parsed = parser.parse(message.body)
        if parsed is None and not parser.looks_like_command(message.body):
            return False  # a member reporting a problem: an ordinary report
        actor = self._member_actor(members[0])
        if parsed is None:
            parsed = CommandError(None, "无法识别的指令")
        reply, outcome, case = self._run_command(parsed, members, actor, message)
        self.notifier.send(phone, "cmd_done", {"message": reply}, "command_reply", case, message)
        self._finish(message, "processed", outcome, reply, case)
        return True

    def _run_command(self, parsed, members: list[Member], actor: Actor,
                     message: InboundMessage | None = None) -> tuple[str, str, Case | None]:
        policy = self.policy
        if isinstance(parsed, CommandError):
            return policy.templates["cmd_error"].format(error=parsed.error, usage=parsed.usage), "command_rejected", None
        team_ids = [m.team_id for m in members]
        if parsed.action == "help":
            return policy.templates["cmd_help"], "command", None
        if parsed.action == "list":
            return self._list(team_ids), "command", None
        if parsed.action in FIELD_ACTIONS:
            return FieldWork(self, members, message).run(parsed)
        case, problem = self._command_case(parsed, team_ids)
        if case is None:
            return problem, "command_rejected", None
        if not self.work.may_act(team_ids, case):
            team = self.work.team(case.team_id)
            refused = render(policy, "cmd_refused", {  # a confidential case's office is not named
                "number": case.number, "team": refusal_team_name(case.category, team.name if team else "区指挥中心"),
                "status": policy.status_labels.get(case.status, case.status)})
            self._record(case, "command_refused", actor.label, f"无权{COMMAND_WORDS.get(parsed.action, '处理')}",
                         actor.channel, action=parsed.action)
            return refused, "command_refused", case
        if parsed.action == "view":
            return self._view(case), "command", case
        actor = self._member_actor(next((m for m in members if m.team_id == case.team_id), members[0]))
        try:
            reply = {
                "acknowledge": lambda: self.work.acknowledge(case, actor),
                "progress": lambda: self.work.progress(case, actor, parsed.text),
                "resolve": lambda: self.work.resolve(case, actor, parsed.text),
                "return": lambda: self.work.return_(case, actor, parsed.text),
                "transfer": lambda: self.work.transfer(case, actor, parsed.text),
                "escalate": lambda: self.work.escalate(case, actor, parsed.text),
            }[parsed.action]()
        except IllegalStep as exc:
            return f"{self._named(case, str(exc))}。", "command_rejected", case
        return reply, "command", case

    def _named(self, case: Case, refusal: str) -> str:
        """A refusal that names the case and its status: "案件100001已受理，不能受理"."""
        if refusal.startswith(f"案件{case.number}"):
            return refusal
        if refusal.startswith("案件"):
            return refusal.replace("案件", f"案件{case.number}", 1)
        status = self.policy.status_labels.get(case.status, case.status)
        return f"案件{case.number}（{status}）：{refusal}"

    def _command_case(self, parsed: Command, team_ids: list[int]) -> tuple[Case | None, str]:
        from models import OPEN_STATUSES

        open_numbers = [c.number for c in self.session.scalars(
            sa.select(Case).where(Case.team_id.in_(team_ids), Case.status.in_(OPEN_STATUSES)).order_by(Case.id))]
        choice = choose_case(parsed.action, parsed.number, parsed.text, open_numbers)
        if choice.error:
            return None, choice.error
        case = Case.by_number(self.session, choice.number)
        if case is None:
            return None, f"没有编号为{choice.number}的案件。{open_list(open_numbers)}。"
        return case, ""

    def _list(self, team_ids: list[int]) -> str:
        from models import OPEN_STATUSES

        cases = list(self.session.scalars(sa.select(Case).where(Case.team_id.in_(team_ids), Case.status.in_(OPEN_STATUSES))))
        if not cases:
            return "本团队没有办理中的案件。"
        urgency_rank = {"urgent": 0, "normal": 1, "low": 2}
        cases.sort(key=lambda c: (not c.overdue, urgency_rank.get(c.urgency, 1), c.due_at or self.now))
        labels = self.policy.status_labels
        lines, budget = [], 134 - 12  # two SMS segments, less the header
        for c in cases:
            mark = "超期" if c.overdue else ("急" if c.urgency == "urgent" else "")
            line = f"{c.number}{mark}{labels.get(c.status, c.status)}{local_time(c.due_at)}"
            if sum(len(x) + 1 for x in lines) + len(line) > budget:
                lines.append(f"等{len(cases) - len(lines)}件")
                break
            lines.append(line)
        return f"办理中{len(cases)}件：" + "；".join(lines)

    def _view(self, case: Case) -> str:
        labels = self.policy.status_labels
        team = self.work.team(case.team_id)
        return (f"案件{case.number}【{self.work.category_label(case)}】{labels.get(case.status, case.status)}，"
                f"{team.name if team else '待分派'}，时限{local_time(case.due_at)}：{excerpt(case.text.replace(chr(10), ' '), 40)}")

    # -- residents' satisfaction replies ------------------------------------------------------
    def _rating_reply(self, message: InboundMessage, phone: str) -> bool:
        satisfaction = self.policy.satisfaction
        number, rest = None, keyword_form(message.body)
        match = re.match(r"^\s*(\d{6,8})(?!\d)(.*)$", unicodedata.normalize("NFKC", message.body), re.S)
        if match:
            number, rest = match.group(1), keyword_form(match.group(2))
        rating = satisfaction.get(rest)
        if rating is None:
            return False
        awaiting = list(self.session.scalars(
            sa.select(Case).where(Case.reporter_phone == phone, Case.status == "resolved", Case.awaiting == "rating")
            .order_by(Case.resolved_at.desc(), Case.id.desc())))
        if rating == "dissatisfied":  # "没解决" also reopens a case closed in the last week
            awaiting += list(self.session.scalars(
                sa.select(Case).where(Case.reporter_phone == phone, Case.status == "closed",
                                      Case.closed_at >= self.now - timedelta(days=7))
                .order_by(Case.closed_at.desc(), Case.id.desc())))
        if number is not None:
            awaiting = [c for c in awaiting if c.number == number]
        if not awaiting:
            return False
        case = awaiting[0]
        actor = Actor(f"居民 {mask(phone)}{self._via()}", message.channel)
        self.work.rate(case, actor, rating)
        self._finish(message, "processed", "rating", f"案件 {case.number}：{rating}", case)
        return True

    # -- repeat complaints (重复件) ------------------------------------------------------------
    def _repeat_of(self, text: str, open_cases: list[Case]) -> Case | None:
        window = self.policy.loop.repeat_window
        candidates = [c for c in open_cases if self.now - c.created_at <= window and c.category != "unclassified"]
        if not candidates:
            return None
        # Livelihood matters are one category with eight departments: compare the subcategory too,
        # and the matter itself: a street light and rubbish bins are both 城乡建设, not one matter.
        result = self.rt.classifier.classify(text)
        words = self._matter_words(text)
        return next((c for c in candidates if (c.category, c.subcategory) == (result.category, result.subcategory)
                     and _same_matter(words, self._matter_words(c.text))), None)

    def _repeat(self, message: InboundMessage, case: Case, text: str, channel: str) -> None:
        case.repeat_count += 1
        case.text = f"{case.text}\n{text}"
        case.last_message_at = self.now
        count = case.repeat_count + 1
        self._record(case, "repeat", f"居民 {mask(case.reporter_phone)}{self._via()}", excerpt(text, 200), channel,
                     count=count)
        params = self.work.params(case, count=count, excerpt=excerpt(text, self.policy.conversation.excerpt_chars))
        self.work.tell_team(case.team_id, "repeat_team", params, "team_notice", case, leaders_only=True)
        self.notifier.send(case.reporter_phone, "repeat_receipt", params, "receipt", case, message)
        self._finish(message, "processed", "repeat", f"重复件，并入案件 {case.number}（第{count}次）", case)


def _same_matter(words: frozenset[str], case_words: frozenset[str]) -> bool:
    """Keywords name the matter when both texts have some; a signal-only reading (维稳's 打起来)
    leaves the category to decide."""
    return not words or not case_words or bool(words & case_words)


_parsers: dict = {}


def _parser(policy) -> CommandParser:
    key = id(policy)
    if key not in _parsers:
        _parsers.clear()
        _parsers[key] = CommandParser(policy.commands)
    return _parsers[key]
