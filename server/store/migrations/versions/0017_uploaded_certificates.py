"""Certificates of insurance uploaded for review: the file (in `documents`, by its token), its
contractor, where its review is, and its outcome.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploaded_certificates",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("contractor", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("document", sa.String(64), nullable=False),
        sa.Column("review", sa.JSON, nullable=True),
    )
    op.create_index(
        "ix_uploaded_certificates_owner_seq",
        "uploaded_certificates",
        ["account_id", "environment", "seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_uploaded_certificates_owner_seq", "uploaded_certificates")
    op.drop_table("uploaded_certificates")
