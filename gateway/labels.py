"""Chinese words for every code the console shows: event types, message outcomes and statuses,
channels, actions. A code without a word shows as 其他, never as itself."""
from __future__ import annotations

from workers.lifecycle import ACTION_WORDS

EVENTS = {
    "received": "收到反映", "classified": "自动分类", "assigned": "派单", "triage": "待分派", "located": "确定区域",
    "location_unknown": "地址未识别", "resident_message": "居民补充", "acknowledged": "受理", "progress": "进展",
    "resolved": "办结", "returned": "退回", "transferred": "转办", "escalated": "上报督办", "overdue": "超期",
    "reminded": "时限提醒", "rated": "居民评价", "closed": "结案", "reopened": "重新打开", "repeat": "重复反映",
    "recategorised": "更正类别", "command_refused": "越权指令", "calendar_gap": "调休安排未收录",
    "escalation_failed": "无法上报", "call_note": "来电登记",
    # members' field work and return visits by phone (issue 13)
    "patrol": "巡查上报", "on_the_spot": "即办", "phone_visit": "电话回访",
}
MESSAGES = {
    # outbound kinds
    "receipt": "回执", "team_notice": "派单通知", "status_update": "进度通知", "command_reply": "指令回复",
    "survey": "回访", "reminder": "时限提醒", "escalation": "督办", "opt_out": "退订确认", "opt_in": "订阅确认",
    # outbound statuses
    "pending": "待发送", "sending": "发送中", "queued": "已提交", "sent": "已发送", "delivered": "已送达",
    "undelivered": "未送达", "failed": "发送失败", "unknown": "待核实", "suppressed": "不发送", "held": "静默时段暂缓", "stored": "已存入发件箱",
    # channels
    "sms": "短信", "voice": "电话", "operator": "话务登记", "api": "接口", "console": "控制台", "system": "系统",
    # inbound statuses and outcomes
    "received": "已接收", "processing": "处理中", "processed": "已处理", "rejected": "已拒收",
    "case_opened": "立案", "case_joined": "并入案件", "command": "指令", "command_rejected": "指令有误",
    "command_refused": "越权指令", "rating": "评价", "repeat": "重复件", "status_query": "查询",
    "location_answer": "回复地址", "location_unknown": "地址未识别", "opted_out": "退订", "opted_in": "订阅",
    "empty": "空短信", "oversized": "超长短信", "invalid_sender": "号码无法识别", "not_a_report": "非反映（已答复）",
    "not_a_command": "非指令（已回复帮助）", "unknown_case": "编号不符（已答复）",
}
ACTIONS = dict(ACTION_WORDS)
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意", "no_response": "未回复"}


def word(table: dict[str, str], code: str | None) -> str:
    if not code:
        return ""
    return table.get(code, "其他")


def time_left(due, now, status: str) -> str:
    """剩2天3小时 / 剩45分钟 / 超期5小时 / 已办结, for a case list at a glance."""
    if status in ("resolved", "closed"):
        return "已办结" if status == "resolved" else "已结案"
    if due is None:
        return "—"
    seconds = int((due - now).total_seconds())
    span = abs(seconds)
    days, hours, minutes = span // 86400, span % 86400 // 3600, span % 3600 // 60
    text = f"{days}天{hours}小时" if days else f"{hours}小时{minutes}分钟" if hours else f"{minutes}分钟"
    return f"剩{text}" if seconds >= 0 else f"超期{text}"


def local_text(value: str | None) -> str:
    """An API timestamp ("2026-11-18T02:00:00Z", UTC) as people read it: "2026-11-18 10:00" in Beijing."""
    if not value:
        return "-"
    from datetime import datetime

    from models import to_local

    return to_local(datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")).strftime("%Y-%m-%d %H:%M")
