"""Assignments, background tasks, the email outbox and hosted application sessions.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _scoped_columns() -> list[sa.Column]:
    return [
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    ]


def _owner_index(table: str) -> None:
    op.create_index(f"ix_{table}_owner_seq", table, ["account_id", "environment", "seq"])


def upgrade() -> None:
    op.create_table(
        "assignments",
        *_scoped_columns(),
        sa.Column("contractor", sa.String(60), nullable=False),
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("coverage_type", sa.JSON, nullable=False),
        sa.Column("effective_date", sa.BigInteger, nullable=False),
        sa.Column("end_date", sa.BigInteger, nullable=False),
        sa.Column("eligible", sa.Boolean, nullable=False),
        sa.Column("eligibility_message", sa.String(1000), nullable=True),
        sa.Column("net_rate", sa.Integer, nullable=False),
        sa.Column("quote_json", sa.JSON, nullable=False),
        sa.Column("bind", sa.Boolean, nullable=False),
        sa.Column("policy", sa.String(60), nullable=True),
        sa.Column("certificates", sa.JSON, nullable=True),
        sa.Column("certificate_refresh_pending", sa.Boolean, nullable=False),
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
    )
    _owner_index("assignments")
    op.create_index("ix_assignments_job", "assignments", ["job"])
    op.create_index(
        "ux_assignments_live_job",
        "assignments",
        ["job"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "tasks",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(60), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("run_after", sa.BigInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("done_at", sa.BigInteger, nullable=True),
        sa.Column("last_error", sa.String(2000), nullable=True),
    )
    op.create_index("ix_tasks_due", "tasks", ["done_at", "run_after"])
    op.create_table(
        "emails",
        *_scoped_columns(),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("about", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(2000), nullable=True),
    )
    op.create_table(
        "application_sessions",
        *_scoped_columns(),
        sa.Column("quote", sa.String(60), nullable=False),
        sa.Column("success_url", sa.String(2048), nullable=True),
        sa.Column("cancel_url", sa.String(2048), nullable=True),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("completed_at", sa.BigInteger, nullable=True),
        sa.Column("policy", sa.String(60), nullable=True),
    )
    _owner_index("application_sessions")


def downgrade() -> None:
    for table in ("application_sessions", "emails", "tasks", "assignments"):
        op.drop_table(table)
