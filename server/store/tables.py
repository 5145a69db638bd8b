"""The database tables. A change here needs a new migration in migrations/versions/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    # The first characters of the key, so that a person can tell keys apart in a listing.
    Column("key_hint", String(20), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)


def _scoped_columns() -> list[Column]:
    """Columns every API object has: insertion order, public id, owner, environment, created."""
    return [
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", String(60), nullable=False, unique=True),
        Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
        Column("environment", String(20), nullable=False),
        Column("created", BigInteger, nullable=False),
    ]


OWNER_COLUMNS = frozenset(column.name for column in _scoped_columns())

contractors = Table(
    "contractors",
    metadata,
    *_scoped_columns(),
    Column("first_name", String(100), nullable=False),
    Column("middle_name", String(100), nullable=True),
    Column("last_name", String(100), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("company_name", String(200), nullable=True),
    Column("address", JSON, nullable=False),
    Column("tax_identification", String(20), nullable=True),
    Column("custom_metadata", JSON, nullable=False),
    Index("ix_contractors_owner_seq", "account_id", "environment", "seq"),
)

# The first response to a POST with an idempotency key, per account and environment. A row
# without a response_status is a request still running.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
    Column("environment", String(20), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("locked_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_headers", JSON, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)
