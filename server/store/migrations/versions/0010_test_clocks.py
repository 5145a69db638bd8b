"""Test clocks, and the marks of expiries already announced by an event.

Revision ID: 0010
Revises: 0009
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
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


def upgrade() -> None:
    op.create_table(
        "test_clocks",
        *_scoped_columns(),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("frozen_time", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("advancing_to", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_test_clocks_owner", "test_clocks", ["account_id", "environment"], unique=True
    )

    def unannounced() -> sa.Column:
        return sa.Column("expiry_announced", sa.Boolean, nullable=False, server_default=sa.false())

    with op.batch_alter_table("policies") as policies:
        policies.add_column(unannounced())
        policies.create_index("ix_policies_expiring", ["expiry_announced", "expiration_date"])
    with op.batch_alter_table("application_sessions") as sessions:
        sessions.add_column(unannounced())
        sessions.create_index(
            "ix_application_sessions_expiring", ["expiry_announced", "expires_at"]
        )
    # What expired before this revision is not announced now, long after the fact.
    now = int(time.time())
    op.execute(
        sa.text(
            "UPDATE policies SET expiry_announced = true WHERE expiration_date <= :now"
        ).bindparams(now=now)
    )
    op.execute(
        sa.text(
            "UPDATE application_sessions SET expiry_announced = true WHERE expires_at <= :now"
        ).bindparams(now=now)
    )


def downgrade() -> None:
    with op.batch_alter_table("application_sessions") as sessions:
        sessions.drop_index("ix_application_sessions_expiring")
        sessions.drop_column("expiry_announced")
    with op.batch_alter_table("policies") as policies:
        policies.drop_index("ix_policies_expiring")
        policies.drop_column("expiry_announced")
    op.drop_index("ix_test_clocks_owner", "test_clocks")
    op.drop_table("test_clocks")
