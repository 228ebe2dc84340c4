"""Prometheus metrics for operators, served by the web server at ``/metrics`` (``prometheus_client``).

Two kinds of numbers:

* **Events** this process saw (API attempts and their latency, API errors, acknowledgement latency,
  refusals): counters and histograms fed by one-line hooks (``api_attempt``, ``acknowledged``,
  ``refused``) at the places they happen. Sum them over processes.
* **State** read when scraped (``Metrics.refresh``): jobs by status, queue depth and images used today
  come from the database, so every process sharing it reports the same global figure (aggregate them
  with ``max``, not ``sum``); images in flight is this process's own (sum it).

Each ``Metrics`` has its own ``CollectorRegistry``, never prometheus_client's global one, so nothing
another library registers leaks in and a test can build a fresh one. The process's bot uses ``METRICS``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from bot.limits import DAILY_IMAGE_BUDGET
from bot.quota import day_start
from bot.store import JobStatus, Storage

log = logging.getLogger(__name__)
disable_created_metrics()  # no ``*_created`` series: Prometheus does not need them, they double the output

CONTENT_TYPE = CONTENT_TYPE_LATEST
SCRAPE_DB_TIMEOUT_S = 3.0  # a stuck database must not hang the scrape (Prometheus' default timeout: 10 s)
# One HTTP attempt at the image API: edits take 5-15 s, up to IDEOGRAM_TIMEOUT_S (180 s); polls are fast.
API_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 180.0)
# Discord gives an interaction 3 s to be acknowledged.
ACK_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


@dataclass(slots=True)
class ScrapeSources:
    """Where ``refresh`` reads the state from; the composition root (or worker mode) builds it."""

    storage: Storage
    images_in_flight: Callable[[], int]  # this process's images at the API now
    images_in_flight_limit: int  # MAX_IMAGES_IN_FLIGHT
    daily_image_budget: int = DAILY_IMAGE_BUDGET  # DAILY_IMAGE_BUDGET (always set: 0 switches edits off)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.queue_depth = Gauge("inpaint_queue_depth", "Jobs waiting to start (database-wide).", registry=r)
        self.jobs = Gauge("inpaint_jobs", "Jobs in the database by status (database-wide).", ["status"], registry=r)
        self.images_in_flight = Gauge(
            "inpaint_images_in_flight", "Images this process has at the image API right now.", registry=r
        )
        self.images_in_flight_limit = Gauge(
            "inpaint_images_in_flight_limit", "MAX_IMAGES_IN_FLIGHT, the cap on images at the API.", registry=r
        )
        self.api_seconds = Histogram(
            "inpaint_api_request_seconds",
            "One HTTP attempt at the image API (endpoint: edit or poll), answered or failed.",
            ["endpoint"],
            buckets=API_BUCKETS,
            registry=r,
        )
        self.api_errors = Counter(
            "inpaint_api_errors",
            "Failed attempts at the image API, by HTTP status (or the error code when nothing came back).",
            ["status"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "inpaint_ack_seconds",
            "From an interaction's creation (its snowflake time) until its deferral was sent.",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.refusals = Counter("inpaint_refusals", "Requests refused by a limit, by limit.", ["limit"], registry=r)
        self.daily_images_used = Gauge(
            "inpaint_daily_images_used",
            "Images reserved or charged since midnight UTC, all users (database-wide).",
            registry=r,
        )
        self.daily_image_budget = Gauge(
            "inpaint_daily_image_budget", "DAILY_IMAGE_BUDGET, images per UTC day.", registry=r
        )
        self.database_up = Gauge(
            "inpaint_database_up", "1 when the last scrape could read the database, else 0.", registry=r
        )
        self.loop_lag = Gauge(
            "inpaint_event_loop_lag_seconds", "How late the event loop's last probe tick was.", registry=r
        )
        for status in JobStatus:
            self.jobs.labels(status=status.value)

    # --- events --------------------------------------------------------------------------------

    def api_attempt(self, where: str, status: int | None, seconds: float, error: object | None) -> None:
        self.api_seconds.labels(endpoint="edit" if where == "edit" else "poll").observe(seconds)
        if error is not None:
            code = str(status) if status else str(getattr(error, "code", None) or type(error).__name__)
            self.api_errors.labels(status=code).inc()

    def acknowledged(self, created_at: datetime, now: datetime | None = None) -> None:
        elapsed = ((now or datetime.now(UTC)) - created_at).total_seconds()
        self.ack_seconds.observe(max(0.0, elapsed))

    def refused(self, limit: str) -> None:
        self.refusals.labels(limit=limit).inc()

    # --- state, at scrape time ------------------------------------------------------------------

    async def refresh(self, sources: ScrapeSources, loop_lag: float | None = None) -> None:
        """Read the state gauges; a database that does not answer (in time) sets ``inpaint_database_up`` to 0
        and leaves the database gauges at their last values instead of failing the scrape."""
        self.images_in_flight.set(sources.images_in_flight())
        self.images_in_flight_limit.set(sources.images_in_flight_limit)
        if loop_lag is not None:
            self.loop_lag.set(loop_lag)
        self.daily_image_budget.set(sources.daily_image_budget)
        try:
            async with asyncio.timeout(SCRAPE_DB_TIMEOUT_S):
                counts = await sources.storage.ops_counts(day_start(sources.now()))
        except Exception as exc:  # the scrape still shows the process's own numbers
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            self.database_up.set(0)
            return
        self.database_up.set(1)
        for status, count in counts.jobs_by_status.items():
            self.jobs.labels(status=status.value).set(count)
        self.queue_depth.set(counts.jobs_by_status.get(JobStatus.QUEUED, 0))
        self.daily_images_used.set(counts.images_used)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = Metrics()


# --- hooks: one call each where the event happens ---------------------------------------------------


def api_attempt(where: str, status: int | None, seconds: float, error: object | None = None) -> None:
    """One HTTP attempt at the image API finished (``bot/ideogram/client.py``)."""
    METRICS.api_attempt(where, status, seconds, error)


def acknowledged(created_at: datetime) -> None:
    """An interaction created at ``created_at`` has just been deferred (the adapter, after ``defer``)."""
    METRICS.acknowledged(created_at)


def refused(limit: str) -> None:
    """A limit refused a request (``bot/jobs.py``, once per refused request)."""
    METRICS.refused(limit)


def sample(metrics: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    """One sample's value (tests, benchmarks); NaN when absent."""
    value = metrics.registry.get_sample_value(name, labels or {})
    return math.nan if value is None else value
