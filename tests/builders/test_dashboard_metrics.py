"""Every PromQL panel of the LLM Judge dashboard queries metrics this pipeline produces."""

from __future__ import annotations

import re

import pytest

from builders.app_instrumentation import DEFAULT_SERVICES
from builders.dashboards import DataSources, dashboard_expressions, llm_judge_dashboard
from tools.metric_catalog import (
    _variable_values,
    dashboard_queries,
    grafana_promql,
    metric_names_in,
    otel_label_problems,
    pipeline_catalog,
)

DS = DataSources(prometheus_uid="prom", loki_uid="logs", tempo_uid="traces")


@pytest.mark.parametrize("queues", [(), ("inference_queue",)], ids=["local", "eks"])
def test_every_prometheus_panel_uses_produced_metrics(queues):
    model = llm_judge_dashboard(DS, [s.name for s in DEFAULT_SERVICES], "llm-judge", queues, cluster="c1")
    catalog = pipeline_catalog(sqs=bool(queues))
    # Grafana's variables ($__rate_interval, $queue) substituted as for the Kubernetes dashboards.
    queries = dashboard_queries(model)
    panels = [q for q in queries if q.where.startswith("panel ")]
    assert len(panels) == len([e for uid, e in dashboard_expressions(model) if uid == DS.prometheus_uid])
    # ... and the one query variable, the clusters the services' metrics come from.
    assert [q.where for q in queries if not q.where.startswith("panel ")] == ["variable $cluster"]
    assert queries, "the dashboard has Prometheus panels"
    for query in queries:
        missing = [name for name in metric_names_in(query.promql) if not catalog.contains(name)]
        assert missing == [], f"{query.where}: {query.promql!r} queries metrics nothing produces: {missing}"
        assert otel_label_problems(query.promql) == []


def test_the_plans_metric_would_fail_this_check():
    catalog = pipeline_catalog(sqs=False)
    assert not catalog.contains("http_server_requests_total")


# --- status-code selectors: the 5xx panels select 5xx and nothing else ---------------------------

STATUS = "http_response_status_code"


def _status_matchers(expr: str) -> list[tuple[str, str]]:
    """(operator, value) of each `http_response_status_code` matcher, selector by selector."""
    import promql_parser

    found: list[tuple[str, str]] = []

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [m for m in node.matchers.matchers if m.name == STATUS]
            found.extend((str(m.op).rsplit(".", 1)[-1], m.value) for m in matchers)
            if not matchers:
                found.append(("none", ""))
        return True

    promql_parser.walk(promql_parser.parse(grafana_promql(expr, _variable_values({}))), visit)
    return found


def _targets(model: dict) -> dict[tuple[str, str], str]:
    """(panel title, legend) -> expr of every Prometheus target."""
    return {
        (panel["title"], target.get("legendFormat", "")): target["expr"]
        for panel in model["panels"]
        for target in panel.get("targets") or []
        if target.get("datasource", {}).get("uid") == DS.prometheus_uid
    }


def test_5xx_panels_select_status_5xx_and_only_those_panels_filter_on_status():
    model = llm_judge_dashboard(
        DS, [s.name for s in DEFAULT_SERVICES], "llm-judge", ("inference_queue",), cluster="c1"
    )
    targets = _targets(model)
    five_xx = ("Re", "5..")  # Prometheus anchors regex matchers: 500-599, three characters
    assert _status_matchers(targets[("HTTP 5xx rate by service", "{{job}}")]) == [five_xx]
    # The ratio: 5xx responses over all responses of the inference role.
    assert _status_matchers(targets[("Failed inference ratio", "HTTP 5xx")]) == [five_xx, ("none", "")]
    others = {key: expr for key, expr in targets.items() if "5xx" not in key[0] + key[1]}
    assert others and all(set(_status_matchers(expr)) == {("none", "")} for expr in others.values())
    assert re.fullmatch(five_xx[1], "503") and not re.fullmatch(five_xx[1], "404")
