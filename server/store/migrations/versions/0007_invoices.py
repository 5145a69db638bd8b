"""Invoices: a contractor's earnings for a job over a pay cycle, and the premium owed on them;
and a job's expected duration in hours, which the official client libraries send.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("duration_hours", sa.Integer, nullable=True))
    op.create_table(
        "invoices",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("contractor", sa.String(60), nullable=False),
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("policy", sa.String(60), nullable=False),
        sa.Column("gross_pay", sa.BigInteger, nullable=False),
        sa.Column("paycycle_startdate", sa.BigInteger, nullable=False),
        sa.Column("paycycle_enddate", sa.BigInteger, nullable=False),
        sa.Column("premium", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("paid_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_invoices_owner_seq", "invoices", ["account_id", "environment", "seq"])
    op.create_index(
        "ux_invoices_cycle",
        "invoices",
        [
            "account_id",
            "environment",
            "contractor",
            "job",
            "paycycle_startdate",
            "paycycle_enddate",
        ],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("invoices")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("duration_hours")
