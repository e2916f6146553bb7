"""Every PromQL panel of the LLM Judge dashboard queries metrics this pipeline produces."""

from __future__ import annotations

import pytest

from builders.app_instrumentation import DEFAULT_SERVICES
from builders.dashboards import DataSources, dashboard_expressions, llm_judge_dashboard
from tools.metric_catalog import dashboard_queries, metric_names_in, otel_label_problems, pipeline_catalog

DS = DataSources(prometheus_uid="prom", loki_uid="logs", tempo_uid="traces")


@pytest.mark.parametrize("queues", [(), ("inference_queue",)], ids=["local", "eks"])
def test_every_prometheus_panel_uses_produced_metrics(queues):
    model = llm_judge_dashboard(DS, [s.name for s in DEFAULT_SERVICES], "llm-judge", queues)
    catalog = pipeline_catalog(sqs=bool(queues))
    # Grafana's variables ($__rate_interval, $queue) substituted as for the Kubernetes dashboards.
    queries = dashboard_queries(model)
    assert len(queries) == len([e for uid, e in dashboard_expressions(model) if uid == DS.prometheus_uid])
    assert queries, "the dashboard has Prometheus panels"
    for query in queries:
        missing = [name for name in metric_names_in(query.promql) if not catalog.contains(name)]
        assert missing == [], f"{query.where}: {query.promql!r} queries metrics nothing produces: {missing}"
        assert otel_label_problems(query.promql) == []


def test_the_plans_metric_would_fail_this_check():
    catalog = pipeline_catalog(sqs=False)
    assert not catalog.contains("http_server_requests_total")
