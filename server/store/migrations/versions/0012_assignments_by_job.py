"""A job's assignments found by its id in the order they were made: the index on the job alone
becomes one on (job, seq), which answers "the job's latest assignment" without a sort, so that
PostgreSQL never walks every assignment of the account instead.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_assignments_job_seq", "assignments", ["job", "seq"])
    op.drop_index("ix_assignments_job", table_name="assignments")


def downgrade() -> None:
    op.create_index("ix_assignments_job", "assignments", ["job"])
    op.drop_index("ix_assignments_job_seq", table_name="assignments")
