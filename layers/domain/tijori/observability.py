"""Logger, Tracer and Metrics for every function, configured by the POWERTOOLS_* environment.

The Tracer patches nothing by itself: X-Ray's patch_all imports and wraps every library it
supports (httpx, requests, sqlite3, ...) at cold start, used or not. Each function patches what
it calls, with `tracer.patch([...])` next to its imports.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer(auto_patch=False)
metrics = Metrics(namespace="Tijori")


class PowertoolsMetricsCounter:
    """The domain's MetricsPort over Powertools Metrics (published when the handler returns)."""

    def count(self, name: str, value: int = 1) -> None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def log_unpublished_event(item_id: str, problem: str) -> None:
    """A final transition's event did not reach the bus: the transition stands, the item stays
    due, and the scheduled run publishes it (the metric shows how often that happens)."""
    metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=1)
    logger.warning(
        "event not published yet: the scheduled run publishes it",
        extra={"correlation_id": item_id, "problem": problem},
    )


def log_item_failure(order_id: str, problem: str) -> None:
    """One item of a batch failed; the rest go on. The order id is the correlation id."""
    logger.error("item failed, the rest go on", extra={"correlation_id": order_id, "problem": problem})
