"""Settings from TEN99_* environment variables, each with a working default, all checked at once:
`Settings.from_env()` refuses bad values with one line per variable, naming what is allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, PositiveInt, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.core.egress import TargetPolicy
from server.core.principals import ALL_KEY_PREFIXES

PREFIX = "TEN99_"
DEFAULT_RATE_LIMIT = "1000/second"
# Requests with a missing or wrong key, per client address: a scan of random keys is soon
# refused without a database lookup, while a client that mistyped its key retries freely.
DEFAULT_AUTH_FAILURE_LIMIT = "30/minute"
OFF = "off"
DATABASE_SCHEMES = ("sqlite", "postgresql")
REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_FORMATS = ("human", "json")
CHOICES = {"log_level": LOG_LEVELS, "log_format": LOG_FORMATS}


class SettingsError(ValueError):
    """Bad settings: one line per variable, naming it, its value and what it may be."""


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def _default_database() -> str:
    return f"sqlite:///{Path.cwd() / 'ten99policy.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore"
    )

    # SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db.
    database_url: str = Field(default_factory=_default_database)
    api_key: str | None = None
    validate_responses: bool = False
    # Each answer says how many statements and transactions its request ran (a header).
    count_statements: bool = False
    log_level: str = "info"
    # "human" lines, or "json": one object per line (server/core/logs.py).
    log_format: str = "human"
    # `limits` notation, per API key; several limits separate with ";". "off" disables them.
    rate_limit: str = DEFAULT_RATE_LIMIT
    redis_url: str | None = None
    # `limits` notation, per client address, of requests refused for their API key; "off" for
    # none.
    auth_failure_limit: str = DEFAULT_AUTH_FAILURE_LIMIT
    # Where clients reach this server, for the links it hands out (policy documents). Without
    # it, links use the address each request came to.
    public_url: str | None = None
    # Without public_url, the Host names a request may put in its links: these, and the address
    # the request reached. Another Host (one an attacker chose) gets that address instead.
    # "*" trusts every Host header.
    link_hosts: Annotated[tuple[str, ...], NoDecode] = ("localhost", "127.0.0.1", "::1")
    # Email leaves over SMTP when this is set (smtp://user:password@host:587, smtps://...);
    # otherwise it is recorded in the database only (`ten99-server mail list`).
    smtp_url: str | None = None
    mail_from: str = "1099Policy <no-reply@localhost>"
    # Run the background worker (certificates, email, webhooks) inside the server process.
    worker: bool = True
    # Whether `serve` and `worker` bring the schema up to date as they start; off, they refuse
    # to start on a stale schema, and `ten99-server migrate` (a step of a rollout) moves it.
    migrate_at_start: bool = True
    # Seconds a stopping process (SIGTERM) gives the requests it is answering, and then the
    # background work it runs, to end; work still running then is handed back to the next
    # worker. `serve` with its worker process ends within twice this, and a few seconds.
    shutdown_grace_seconds: PositiveInt = 10
    # Megabytes the certificates of insurance uploaded for review (an account's, in one
    # environment) may hold in all.
    certificate_storage_mb: PositiveInt = 100
    # How many snapshots a sandbox keeps at most, and the megabytes they may take in all.
    snapshots_per_sandbox: PositiveInt = 20
    snapshot_storage_mb: PositiveInt = 100
    # Whether sandbox keys' requests are logged (the request log), and how many a sandbox's
    # log keeps at most (none older than 7 days).
    request_log: bool = True
    request_log_limit: PositiveInt = 10_000
    # Seconds a worker holds a task it runs, renewed while it runs: a worker that died (or
    # lost its database) lets its task go this long after, to the next worker.
    task_lease_seconds: PositiveInt = 30
    # Seconds before a failed webhook delivery is first retried; doubled at each retry.
    webhook_retry_seconds: PositiveInt = 30
    # Which addresses webhook deliveries may go to (server/core/egress.py): public ones, and
    # this machine's by default, where a developer runs a receiver.
    webhook_targets: TargetPolicy = TargetPolicy.LOOPBACK
    # Connections (server/middleware/connections.py): the largest request line and headers, in
    # bytes; the seconds a client has to send a whole request; the connections one client address
    # may hold open (None: no cap), and all clients together.
    max_header_bytes: PositiveInt = 16 * 1024
    request_timeout: PositiveInt = 30
    connections_per_client: PositiveInt | None = 64
    max_connections: PositiveInt = 1000
    # PostgreSQL: the most connections one server process opens for requests; past them a
    # request waits for one. Every process on one PostgreSQL must fit its max_connections (100
    # by default), each with up to 22 more for background work (server/store/db.py).
    database_connections: PositiveInt = 48

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """The settings of this process's environment, but for `overrides`; SettingsError if
        any is bad."""
        try:
            return cls(**overrides)
        except ValidationError as invalid:
            raise SettingsError(describe(invalid)) from None

    @property
    def certificate_storage_bytes(self) -> int:
        return self.certificate_storage_mb * 1024 * 1024

    @property
    def snapshot_storage_bytes(self) -> int:
        return self.snapshot_storage_mb * 1024 * 1024

    @field_validator("database_url")
    @classmethod
    def _database(cls, url: str) -> str:
        scheme = urlsplit(url).scheme.split("+")[0]
        if scheme == "postgres":
            scheme = "postgresql"
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                "must be a SQLite or PostgreSQL URL, such as sqlite:///ten99policy.db or "
                "postgresql+psycopg://user@host:5432/ten99"
            )
        if scheme == "postgresql":
            # The driver installed with the server, whatever the URL names.
            return "postgresql+psycopg" + url[url.index(":") :]
        return url

    @field_validator("api_key")
    @classmethod
    def _api_key(cls, key: str | None) -> str | None:
        if key is not None and not key.startswith(ALL_KEY_PREFIXES):
            raise ValueError(f"must start with one of {', '.join(ALL_KEY_PREFIXES)}")
        return key

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _one_of(cls, value: str, info: ValidationInfo) -> str:
        assert info.field_name is not None  # pydantic names the field it validates
        allowed = CHOICES[info.field_name]
        if str(value).strip().lower() not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return str(value).strip().lower()

    @field_validator("rate_limit", "auth_failure_limit")
    @classmethod
    def _limit(cls, text: str) -> str:
        if text.strip().lower() == OFF:
            return OFF
        try:
            parse_many(text)
        except ValueError:
            raise ValueError(
                "must be a rate limit such as 100/second or 1000/minute;100/second, or off"
            ) from None
        return text

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, url: str | None) -> str | None:
        if url is not None and urlsplit(url).scheme not in REDIS_SCHEMES:
            raise ValueError("must be a Redis URL such as redis://127.0.0.1:6379/0")
        return url

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("must look like smtp://user:password@host:587 or smtps://host:465")
        return url

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http or https URL, such as https://sandbox.example.com")
        return url.rstrip("/")

    @field_validator("link_hosts", mode="before")
    @classmethod
    def _link_hosts(cls, value, info: ValidationInfo):
        if isinstance(value, str):
            names = tuple(n.strip().lower() for n in value.split(",") if n.strip())
            assert info.field_name is not None  # pydantic names the field it validates
            return names or cls.model_fields[info.field_name].default
        return value

    @field_validator("webhook_targets", mode="before")
    @classmethod
    def _targets(cls, value):
        if isinstance(value, str):
            try:
                return TargetPolicy(value.strip().lower())
            except ValueError:
                raise ValueError(
                    f"must be one of {', '.join(p.value for p in TargetPolicy)}"
                ) from None
        return value

    @field_validator("connections_per_client", mode="before")
    @classmethod
    def _cap(cls, value):
        if isinstance(value, str):
            text = value.strip().lower()
            if text == OFF:
                return None
            if not text.isdigit() or int(text) < 1:
                raise ValueError("must be a whole number, at least 1, or off")
        return value


def describe(invalid: ValidationError) -> str:
    """One line per bad setting: `TEN99_NAME='value': what it must be`."""
    lines = []
    for error in invalid.errors():
        name = env_name(str(error["loc"][0])) if error["loc"] else PREFIX + "*"
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] in ("greater_than", "int_parsing", "int_type", "int_from_float"):
            reason = "must be a whole number, at least 1"
        elif error["type"] == "bool_parsing":
            reason = "must be on or off (true/false, yes/no, 1/0)"
        lines.append(f"{name}={error['input']!r}: {reason}")
    return "\n".join(lines)
