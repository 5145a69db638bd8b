"""Events routed to webhook endpoints by the scheduler, after their request, not inside it: each
new event's id waits in `events_to_route` until the worker has given it its deliveries.

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
    # Every event recorded before got its deliveries in its own transaction: none waits.
    op.create_table(
        "events_to_route",
        sa.Column("event_seq", sa.Integer, primary_key=True, autoincrement=False),
    )


def downgrade() -> None:
    op.drop_table("events_to_route")
