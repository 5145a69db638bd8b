"""Sandbox snapshots: a sandbox's rows as they were, to be restored, and their counts.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_snapshots",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("objects", sa.Integer, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frozen_time", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_sandbox_snapshots_owner_seq",
        "sandbox_snapshots",
        ["account_id", "environment", "seq"],
    )
    op.create_table(
        "sandbox_snapshot_contents",
        sa.Column(
            "snapshot_id",
            sa.String(60),
            sa.ForeignKey("sandbox_snapshots.id"),
            primary_key=True,
        ),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sandbox_snapshot_contents")
    op.drop_index("ix_sandbox_snapshots_owner_seq", "sandbox_snapshots")
    op.drop_table("sandbox_snapshots")
