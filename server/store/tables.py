"""The database tables. A change here needs a new migration in migrations/versions/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
    true,
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
    Column("years_experience", Integer, nullable=True),
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

entities = Table(
    "entities",
    metadata,
    *_scoped_columns(),
    Column("name", String(200), nullable=False),
    Column("address", JSON, nullable=True),
    Column("coverage_limit", JSON, nullable=True),
    Column("required_coverage", JSON, nullable=False),
    Index("ix_entities_owner_seq", "account_id", "environment", "seq"),
)

# The catalogue every account shares; seeded by migration 0003 from
# server/domain/data/job_categories.toml.
job_categories = Table(
    "job_categories",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(60), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", String(500), nullable=False),
    Column("risk_class", String(20), nullable=False),
    Column("available_coverage", JSON, nullable=False),
    Column("approved", Boolean, nullable=False),
)

# A job keeps its entity's id after the entity is deleted, so no foreign key: the policies of
# its quotes are cancelled, and the history stays readable.
jobs = Table(
    "jobs",
    metadata,
    *_scoped_columns(),
    Column("name", String(200), nullable=False),
    Column("description", String(5000), nullable=False),
    Column("entity", String(60), nullable=False),
    Column("category_code", String(60), ForeignKey("job_categories.id"), nullable=False),
    Column("wage", BigInteger, nullable=False),
    Column("wage_type", String(20), nullable=False),
    Column("years_experience", Integer, nullable=True),
    Column("address", JSON, nullable=True),
    Column("duration_hours", Integer, nullable=True),
    Index("ix_jobs_owner_seq", "account_id", "environment", "seq"),
    Index("ix_jobs_entity", "entity"),
)

# Quotes name their contractor and job by id, without foreign keys, for the same reason.
quotes = Table(
    "quotes",
    metadata,
    *_scoped_columns(),
    Column("contractor", String(60), nullable=False),
    Column("job", String(60), nullable=False),
    Column("coverage_type", JSON, nullable=False),
    Column("effective_date", BigInteger, nullable=False),
    Column("end_date", BigInteger, nullable=False),
    Column("eligible", Boolean, nullable=False),
    Column("eligibility_message", String(1000), nullable=True),
    Column("net_rate", Integer, nullable=False),
    Column("quote_json", JSON, nullable=False),
    Index("ix_quotes_owner_seq", "account_id", "environment", "seq"),
    Index("ix_quotes_contractor", "contractor"),
    Index("ix_quotes_job", "job"),
)

# One policy per quote, enforced here so that two racing requests cannot both bind a quote.
# A deleted policy keeps its row (deleted_at set): its quote stays bound.
policies = Table(
    "policies",
    metadata,
    *_scoped_columns(),
    Column("quote", String(60), ForeignKey("quotes.id"), nullable=False, unique=True),
    Column("effective_date", BigInteger, nullable=False),
    Column("expiration_date", BigInteger, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    # Set with `cancelled` (None for policies cancelled before these were kept).
    Column("cancelled_at", BigInteger, nullable=True),
    Column("cancellation_reason", String(200), nullable=True),
    # What the policy document shows that may later be deleted: insured, entity, job, coverage.
    Column("document_facts", JSON, nullable=False),
    Column("document", String(64), nullable=True),
    # The status the current document was rendered with; another status re-renders it.
    Column("document_status", String(20), nullable=True),
    Column("deleted_at", BigInteger, nullable=True),
    # Whether `policy.expired` was published: once its expiration date passed, uncancelled.
    Column("expiry_announced", Boolean, nullable=False, server_default=false()),
    Index("ix_policies_owner_seq", "account_id", "environment", "seq"),
    Index("ix_policies_expiring", "expiry_announced", "expiration_date"),
)

# Generated files served at /files/<token>/<filename> without an API key: the token is the
# capability, so it is long and random.
documents = Table(
    "documents",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created", BigInteger, nullable=False),
)

# An assignment names its contractor, job and policy by id, like a quote. Only one assignment of
# a job is live at a time: a partial unique index refuses a second, so racing requests cannot
# both make one. A deleted (voided) assignment keeps its row, so that extending its job can say
# the record was voided.
assignments = Table(
    "assignments",
    metadata,
    *_scoped_columns(),
    Column("contractor", String(60), nullable=False),
    Column("job", String(60), nullable=False),
    Column("coverage_type", JSON, nullable=False),
    Column("effective_date", BigInteger, nullable=False),
    Column("end_date", BigInteger, nullable=False),
    Column("eligible", Boolean, nullable=False),
    Column("eligibility_message", String(1000), nullable=True),
    Column("net_rate", Integer, nullable=False),
    Column("quote_json", JSON, nullable=False),
    Column("bind", Boolean, nullable=False),
    Column("policy", String(60), nullable=True),
    # Coverage key ("gl", "wc", ... as rating names them) -> its certificate's token.
    Column("certificates", JSON, nullable=True),
    Column("certificate_refresh_pending", Boolean, nullable=False),
    # What the caller asked: an unbound assignment is bound by an update only if it was asked.
    Column("bind_requested", Boolean, nullable=False, server_default=true()),
    Column("cancelled", Boolean, nullable=False, server_default=false()),
    Column("cancellation_date", BigInteger, nullable=True),
    Column("cancellation_reason", String(500), nullable=True),
    Column("deleted_at", BigInteger, nullable=True),
    Index("ix_assignments_owner_seq", "account_id", "environment", "seq"),
    Index("ix_assignments_job_seq", "job", "seq"),
    Index(
        "ux_assignments_live_job",
        "job",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

# What a contractor earned for a job over a pay cycle, and the premium computed on it (`lines`:
# per coverage type, its net rate and premium), kept as computed so that a later rate change
# leaves it be. One invoice per contractor, job and cycle: a unique index refuses a second, so
# racing requests cannot both make one.
invoices = Table(
    "invoices",
    metadata,
    *_scoped_columns(),
    Column("contractor", String(60), nullable=False),
    Column("job", String(60), nullable=False),
    Column("policy", String(60), nullable=False),
    Column("gross_pay", BigInteger, nullable=False),
    Column("paycycle_startdate", BigInteger, nullable=False),
    Column("paycycle_enddate", BigInteger, nullable=False),
    Column("premium", BigInteger, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("paid_at", BigInteger, nullable=True),
    # When the contractor's card is charged the premium, a day after the invoice is made, and
    # whether that was done (`invoice.charge_card_succeeded` or `_failed`).
    Column("charge_at", BigInteger, nullable=True),
    Column("charge_announced", Boolean, nullable=False, server_default=false()),
    Index("ix_invoices_owner_seq", "account_id", "environment", "seq"),
    Index("ix_invoices_charging", "charge_announced", "charge_at"),
    Index(
        "ux_invoices_cycle",
        "account_id",
        "environment",
        "contractor",
        "job",
        "paycycle_startdate",
        "paycycle_enddate",
        unique=True,
    ),
)

# Work done after the response: regenerating certificates, sending email. A task is recorded in
# the transaction of the change that needs it, so it survives a restart, and is marked done in
# the transaction that does it, so a crash halfway leaves it to be done again.
tasks = Table(
    "tasks",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("subject", String(60), nullable=False),  # the id of the object the work is for
    Column("payload", JSON, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("run_after", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("done_at", BigInteger, nullable=True),
    Column("last_error", String(2000), nullable=True),
    Index("ix_tasks_due", "done_at", "run_after"),
)

# Every email the server sends, kept: `recorded` (no SMTP server configured; read them with
# `ten99-server mail list`), `pending` (to send over SMTP), `sent` or `failed`.
emails = Table(
    "emails",
    metadata,
    *_scoped_columns(),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("about", String(60), nullable=False),  # the id of the object the email is about
    Column("status", String(20), nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(2000), nullable=True),
)

# Hosted application sessions. The id is the capability of the hosted page, so it is long.
application_sessions = Table(
    "application_sessions",
    metadata,
    *_scoped_columns(),
    Column("quote", String(60), nullable=False),
    Column("success_url", String(2048), nullable=True),
    Column("cancel_url", String(2048), nullable=True),
    Column("expires_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger, nullable=True),
    Column("policy", String(60), nullable=True),
    # Whether `application.expired` was published: once it lapsed uncompleted.
    Column("expiry_announced", Boolean, nullable=False, server_default=false()),
    # Whether the contractor opened the hosted page (`application.started`), and whether the
    # session was found ineligible there (`application.ineligible`).
    Column("started", Boolean, nullable=False, server_default=false()),
    Column("ineligibility_announced", Boolean, nullable=False, server_default=false()),
    # A manual review asked for on the page: when it ends, and whether its end was announced.
    Column("review_ends_at", BigInteger, nullable=True),
    Column("review_announced", Boolean, nullable=False, server_default=false()),
    Index("ix_application_sessions_owner_seq", "account_id", "environment", "seq"),
    Index("ix_application_sessions_expiring", "expiry_announced", "expires_at"),
    Index("ix_application_sessions_reviewing", "review_announced", "review_ends_at"),
)

# A certificate of insurance uploaded for review: its PDF is in `documents` (by token), its
# review's outcome in `review` (None until it has one).
uploaded_certificates = Table(
    "uploaded_certificates",
    metadata,
    *_scoped_columns(),
    Column("contractor", String(60), nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("document", String(64), nullable=False),
    Column("review", JSON, nullable=True),
    Index("ix_uploaded_certificates_owner_seq", "account_id", "environment", "seq"),
)

# A sandbox's test clock: while one exists, the sandbox of its account reads the time from it
# (`frozen_time`) instead of the wall clock. One per account and environment.
test_clocks = Table(
    "test_clocks",
    metadata,
    *_scoped_columns(),
    Column("name", String(300), nullable=True),
    Column("frozen_time", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    # Where an advance is going; the clock is `advancing` until it gets there.
    Column("advancing_to", BigInteger, nullable=True),
    Index("ix_test_clocks_owner", "account_id", "environment", unique=True),
)

# Where events are delivered. `secret` signs every delivery; the API shows it only at creation.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    *_scoped_columns(),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    Column("enabled_events", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("secret", String(100), nullable=False),
    # After a rotation, the secret before: it signs deliveries too until it expires.
    Column("previous_secret", String(100), nullable=True),
    Column("previous_secret_expires", BigInteger, nullable=True),
    Index("ix_webhook_endpoints_owner_seq", "account_id", "environment", "seq"),
)

# Every change the API reports, recorded in the transaction of the change. `data` is the
# object as the domain presented it right after the change; `object_kind` says how the API
# shows it (a contractor, a policy, ... or a deletion confirmation).
events = Table(
    "events",
    metadata,
    *_scoped_columns(),
    Column("type", String(100), nullable=False),
    Column("object_kind", String(40), nullable=False),
    Column("object_id", String(60), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_events_owner_seq", "account_id", "environment", "seq"),
    Index("ix_events_owner_type_seq", "account_id", "environment", "type", "seq"),
)

# The events the scheduler has yet to give their deliveries (written with the event, after the
# request that made it deleted by the worker): a narrow row to delete, not an event to rewrite.
events_to_route = Table(
    "events_to_route",
    metadata,
    Column("event_seq", Integer, primary_key=True, autoincrement=False),
)

# One event to one endpoint: recorded with the event, `pending` until an attempt succeeds
# (`delivered`) or three days of retries fail (`failed`). A worker leases a delivery
# (`leased_until`, `lease`) while it sends it, outside any transaction; `attempts` lists every
# attempt made.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    *_scoped_columns(),
    Column("endpoint_id", String(60), nullable=False),
    Column("event_id", String(60), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("object_id", String(60), nullable=False),  # deliveries of one object keep order
    Column("status", String(20), nullable=False),
    Column("attempts", JSON, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=True),
    Column("leased_until", BigInteger, nullable=True),
    Column("lease", String(40), nullable=True),
    Index("ix_webhook_deliveries_due_seq", "status", "next_attempt_at", "seq"),
    Index("ix_webhook_deliveries_chain", "endpoint_id", "object_id", "seq"),
    Index("ix_webhook_deliveries_endpoint_seq", "endpoint_id", "seq"),
)

# A sandbox as it was, kept to be restored: its rows, compressed, in `sandbox_snapshot_contents`
# (read only by a restore), its counts here.
sandbox_snapshots = Table(
    "sandbox_snapshots",
    metadata,
    *_scoped_columns(),
    Column("name", String(200), nullable=False),
    Column("objects", Integer, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("frozen_time", BigInteger, nullable=True),  # the sandbox's test clock's, if it had one
    Index("ix_sandbox_snapshots_owner_seq", "account_id", "environment", "seq"),
)

sandbox_snapshot_contents = Table(
    "sandbox_snapshot_contents",
    metadata,
    Column("snapshot_id", String(60), ForeignKey("sandbox_snapshots.id"), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

# The sandboxes' request logs: each request answered to a sandbox key, kept for days and at most
# a bounded number per sandbox. A row is a batch of one sandbox's requests, those written at
# once, as a compressed JSON array (server/store/request_logs.py); bodies cut at a bound, with
# secrets redacted (server/domain/request_logs.py).
request_log_batches = Table(
    "request_log_batches",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("environment", String(20), nullable=False),
    Column("first_created", BigInteger, nullable=False),
    Column("last_created", BigInteger, nullable=False),
    Column("size", Integer, nullable=False),  # how many requests
    Column("entries", LargeBinary, nullable=False),
    Index("ix_request_log_batches_owner_seq", "account_id", "environment", "seq"),
    Index("ix_request_log_batches_last_created", "last_created"),
)
