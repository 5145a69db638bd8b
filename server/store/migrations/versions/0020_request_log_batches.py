"""The request log kept as batches: a row holds the requests of one sandbox written at once, as
a compressed JSON array, instead of a row a request. The requests logged so far move into
batches.

Revision ID: 0020
Revises: 0019
"""

import itertools
import zlib

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# A logged request's fields, as the rows of 0019 held them and the batches' entries hold them.
FIELDS = (
    "id",
    "created",
    "method",
    "path",
    "operation_id",
    "status",
    "duration_us",
    "error_code",
    "idempotency_key",
    "idempotent_replayed",
    "test_fault",
    "request_body",
    "response_body",
)
MOVED_AT_ONCE = 200  # requests to a batch

rows_table = sa.table(
    "request_logs",
    sa.column("seq", sa.Integer),
    sa.column("account_id", sa.String),
    sa.column("environment", sa.String),
    # Typed, so that SQLite's 0 and 1 come back as the booleans the entries hold.
    *(sa.column(name, sa.Boolean if name == "idempotent_replayed" else None) for name in FIELDS),
)
batches_table = sa.table(
    "request_log_batches",
    sa.column("seq", sa.Integer),
    sa.column("account_id", sa.String),
    sa.column("environment", sa.String),
    sa.column("first_created", sa.BigInteger),
    sa.column("last_created", sa.BigInteger),
    sa.column("size", sa.Integer),
    sa.column("entries", sa.LargeBinary),
)


def upgrade() -> None:
    op.create_table(
        "request_log_batches",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("first_created", sa.BigInteger, nullable=False),
        sa.Column("last_created", sa.BigInteger, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("entries", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "ix_request_log_batches_owner_seq",
        "request_log_batches",
        ["account_id", "environment", "seq"],
    )
    op.create_index("ix_request_log_batches_last_created", "request_log_batches", ["last_created"])
    connection = op.get_bind()
    logged = connection.execute(
        sa.select(rows_table).order_by(
            rows_table.c.account_id, rows_table.c.environment, rows_table.c.seq
        )
    ).mappings()
    by_sandbox = itertools.groupby(logged, key=lambda row: (row["account_id"], row["environment"]))
    for (account_id, environment), rows in by_sandbox:
        sandbox_rows = list(rows)
        for start in range(0, len(sandbox_rows), MOVED_AT_ONCE):
            chunk = sandbox_rows[start : start + MOVED_AT_ONCE]
            entries = [{name: row[name] for name in FIELDS} for row in chunk]
            connection.execute(
                sa.insert(batches_table).values(
                    account_id=account_id,
                    environment=environment,
                    first_created=min(entry["created"] for entry in entries),
                    last_created=max(entry["created"] for entry in entries),
                    size=len(entries),
                    entries=zlib.compress(orjson.dumps(entries), 1),
                )
            )
    op.drop_index("ix_request_logs_created", "request_logs")
    op.drop_index("ix_request_logs_owner_seq", "request_logs")
    op.drop_table("request_logs")


def downgrade() -> None:
    op.create_table(
        "request_logs",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(60), nullable=False, unique=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("environment", sa.String(20), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("operation_id", sa.String(60), nullable=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("duration_us", sa.BigInteger, nullable=False),
        sa.Column("error_code", sa.String(100), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("idempotent_replayed", sa.Boolean, nullable=False),
        sa.Column("test_fault", sa.String(40), nullable=True),
        sa.Column("request_body", sa.Text, nullable=True),
        sa.Column("response_body", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_request_logs_owner_seq", "request_logs", ["account_id", "environment", "seq"]
    )
    op.create_index("ix_request_logs_created", "request_logs", ["created"])
    connection = op.get_bind()
    for batch in connection.execute(
        sa.select(batches_table).order_by(batches_table.c.seq)
    ).mappings():
        owner = {"account_id": batch["account_id"], "environment": batch["environment"]}
        entries = orjson.loads(zlib.decompress(batch["entries"]))
        connection.execute(sa.insert(rows_table), [{**owner, **entry} for entry in entries])
    op.drop_index("ix_request_log_batches_last_created", "request_log_batches")
    op.drop_index("ix_request_log_batches_owner_seq", "request_log_batches")
    op.drop_table("request_log_batches")
