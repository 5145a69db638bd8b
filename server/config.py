"""Settings from TEN99_* environment variables, each with a working default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from server.core.egress import TargetPolicy


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _positive(name: str, value: str | None, default, *, may_be_off: bool = False):
    """A whole number of at least 1; "off" is None where `may_be_off`."""
    if value is None or value.strip() == "":
        return default
    if may_be_off and value.strip().lower() == "off":
        return None
    if not value.strip().isdigit() or int(value) < 1:
        off = ", or off" if may_be_off else ""
        raise ValueError(f"{name} must be a whole number, at least 1{off}, not {value!r}")
    return int(value)


def _choice(name: str, value: str | None, default: TargetPolicy) -> TargetPolicy:
    if value is None or value.strip() == "":
        return default
    try:
        return TargetPolicy(value.strip().lower())
    except ValueError:
        allowed = ", ".join(p.value for p in TargetPolicy)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}") from None


def _names(value: str | None) -> tuple[str, ...]:
    """A comma-separated list, lowercased, without blanks."""
    return tuple(n.strip().lower() for n in (value or "").split(",") if n.strip())


DEFAULT_RATE_LIMIT = "1000/second"
# Requests with a missing or wrong key, per client address: a scan of random keys is soon
# refused without a database lookup, while a client that mistyped its key retries freely.
DEFAULT_AUTH_FAILURE_LIMIT = "30/minute"


@dataclass(frozen=True)
class Settings:
    database_url: str
    api_key: str | None = None
    validate_responses: bool = False
    log_level: str = "info"
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
    link_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    # Email leaves over SMTP when this is set (smtp://user:password@host:587, smtps://...);
    # otherwise it is recorded in the database only (`ten99-server mail list`).
    smtp_url: str | None = None
    mail_from: str = "1099Policy <no-reply@localhost>"
    # Run the background worker (certificates, email, webhooks) inside the server process.
    worker: bool = True
    # Seconds before a failed webhook delivery is first retried; doubled at each retry.
    webhook_retry_seconds: int = 30
    # Which addresses webhook deliveries may go to (server/core/egress.py): public ones, and
    # this machine's by default, where a developer runs a receiver.
    webhook_targets: TargetPolicy = TargetPolicy.LOOPBACK
    # Connections (server/connections.py): the largest request line and headers, in bytes; the
    # seconds a client has to send a whole request; the connections one client address may
    # hold open (None: no cap), and all clients together.
    max_header_bytes: int = 16 * 1024
    request_timeout: int = 30
    connections_per_client: int | None = 64
    max_connections: int = 1000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        default_db = f"sqlite:///{Path.cwd() / 'ten99policy.db'}"
        return cls(
            database_url=env.get("TEN99_DATABASE_URL") or default_db,
            api_key=env.get("TEN99_API_KEY") or None,
            validate_responses=_flag(env.get("TEN99_VALIDATE_RESPONSES"), False),
            log_level=env.get("TEN99_LOG_LEVEL", "info"),
            rate_limit=env.get("TEN99_RATE_LIMIT") or DEFAULT_RATE_LIMIT,
            redis_url=env.get("TEN99_REDIS_URL") or None,
            auth_failure_limit=env.get("TEN99_AUTH_FAILURE_LIMIT") or DEFAULT_AUTH_FAILURE_LIMIT,
            public_url=(env.get("TEN99_PUBLIC_URL") or "").rstrip("/") or None,
            link_hosts=_names(env.get("TEN99_LINK_HOSTS")) or cls.link_hosts,
            smtp_url=env.get("TEN99_SMTP_URL") or None,
            mail_from=env.get("TEN99_MAIL_FROM") or cls.mail_from,
            worker=_flag(env.get("TEN99_WORKER"), True),
            webhook_targets=_choice(
                "TEN99_WEBHOOK_TARGETS", env.get("TEN99_WEBHOOK_TARGETS"), TargetPolicy.LOOPBACK
            ),
            webhook_retry_seconds=_positive(
                "TEN99_WEBHOOK_RETRY_SECONDS", env.get("TEN99_WEBHOOK_RETRY_SECONDS"), 30
            ),
            max_header_bytes=_positive(
                "TEN99_MAX_HEADER_BYTES", env.get("TEN99_MAX_HEADER_BYTES"), cls.max_header_bytes
            ),
            request_timeout=_positive(
                "TEN99_REQUEST_TIMEOUT", env.get("TEN99_REQUEST_TIMEOUT"), cls.request_timeout
            ),
            connections_per_client=_positive(
                "TEN99_CONNECTIONS_PER_CLIENT",
                env.get("TEN99_CONNECTIONS_PER_CLIENT"),
                cls.connections_per_client,
                may_be_off=True,
            ),
            max_connections=_positive(
                "TEN99_MAX_CONNECTIONS", env.get("TEN99_MAX_CONNECTIONS"), cls.max_connections
            ),
        )
