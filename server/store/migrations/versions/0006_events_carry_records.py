"""Events carry the stored record of their object, which the API's representation shows; the
events recorded before carried a view of it without the fields a policy's and an application
session's status are worked out from (`cancelled`, `completed_at`). Add them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

events = sa.table(
    "events",
    sa.column("seq", sa.Integer),
    sa.column("created", sa.BigInteger),
    sa.column("object_kind", sa.String),
    sa.column("data", sa.JSON),
)


def _as_record(kind: str, data: dict, created: int) -> dict | None:
    """The record an old event's data stands for; None when it is one already."""
    if kind == "policy" and "cancelled" not in data:
        return {**data, "cancelled": data.get("status") == "cancelled"}
    if kind == "application_session" and "completed_at" not in data:
        completed = created if data.get("status") == "complete" else None
        return {**data, "completed_at": completed}
    return None


def upgrade() -> None:
    connection = op.get_bind()
    query = sa.select(events).where(events.c.object_kind.in_(["policy", "application_session"]))
    for row in connection.execute(query).all():
        record = _as_record(row.object_kind, row.data, row.created)
        if record is not None:
            connection.execute(events.update().where(events.c.seq == row.seq).values(data=record))


def downgrade() -> None:
    """The added fields are harmless to the earlier code, which ignores them."""
