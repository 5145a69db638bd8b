"""The server's metrics, for /metrics in Prometheus' text format.

Counted where things happen (requests in the envelope, task and delivery outcomes in the
worker) with prometheus-client. Under `serve` every process (its server processes and its worker
process) writes its counts to files in one folder (PROMETHEUS_MULTIPROC_DIR, which `serve` sets
before any of them starts), and whichever answers /metrics adds them up. The queue's gauges
(work due and held, how far the workers lag) are read from the database when /metrics is asked
for: they describe every worker of the database, not one process. Labels name routes, kinds and
outcomes, never an id, a path or a secret."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Request latency buckets, in seconds: from a cached read to a slow write.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters and histograms of this process, made on first use: prometheus-client picks
    its multi-process storage when it is imported, after `serve` has named the folder."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        # Single-process, this registry is what /metrics shows of the counters.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ten99_http_requests",
            "Requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ten99_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tasks = Counter(
            "ten99_tasks",
            "Background tasks run, by kind and outcome (done, failed, given_up, stale, resumed).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "ten99_webhook_delivery_attempts",
            "Webhook delivery attempts, by outcome (delivered, retrying, failed: no retry left; "
            "crashed: the attempt itself raised, and its lease runs out).",
            ["outcome"],
            registry=self.registry,
        )


@functools.cache
def metrics() -> Metrics:
    return Metrics()


def request_done(method: str, route: str, status: int, seconds: float) -> None:
    counted = metrics()
    counted.requests.labels(method, route, str(status)).inc()
    counted.latency.labels(method, route).observe(seconds)


def task_done(kind: str, outcome: str) -> None:
    metrics().tasks.labels(kind, outcome).inc()


def delivery_attempted(outcome: str) -> None:
    metrics().deliveries.labels(outcome).inc()


@dataclass(frozen=True)
class Backlog:
    """Queued work of one kind, read from the database: how much is due and not yet taken, how
    much is held (leased by a worker, or waiting for its retry), and how long the oldest due
    item has waited."""

    kind: str
    due: int
    held: int
    lag_seconds: float


def exposition(backlog: Iterable[Backlog] | None) -> tuple[bytes, str]:
    """The text of /metrics, and its content type. `backlog` None: the database did not
    answer."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Of(metrics().registry))

    class _Backlog:
        def collect(self) -> Iterator:
            up = GaugeMetricFamily("ten99_database_up", "1 when the database answered /metrics.")
            up.add_metric([], 0 if backlog is None else 1)
            yield up
            if backlog is None:
                return
            work = GaugeMetricFamily(
                "ten99_work_items",
                "Queued work, by kind and state (due, held).",
                labels=["kind", "state"],
            )
            lag = GaugeMetricFamily(
                "ten99_worker_lag_seconds",
                "How long the oldest due work of each kind has waited for a worker.",
                labels=["kind"],
            )
            for item in backlog:
                work.add_metric([item.kind, "due"], item.due)
                work.add_metric([item.kind, "held"], item.held)
                lag.add_metric([item.kind], item.lag_seconds)
            yield work
            yield lag

    registry.register(_Backlog())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Of:
    """Another registry's metrics, as one collector."""

    def __init__(self, registry) -> None:
        self._registry = registry

    def collect(self) -> Iterator:
        return self._registry.collect()
