"""Webhook endpoints, events and their deliveries.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
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
        "webhook_endpoints",
        *_scoped_columns(),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("enabled_events", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
    )
    _owner_index("webhook_endpoints")
    op.create_table(
        "events",
        *_scoped_columns(),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("object_kind", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(60), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    _owner_index("events")
    op.create_index(
        "ix_events_owner_type_seq", "events", ["account_id", "environment", "type", "seq"]
    )
    op.create_table(
        "webhook_deliveries",
        *_scoped_columns(),
        sa.Column("endpoint_id", sa.String(60), nullable=False),
        sa.Column("event_id", sa.String(60), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.JSON, nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger, nullable=True),
        sa.Column("leased_until", sa.BigInteger, nullable=True),
        sa.Column("lease", sa.String(40), nullable=True),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_chain", "webhook_deliveries", ["endpoint_id", "object_id", "seq"]
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_seq", "webhook_deliveries", ["endpoint_id", "seq"]
    )


def downgrade() -> None:
    for table in ("webhook_deliveries", "events", "webhook_endpoints"):
        op.drop_table(table)
