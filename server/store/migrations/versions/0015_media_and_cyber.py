"""Media and cyber liability: the job categories that carry them (data/job_categories.toml,
which migration 0003 seeds a new database from, says the same).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

categories = sa.table(
    "job_categories", sa.column("id", sa.String), sa.column("available_coverage", sa.JSON)
)

CARRIED = {
    "jc_GnnsLt3Ckw": ["general", "professional", "media"],  # Photography
    "jc_3z6dDP0aB4": ["general", "professional", "media"],  # Videography
    "jc_hGPfifSCOs": ["general", "professional", "cyber"],  # Software development
    "jc_Q680CLytiC": ["general", "professional", "media", "cyber"],  # Web design
    "jc_pFtr8jE9va": ["general", "professional", "media"],  # Graphic design
    "jc_ZxlTnQ8fI3": ["general", "professional", "media"],  # Copywriting
    "jc_uceLLE4Meu": ["general", "professional", "cyber"],  # Bookkeeping
    "jc_5UGkY1cFS7": ["general", "professional", "cyber"],  # IT support
    "jc_BZWSHZKfaN": ["general", "professional", "cyber"],  # Virtual assistant
    "jc_jYg1jcvicD": ["general", "professional", "media", "cyber"],  # Marketing consulting
    "jc_zIriL77Wwi": ["general", "professional", "media"],  # Commercial drone operation
}


def _carry(coverage_of: dict[str, list[str]]) -> None:
    for category_id, coverage in coverage_of.items():
        op.execute(
            categories.update()
            .where(categories.c.id == category_id)
            .values(available_coverage=coverage)
        )


def upgrade() -> None:
    _carry(CARRIED)


def downgrade() -> None:
    _carry(
        {
            category_id: [c for c in coverage if c not in ("media", "cyber")]
            for category_id, coverage in CARRIED.items()
        }
    )
