"""When a policy was cancelled, and why, for its document to say.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policies") as policies:
        policies.add_column(sa.Column("cancelled_at", sa.BigInteger, nullable=True))
        policies.add_column(sa.Column("cancellation_reason", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policies") as policies:
        policies.drop_column("cancellation_reason")
        policies.drop_column("cancelled_at")
