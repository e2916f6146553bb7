"""Every PromQL panel of the LLM Judge dashboard queries metrics this pipeline produces."""

from __future__ import annotations

import re

import pytest

from builders.app_instrumentation import DEFAULT_SERVICES
from builders.dashboards import DataSources, dashboard_expressions, llm_judge_dashboard
from tools.metric_catalog import metric_names_in, otel_label_problems, pipeline_catalog

DS = DataSources(prometheus_uid="prom", loki_uid="logs", tempo_uid="traces")
# Grafana's own variables are not PromQL; give them a value the parser accepts.
GRAFANA_VARIABLES = {r"\$__rate_interval": "5m", r"\$__interval": "1m", r"\$queue": "inference_queue"}


def promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = re.sub(variable, value, expr)
    return expr


@pytest.mark.parametrize("queues", [(), ("inference_queue",)], ids=["local", "eks"])
def test_every_prometheus_panel_uses_produced_metrics(queues):
    model = llm_judge_dashboard(DS, [s.name for s in DEFAULT_SERVICES], "llm-judge", queues)
    catalog = pipeline_catalog(sqs=bool(queues))
    expressions = [promql(expr) for uid, expr in dashboard_expressions(model) if uid == DS.prometheus_uid]
    assert expressions, "the dashboard has Prometheus panels"
    for expr in expressions:
        missing = [name for name in metric_names_in(expr) if not catalog.contains(name)]
        assert missing == [], f"{expr!r} queries metrics nothing produces: {missing}"
        assert otel_label_problems(expr) == []


def test_the_plans_metric_would_fail_this_check():
    catalog = pipeline_catalog(sqs=False)
    assert not catalog.contains("http_server_requests_total")
