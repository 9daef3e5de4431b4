"""case loop: satisfaction, reopen and repeat counts, reminder and escalation claims

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = [
    ("rating", sa.String(24)), ("rated_at", sa.DateTime()), ("survey_sent_at", sa.DateTime()),
    ("ack_reminded_at", sa.DateTime()), ("due_reminded_at", sa.DateTime()),
    ("ack_escalated_at", sa.DateTime()), ("due_escalated_at", sa.DateTime()),
]
COUNTERS = ["reopen_count", "repeat_count", "escalation_level"]


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_cases_status_ack_due", ["status", "ack_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_status_ack_due")
        for name in COUNTERS + [c for c, _ in COLUMNS]:
            batch.drop_column(name)
