"""Entities, the job category catalogue, jobs, quotes, policies and their documents.

Revision ID: 0003
Revises: 0002
"""

import tomllib
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CATALOGUE = Path(__file__).parents[3] / "domain" / "data" / "job_categories.toml"
# When the catalogue was first published; categories are listed newest first by seq.
CATALOGUE_CREATED = 1704067200


def _scoped_columns() -> list[sa.Column]:
    return [
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    ]


def _owner_index(table: str) -> None:
    op.create_index(f"ix_{table}_owner_seq", table, ["account_id", "environment", "seq"])


def upgrade() -> None:
    op.add_column("contractors", sa.Column("years_experience", sa.Integer, nullable=True))
    op.create_table(
        "entities",
        *_scoped_columns(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.JSON, nullable=True),
        sa.Column("coverage_limit", sa.JSON, nullable=True),
        sa.Column("required_coverage", sa.JSON, nullable=False),
    )
    _owner_index("entities")
    categories = op.create_table(
        "job_categories",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("risk_class", sa.String(20), nullable=False),
        sa.Column("available_coverage", sa.JSON, nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
    )
    with CATALOGUE.open("rb") as file:
        rows = tomllib.load(file)["category"]
    op.bulk_insert(categories, [{**row, "created": CATALOGUE_CREATED} for row in rows])
    op.create_table(
        "jobs",
        *_scoped_columns(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(5000), nullable=False),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column(
            "category_code", sa.String(60), sa.ForeignKey("job_categories.id"), nullable=False
        ),
        sa.Column("wage", sa.BigInteger, nullable=False),
        sa.Column("wage_type", sa.String(20), nullable=False),
        sa.Column("years_experience", sa.Integer, nullable=True),
        sa.Column("address", sa.JSON, nullable=True),
    )
    _owner_index("jobs")
    op.create_index("ix_jobs_entity", "jobs", ["entity"])
    op.create_table(
        "quotes",
        *_scoped_columns(),
        sa.Column("contractor", sa.String(60), nullable=False),
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("coverage_type", sa.JSON, nullable=False),
        sa.Column("effective_date", sa.BigInteger, nullable=False),
        sa.Column("end_date", sa.BigInteger, nullable=False),
        sa.Column("eligible", sa.Boolean, nullable=False),
        sa.Column("eligibility_message", sa.String(1000), nullable=True),
        sa.Column("net_rate", sa.Integer, nullable=False),
        sa.Column("quote_json", sa.JSON, nullable=False),
    )
    _owner_index("quotes")
    op.create_index("ix_quotes_contractor", "quotes", ["contractor"])
    op.create_index("ix_quotes_job", "quotes", ["job"])
    op.create_table(
        "policies",
        *_scoped_columns(),
        sa.Column("quote", sa.String(60), sa.ForeignKey("quotes.id"), nullable=False, unique=True),
        sa.Column("effective_date", sa.BigInteger, nullable=False),
        sa.Column("expiration_date", sa.BigInteger, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("document_facts", sa.JSON, nullable=False),
        sa.Column("document", sa.String(64), nullable=True),
        sa.Column("document_status", sa.String(20), nullable=True),
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
    )
    _owner_index("policies")
    op.create_table(
        "documents",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("documents", "policies", "quotes", "jobs", "job_categories", "entities"):
        op.drop_table(table)
    op.drop_column("contractors", "years_experience")
