"""A webhook endpoint's previous signing secret, which signs deliveries beside the new one for a
while after a rotation.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as endpoints:
        endpoints.add_column(sa.Column("previous_secret", sa.String(100), nullable=True))
        endpoints.add_column(sa.Column("previous_secret_expires", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as endpoints:
        endpoints.drop_column("previous_secret_expires")
        endpoints.drop_column("previous_secret")
