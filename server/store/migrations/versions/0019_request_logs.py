"""The sandbox's request log: each request answered to a sandbox key, by its request id.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_logs",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("operation_id", sa.String(60), nullable=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("duration_us", sa.BigInteger, nullable=False),
        sa.Column("error_code", sa.String(100), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("idempotent_replayed", sa.Boolean, nullable=False),
        sa.Column("test_fault", sa.String(40), nullable=True),
        sa.Column("request_body", sa.Text, nullable=True),
        sa.Column("response_body", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_request_logs_owner_seq", "request_logs", ["account_id", "environment", "seq"]
    )
    op.create_index("ix_request_logs_created", "request_logs", ["created"])


def downgrade() -> None:
    op.drop_index("ix_request_logs_created", "request_logs")
    op.drop_index("ix_request_logs_owner_seq", "request_logs")
    op.drop_table("request_logs")
