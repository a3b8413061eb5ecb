"""What the processes count, for /metrics (Prometheus' text format, with prometheus-client).

Each Runtime has one `Metrics`: counters of inbox items accepted and refused (by reason), of
delivery attempts (by outcome), of HTTP responses, and request latency histograms per route
group. What is a state rather than an event (queue depths and ages, worker lag, failing
domains) is read from the database when /metrics is asked, so it is right whichever process
answers and however many there are.

`serve` runs a web process, a `worker` child, and with `--workers N` several web processes.
`share_between_processes(folder)` (called by `serve` before its Runtime is opened; its children
inherit it through PROMETHEUS_MULTIPROC_DIR) puts prometheus-client in its multiprocess mode:
every process writes its counts into that folder and /metrics, in whichever web process
answers, adds them all up. Without it (a lone `worker`, tests) the counts are this process's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "ENV", "Metrics", "QueueGauge", "share_between_processes", "shared_folder"]

ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own name for it
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Latency buckets (seconds): from a cached page to a slow remote's key fetch in the inbox.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def shared_folder() -> Path | None:
    """The folder the processes of this `serve` share their counts in, if they do."""
    folder = os.environ.get(ENV)
    return Path(folder) if folder and getattr(values.ValueClass, "_multiprocess", False) else None


def share_between_processes(folder: Path) -> None:
    """Count into `folder`, with every child started from now on (before any Metrics exists)."""
    os.environ[ENV] = str(folder)
    if not getattr(values.ValueClass, "_multiprocess", False):
        # What prometheus-client chooses at import when the variable is already set; the
        # variable carries the choice to the children, which import it afresh.
        values.ValueClass = values.MultiProcessValue()


@dataclass(frozen=True)
class QueueGauge:
    """One queue's state as read from the database."""

    queue: str  # inbox | deliveries | mail
    depth: int  # items waiting or in work
    oldest_age: float  # seconds since the oldest of them was queued (0: none)
    lag: float  # seconds the first free due item has waited for a worker (0: none)


class Metrics:
    """The counters and histograms of one process, and the exposition of everything."""

    def __init__(self) -> None:
        disable_created_metrics()  # no `_created` series beside every counter: noise for this use
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._inbox = Counter(
            "fediverse_a2_inbox_accepted", "Inbox POSTs answered 202, by result (new, duplicate, ignored).",
            ["result"], registry=r,
        )  # fmt: skip
        self._refused = Counter("fediverse_a2_inbox_refused", "Inbox POSTs refused, by reason.", ["reason"], registry=r)
        self._deliveries = Counter(
            "fediverse_a2_deliveries", "Delivery attempts, by outcome (sent, retry, failed, gone, skipped).",
            ["outcome"], registry=r,
        )  # fmt: skip
        self._latency = Histogram(
            "fediverse_a2_http_request_duration_seconds", "Time to answer an HTTP request, by route group.",
            ["group"], buckets=_BUCKETS, registry=r,
        )  # fmt: skip
        self._responses = Counter(
            "fediverse_a2_http_responses", "HTTP responses, by route group and status class.",
            ["group", "status"], registry=r,
        )  # fmt: skip

    def inbox_accepted(self, result: str) -> None:
        """An inbox POST answered 202: `new` (stored), `duplicate` or `ignored`."""
        self._inbox.labels(result).inc()

    def inbox_refused(self, reason: str) -> None:
        """An inbox POST refused, for a reason from a small fixed set (never free text)."""
        self._refused.labels(reason).inc()

    def deliveries(self, outcomes: Iterable[str]) -> None:
        """Delivery attempts whose outcome was just recorded."""
        for outcome in outcomes:
            self._deliveries.labels(outcome).inc()

    def request(self, group: str, status: int, seconds: float) -> None:
        """One answered HTTP request."""
        self._latency.labels(group).observe(seconds)
        self._responses.labels(group, f"{status // 100}xx").inc()

    def _reading(self) -> CollectorRegistry:
        """What to read the counts from: every process's (multiprocess mode), or this one's."""
        folder = shared_folder()
        if folder is None:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(folder))
        return registry

    def exposition(
        self, database_up: bool, queues: Sequence[QueueGauge], failing_domains: int, unavailable_domains: int
    ) -> bytes:
        """Everything in Prometheus' text format: the counts of every process of this serve (or of
        this one), and the states read from the database just now."""
        registry = self._reading()
        states = _States(database_up, queues, failing_domains, unavailable_domains)
        registry.register(states)
        try:
            return generate_latest(registry)
        finally:
            registry.unregister(states)

    def totals(self) -> dict[str, dict[str, float]]:
        """The counters as {name: {label value(s): total}} (the admin page shows them)."""
        out: dict[str, dict[str, float]] = {}
        for family in self._reading().collect():
            if family.type != "counter":
                continue
            name = family.name.removeprefix("fediverse_a2_")
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    key = " ".join(sample.labels.values())
                    out.setdefault(name, {})[key] = out.get(name, {}).get(key, 0.0) + sample.value
        return out


class _States:
    """A one-shot collector of the gauges read from the database."""

    def __init__(self, database_up: bool, queues: Sequence[QueueGauge], failing: int, unavailable: int) -> None:
        self.database_up, self.queues, self.failing, self.unavailable = database_up, queues, failing, unavailable

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "fediverse_a2_database_up", "1 when the database answered the health check.", value=int(self.database_up)
        )
        depth = GaugeMetricFamily("fediverse_a2_queue_depth", "Items waiting in a queue or in work.", labels=["queue"])
        age = GaugeMetricFamily(
            "fediverse_a2_queue_oldest_age_seconds", "Age of the oldest item in a queue.", labels=["queue"]
        )
        lag = GaugeMetricFamily(
            "fediverse_a2_worker_lag_seconds", "How long the longest-waiting due item has waited for a worker.",
            labels=["queue"],
        )  # fmt: skip
        for q in self.queues:
            depth.add_metric([q.queue], q.depth)
            age.add_metric([q.queue], q.oldest_age)
            lag.add_metric([q.queue], q.lag)
        yield from (depth, age, lag)
        yield GaugeMetricFamily(
            "fediverse_a2_domains_failing", "Remote domains that failed since their last success.", value=self.failing
        )
        yield GaugeMetricFamily(
            "fediverse_a2_domains_unavailable", "Remote domains skipped after failing on 7 days.",
            value=self.unavailable,
        )  # fmt: skip
