"""Prometheus metrics, in a registry of the app's own (no process-wide globals).

Names follow Prometheus' conventions: the `bridge_` prefix, the unit in the name, `_total`
on counters (the client adds it). Process metrics (`process_*`) and `python_info` keep
their standard names, which dashboards expect. docs/observability.md lists them all.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.metrics_core import Metric

from bridge import __version__

#: the metric types for which prometheus_client adds a `<name>_created` series
_WITH_CREATED = frozenset({"counter", "histogram", "summary"})


class Registry(CollectorRegistry):
    """A registry that exports no `_created` series.

    They only repeat the start time for each label set and double the series counted.
    `prometheus_client.disable_created_metrics()` would drop them for every registry in
    the process (a host application's too), so this registry filters its own.
    """

    def collect(self) -> Iterable[Metric]:
        for family in super().collect():
            if family.type in _WITH_CREATED:
                created = f"{family.name}_created"
                family.samples = [s for s in family.samples if s.name != created]
            yield family


class Metrics:
    """Every metric the bridge exports."""

    def __init__(self) -> None:
        self.registry = Registry(auto_describe=True)
        r = self.registry
        # Memory, CPU, open files and start time from /proc (Linux; nothing elsewhere),
        # and python_info: the standard names, on this registry only.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Info("bridge_build", "The running bridge's version and Python's", registry=r).info(
            {"version": __version__, "python_version": platform.python_version()}
        )
        self.webhooks = Counter(
            "bridge_webhooks_received",
            "Webhook requests by store, topic and result",
            ["store", "topic", "result"],
            registry=r,
        )
        self._webhook_counts: dict[tuple[str, str, str], Counter] = {}
        self.signature_failures = Counter(
            "bridge_signature_failures",
            "Deliveries refused for a missing or wrong signature",
            ["store"],
            registry=r,
        )
        self.previous_secret = Counter(
            "bridge_previous_secret_used",
            "Deliveries signed with a store's previous secret (a rotation not yet complete)",
            ["store"],
            registry=r,
        )
        # Gap filling through the REST API (docs/reconciliation.md).
        self.recovered = Counter(
            "bridge_recovered_events",
            "Events WooCommerce did not deliver, recovered through its REST API",
            ["store"],
            registry=r,
        )
        self.reconcile_passes = Counter(
            "bridge_reconcile_passes",
            "Reconcile passes by store and result (ok, failed)",
            ["store", "result"],
            registry=r,
        )
        self.webhooks_by_status = Gauge(
            "bridge_store_webhooks",
            "The store's webhooks that deliver to this bridge, by status",
            ["store", "status"],
            registry=r,
        )
        self.sends = Counter("bridge_sends", "Telegram sends by result", ["result"], registry=r)
        self.rate_limited = Counter(
            "bridge_telegram_rate_limited",
            "Times Telegram answered 429 Too Many Requests (retry_after)",
            registry=r,
        )
        self.dead_letters = Counter(
            "bridge_dead_letters", "Messages that became dead letters", registry=r
        )
        self.send_latency = Histogram(
            "bridge_send_latency_seconds",
            "From a message being queued to Telegram accepting it",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=r,
        )
        self.queue_depth = Gauge(
            "bridge_queue_depth", "Events not yet routed and messages not yet sent", registry=r
        )
        self.dead_letter_count = Gauge(
            "bridge_dead_letters_stored", "Dead letters in the database now", registry=r
        )
        # Several replicas (docs/leadership.md): 1 on the one that routes and sends.
        self.leader = Gauge(
            "bridge_leader", "1 while this replica leads (routes, sends, polls), else 0", registry=r
        )
        self.replicas = Gauge(
            "bridge_replicas", "Replicas sharing the database, seen lately", registry=r
        )

    def webhook(self, store: str, topic: str, result: str) -> Counter:
        """The webhooks counter of these labels, looked up once: `labels()` takes a lock
        and builds its key on every call, which each delivery paid."""
        key = (store, topic, result)
        counter = self._webhook_counts.get(key)
        if counter is None:
            counter = self._webhook_counts[key] = self.webhooks.labels(store, topic, result)
        return counter
