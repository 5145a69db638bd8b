"""Assignments cancelled before they start (`cancelled`, `cancellation_date`,
`cancellation_reason`), and whether the caller asked to bind one (`bind_requested`: an update
that does not say keeps asking what the create asked).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(
            sa.Column("bind_requested", sa.Boolean, nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("cancellation_date", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("cancellation_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        for name in ("cancellation_reason", "cancellation_date", "cancelled", "bind_requested"):
            batch.drop_column(name)
