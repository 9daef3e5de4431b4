"""inbound messages record their door and who entered them

Revision ID: 0004_issue10a
Revises: 0004_issue10b
"""
from alembic import op
import sqlalchemy as sa


revision = "0004_issue10a"
down_revision = "0004_issue10b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("door", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("entered_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_inbound_messages_entered_by_id_users"), "users", ["entered_by_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_constraint(op.f("fk_inbound_messages_entered_by_id_users"), type_="foreignkey")
        batch.drop_column("entered_by_id")
        batch.drop_column("door")
