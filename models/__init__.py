"""SQLAlchemy 2 models and Alembic migrations (depends on classifier only)."""
from .area import STOCK_LEVELS, Area
from .base import Base, from_local, iso, to_local, utcnow
from .case import NUMBER_BASE, OPEN_STATUSES, STATUSES, Case, CaseTeam
from .event import CaseEvent
from .message import FINAL_STATES, STATUS_RANK, InboundMessage, OutboundMessage
from .privacy import AccessRecord, UserSession
from .resident import OptOut, Resident
from .team import ROLES, STOCK_TEAM_KINDS, Member, Team
from .user import ApiToken, Call, User
from .worklog import WorkLog

__all__ = [
    "AccessRecord", "UserSession", "ApiToken", "Area", "Base", "Call", "User", "Case", "CaseEvent", "CaseTeam", "FINAL_STATES", "InboundMessage", "Member",
    "NUMBER_BASE", "OPEN_STATUSES", "OptOut", "OutboundMessage", "ROLES", "Resident", "STATUSES",
    "STATUS_RANK", "STOCK_LEVELS", "STOCK_TEAM_KINDS", "Team", "from_local", "iso", "to_local", "utcnow", "WorkLog",
]
