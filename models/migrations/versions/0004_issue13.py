"""field work, figures and search: case source and member attribution, call-back contact,
search tokens, work logs (民情日志), indexes for scoped lists and figures

Revision ID: 0004_issue13
Revises: 0004_issue10a
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_issue13"
down_revision = "0004_issue10a"
branch_labels = None
depends_on = None

MEMBER_COLUMNS = ("reporter_member_id", "acknowledged_by_id", "resolved_by_id")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column(
            "source", sa.Enum("resident", "patrol", "on_the_spot", name="case_source", native_enum=False,
                              create_constraint=True, length=24), nullable=False, server_default="resident"))
        for name in MEMBER_COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
            batch.create_foreign_key(f"fk_cases_{name}_members", "members", [name], ["id"], ondelete="SET NULL")
        batch.add_column(sa.Column("contact", sa.String(8), nullable=False, server_default="sms"))
        batch.add_column(sa.Column("search_tokens", sa.Text(), nullable=True))
        batch.create_index("ix_cases_area_created", ["area_id", "created_at"])
        batch.create_index("ix_cases_team_created", ["team_id", "created_at"])
    op.create_table(
        "work_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("visit", "log", name="work_log_kind", native_enum=False, create_constraint=True,
                                  length=24), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_work_logs_member_id_members"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_work_logs_team_id_teams"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_work_logs_area_id_areas"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"], name=op.f("fk_work_logs_inbound_id_inbound_messages"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_logs")),
    )
    op.create_index("ix_work_logs_member_id", "work_logs", ["member_id"])
    op.create_index("ix_work_logs_created_at", "work_logs", ["created_at"])
    op.create_index("ix_work_logs_area_created", "work_logs", ["area_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_cases_search ON cases USING gin (string_to_array(search_tokens, ' '))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search")
    op.drop_table("work_logs")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_team_created")
        batch.drop_index("ix_cases_area_created")
        for name in MEMBER_COLUMNS:
            batch.drop_constraint(f"fk_cases_{name}_members", type_="foreignkey")
            batch.drop_column(name)
        for name in ("search_tokens", "contact", "source"):
            batch.drop_column(name)
