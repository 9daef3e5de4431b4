"""Working a case: acknowledge, progress, resolve, return, transfer, escalate, reopen, close.

One service for every door (team members' SMS, the scheduler's sweeps, later the console).
Each step checks the state machine, records an event (who, channel, when, note), tells the
resident from templates and tells the teams concerned. Called inside a unit of work.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, CaseEvent, Member, Team
from models.phones import mask

from . import directory
from .deadlines import acknowledge_deadline, calendar_for, skip_early_reminders
from .lifecycle import IllegalStep, next_status
from .notify import Notifier
from .routing import TeamRef
from .texts import excerpt, local_time

COORDINATING_KINDS = ("community_station", "street_center", "district_center")
STAFF_SOURCES = ("patrol", "on_the_spot")  # cases members report themselves: no receipt, no survey
RATING_WORDS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意", "no_response": "未回复"}


@dataclass(frozen=True)
class Actor:
    label: str               # "网格员 张三 +86139****0001", "系统"
    channel: str = "system"
    member: Member | None = None


SYSTEM = Actor("系统")


class CaseWork:
    def __init__(self, session: Session, rt, notifier: Notifier, now):
        self.session = session
        self.rt = rt
        self.policy = rt.policy
        self.notifier = notifier
        self.now = now

    # -- helpers ---------------------------------------------------------------------------
    def record(self, case: Case, type_: str, actor: Actor, note: str = "", **data) -> None:
        self.session.add(CaseEvent(case_id=case.id, type=type_, actor=actor.label, channel=actor.channel,
                                   note=note, data=data, at=self.now))

    def team(self, team_id: int | None) -> Team | None:
        return self.session.get(Team, team_id) if team_id else None

    def members(self, team_id: int, leaders_only: bool = False) -> list[Member]:
        members = list(self.session.scalars(
            sa.select(Member).where(Member.team_id == team_id, Member.active.is_(True)).order_by(Member.id)))
        if leaders_only:
            return [m for m in members if m.role == "leader"] or [m for m in members if m.role in ("leader", "member")] or members
        return [m for m in members if m.role in ("leader", "member")] or members

    def tell_team(self, team_id: int | None, template: str, params: dict, kind: str, case: Case,
                  leaders_only: bool = False, urgent: bool = False, actor: Actor | None = None) -> None:
        """Notices to a team; not to the member whose own command caused them (the reply says it)."""
        if team_id is None:
            return
        for member in self.members(team_id, leaders_only):
            if actor is not None and actor.member is not None and member.phone == actor.member.phone:
                continue
            self.notifier.send(member.phone, template, params, kind, case, proactive=True, urgent=urgent)

    def tell_resident(self, case: Case, template: str, params: dict, kind: str = "status_update") -> None:
        if case.reporter_phone and case.source not in STAFF_SOURCES:  # a patrol's reporter is staff
            self.notifier.send(case.reporter_phone, template, params, kind, case, proactive=True,
                               urgent=case.urgency == "urgent")

    def params(self, case: Case, **extra) -> dict:
        team = self.team(case.team_id)
        base = {"number": case.number, "team": team.name if team else "区指挥中心", "due": local_time(case.due_at),
                "excerpt": excerpt(case.text.replace("\n", " "), self.policy.conversation.excerpt_chars),
                "category": self.category_label(case)}
        base.update(extra)
        return base

    def category_label(self, case: Case) -> str:
        labels = self.rt.rules.classifier.labels()
        if case.category == "unclassified":
            return self.policy.unclassified_label
        label = labels.get(case.category, case.category)
        return f"{label}·{labels[case.subcategory]}" if case.subcategory in labels else label

    def escalation_target(self, team_id: int | None, area_id: int | None) -> TeamRef | None:
        """The coordinating team one level up: grid -> community -> street -> district. A
        department or office answers to the coordinating team of its own area first."""
        known = directory.current(self.session)
        team = known.teams.get(team_id) if team_id else None
        start = team.area_id if team else area_id
        if start is None:
            return None
        lineage = known.lineage(start)
        areas = lineage if team is None or team.kind not in COORDINATING_KINDS else lineage[1:]
        for area in areas:
            for kind in COORDINATING_KINDS:
                for candidate in known.teams_by_area.get(area, ()):
                    if candidate.kind == kind and candidate.id != team_id:
                        return candidate
        return None

    def may_act(self, member_teams: list[int], case: Case) -> bool:
        """Members of the handling team, or of a team above it in the area tree (or a coordinating
        team of the same area) may act on a case."""
        if case.team_id in member_teams:
            return True
        known = directory.current(self.session)
        handler = known.teams.get(case.team_id)
        handler_lineage = known.lineage(handler.area_id) if handler else known.lineage(case.area_id) if case.area_id else []
        for team_id in member_teams:
            team = known.teams.get(team_id)
            if team is None:
                continue
            if team.area_id in handler_lineage[1:]:
                return True
            if handler_lineage and team.area_id == handler_lineage[0] and team.kind in COORDINATING_KINDS:
                return True
            if not handler_lineage and team.kind == "district_center":
                return True
        return False

    def _step(self, case: Case, action: str) -> None:
        case.status = next_status(case.status, action)
        case.updated_at = self.now

    # -- actions ---------------------------------------------------------------------------
    def acknowledge(self, case: Case, actor: Actor) -> str:
        self._step(case, "acknowledge")
        case.acknowledged_at = self.now
        case.acknowledged_by_id = actor.member.id if actor.member is not None else None
        if actor.member is not None and actor.member.team_id != case.team_id and case.team_id is None:
            case.team_id = actor.member.team_id
        who = f"{role_title(actor.member)}{actor.member.name}" if actor.member is not None else ""
        self.record(case, "acknowledged", actor)
        params = self.params(case, who=who)
        if actor.member is not None and actor.member.team_id != case.team_id:  # a level above took it
            params["team"] = actor.member.team.name
        self.tell_resident(case, "ack_notice", params)
        return f"已受理案件{case.number}，请于{local_time(case.due_at)}前办结。"

    def progress(self, case: Case, actor: Actor, note: str) -> str:
        self._step(case, "progress")
        if case.acknowledged_at is None:
            case.acknowledged_at = self.now
            case.acknowledged_by_id = actor.member.id if actor.member is not None else None
        self.record(case, "progress", actor, note)
        self.tell_resident(case, "progress_notice", self.params(case, note=excerpt(note, 60)))
        return f"已记录案件{case.number}进展（{self.policy.status_labels.get(case.status, case.status)}）并告知居民。"

    def resolve(self, case: Case, actor: Actor, result: str) -> str:
        self._step(case, "resolve")
        case.resolved_at = self.now
        case.resolved_by_id = actor.member.id if actor.member is not None else None
        self.record(case, "resolved", actor, result)
        if case.source in STAFF_SOURCES:  # a member's own patrol report: no survey, closed on resolution
            self._step(case, "close")
            case.closed_at = self.now
            self.record(case, "closed", actor, "巡查件办结即结案，不回访")
            return f"案件{case.number}已办结（巡查件，不回访）。"
        case.awaiting = "rating"
        case.survey_sent_at = self.now
        self.tell_resident(case, "resolved_notice", self.params(case, result=excerpt(result, 60)), kind="survey")
        return f"案件{case.number}已办结，已请居民评价。"

    def return_(self, case: Case, actor: Actor, reason: str) -> str:
        target = self.escalation_target(case.team_id, case.area_id)
        if target is None:
            raise IllegalStep("已是最高一级，无法退回")
        from_team = self.team(case.team_id)
        self._step(case, "return")
        case.team_id = target.id
        self.record(case, "returned", actor, reason, to_team=target.code, from_team=from_team.code if from_team else None)
        self.tell_team(target.id, "returned_team", self.params(case, reason=reason, from_team=from_team.name if from_team else ""),
                       "team_notice", case, leaders_only=True)
        return f"案件{case.number}已退回{target.name}。"

    def transfer(self, case: Case, actor: Actor, team_text: str) -> str:
        target = self.find_team(team_text)
        if target is None:
            raise IllegalStep(f"找不到团队“{team_text}”（请用团队编号或全称）")
        if target.id == case.team_id:
            raise IllegalStep(f"案件{case.number}已由{target.name}办理")
        self._step(case, "transfer")
        old = case.team_id
        case.team_id = target.id
        case.acknowledged_at = None
        case.ack_due_at = acknowledge_deadline(self.now, case.category, case.urgency, self.policy)
        case.ack_escalated_at = None
        skip_early_reminders(case, self.now, self.policy, resolve=False)
        self.record(case, "transferred", actor, f"转 {target.name}", to_team=target.code, from_team=self._code(old))
        self.tell_team(target.id, "team_notice", self.notice_params(case), "team_notice", case,
                       urgent=case.urgency == "urgent")
        self.tell_resident(case, "transfer_notice", self.params(case))
        return f"案件{case.number}已转{target.name}。"

    def escalate(self, case: Case, actor: Actor, reason: str, overdue: bool = False) -> str:
        target = self.escalation_target(case.team_id, case.area_id)
        if target is None:
            raise IllegalStep("已是最高一级，无法上报")
        old = case.team_id
        self._step(case, "escalate")
        case.team_id = target.id
        case.escalation_level += 1
        case.acknowledged_at = None
        case.ack_due_at = acknowledge_deadline(self.now, case.category, case.urgency, self.policy)
        skip_early_reminders(case, self.now, self.policy, resolve=False)
        if overdue:
            case.overdue = True
        self.record(case, "escalated", actor, reason, to_team=target.code, from_team=self._code(old),
                    level=case.escalation_level)
        params = self.params(case, reason=reason)
        self.tell_team(target.id, "escalation_team", params, "escalation", case, leaders_only=True, urgent=True)
        self.tell_team(old, "escalation_original", params, "escalation", case, leaders_only=True, actor=actor)
        if not overdue:
            self.tell_resident(case, "escalated_notice", params)
        return f"案件{case.number}已上报{target.name}。"

    def reopen(self, case: Case, actor: Actor, reason: str) -> None:
        self._step(case, "reopen")
        case.reopen_count += 1
        case.awaiting = None
        case.resolved_at = case.closed_at = None
        case.acknowledged_at = None
        case.ack_due_at = acknowledge_deadline(self.now, case.category, case.urgency, self.policy)
        case.ack_escalated_at = None
        skip_early_reminders(case, self.now, self.policy, resolve=False)
        self.record(case, "reopened", actor, reason)
        params = self.params(case)
        self.tell_team(case.team_id, "reopened_team", params, "team_notice", case)
        self.tell_resident(case, "reopened_notice", params)

    def rate(self, case: Case, actor: Actor, rating: str) -> None:
        self.record(case, "rated", actor, RATING_WORDS[rating], rating=rating)
        case.rating, case.rated_at = rating, self.now
        if rating == "dissatisfied":
            self.reopen(case, actor, "居民评价不满意")
            return
        self.close(case, actor, rating)
        self.notifier.send(case.reporter_phone, "rating_thanks", {"number": case.number}, "command_reply", case)

    def close(self, case: Case, actor: Actor, rating: str) -> None:
        self._step(case, "close")
        case.closed_at = self.now
        case.awaiting = None
        if case.rating is None:
            case.rating = rating
        self.record(case, "closed", actor, f"评价：{RATING_WORDS.get(rating, rating)}")

    # -- lookups -----------------------------------------------------------------------------
    def _code(self, team_id: int | None) -> str | None:
        team = directory.current(self.session).teams.get(team_id) if team_id else None
        return team.code if team else None

    def find_team(self, text: str) -> TeamRef | None:
        needle = text.strip().upper()
        teams = directory.current(self.session).teams.values()
        for team in teams:
            if team.code.upper() == needle:
                return team
        exact = [t for t in teams if t.name == text.strip()]
        if exact:
            return exact[0]
        partial = [t for t in teams if text.strip() and text.strip() in t.name]
        return partial[0] if len(partial) == 1 else None

    def notice_params(self, case: Case) -> dict:
        from models.phones import mask_local, mask_name

        team = self.team(case.team_id)
        area = directory.current(self.session).areas.get(case.area_id) if case.area_id else None
        return {
            "number": case.number, "category": self.category_label(case),
            "urgent_tag": "·紧急" if case.urgency == "urgent" else "", "area": area.name if area else "区域未知",
            "reporter": mask_name(case.reporter_name), "phone": mask_local(case.reporter_phone),
            "excerpt": excerpt(case.text.replace("\n", " "), self.policy.conversation.excerpt_chars),
            "ack_due": local_time(case.ack_due_at), "due": local_time(case.due_at),
            "team": team.name if team else "区指挥中心",
        }

    def calendar_gap_note(self) -> str | None:
        missing = calendar_for(self.policy.working_time).missing_years
        if missing:
            return (f"{'、'.join(str(y) for y in sorted(missing))} 年调休安排未收录：法定节假日已扣除，"
                    f"调休上班的周末未计入")
        return None


GRID_TITLES = {"leader": "网格长", "member": "网格员", "instructor": "指导员", "volunteer": "志愿者"}
STAFF_TITLES = {"leader": "负责人", "member": "工作人员", "instructor": "指导员", "volunteer": "志愿者"}


def role_title(member: Member) -> str:
    """网格长/网格员 in grid teams; a bureau's or a centre's people are 负责人/工作人员."""
    titles = GRID_TITLES if member.team is not None and member.team.kind == "grid_team" else STAFF_TITLES
    return titles.get(member.role, "成员")


def member_actor(member: Member, channel: str = "sms") -> Actor:
    return Actor(f"{role_title(member)} {member.name} {mask(member.phone)}", channel, member)
