"""Events routed to webhook endpoints by the scheduler, after their request, not inside it.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every event recorded so far got its deliveries in its own transaction.
    with op.batch_alter_table("events") as events:
        events.add_column(sa.Column("routed", sa.Boolean, nullable=False, server_default=sa.true()))
    op.create_index(
        "ix_events_unrouted",
        "events",
        ["seq"],
        postgresql_where=sa.text("NOT routed"),
        sqlite_where=sa.text("NOT routed"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_unrouted", "events")
    with op.batch_alter_table("events") as events:
        events.drop_column("routed")
