"""What the application and invoice events of the current reference need: whether a session's
hosted page was opened (`application.started`) and its ineligibility announced, when its manual
review ends (`review_ends_at`) and whether that was announced; when an invoice's card is
charged (`charge_at`) and whether it was.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false())


def upgrade() -> None:
    with op.batch_alter_table("application_sessions") as batch:
        batch.add_column(_flag("started"))
        batch.add_column(_flag("ineligibility_announced"))
        batch.add_column(sa.Column("review_ends_at", sa.BigInteger, nullable=True))
        batch.add_column(_flag("review_announced"))
    op.create_index(
        "ix_application_sessions_reviewing",
        "application_sessions",
        ["review_announced", "review_ends_at"],
    )
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("charge_at", sa.BigInteger, nullable=True))
        batch.add_column(_flag("charge_announced"))
    op.create_index("ix_invoices_charging", "invoices", ["charge_announced", "charge_at"])


def downgrade() -> None:
    op.drop_index("ix_invoices_charging", "invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("charge_announced")
        batch.drop_column("charge_at")
    op.drop_index("ix_application_sessions_reviewing", "application_sessions")
    with op.batch_alter_table("application_sessions") as batch:
        for name in ("review_announced", "review_ends_at", "ineligibility_announced", "started"):
            batch.drop_column(name)
