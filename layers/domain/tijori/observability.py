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


def log_item_failure(order_id: str, problem: str) -> None:
    """One item of a batch failed; the rest go on. The order id is the correlation id."""
    logger.error("item failed, the rest go on", extra={"correlation_id": order_id, "problem": problem})
