"""Logger, Tracer and Metrics for every function, configured by the POWERTOOLS_* environment."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Tijori")
