"""The custom LLM Judge dashboard: identity, layout, data sources and its queries."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from builders.app_instrumentation import DEFAULT_SERVICES
from builders.dashboards import (
    DataSources,
    dashboard_expressions,
    llm_judge_dashboard,
)

SERVICES = [s.name for s in DEFAULT_SERVICES]
NAMESPACE = "llm-judge"
CLUSTER = "llm-judge-eks-prod"
QUEUES = ["inference_queue", "judge_queue.fifo"]
DS = DataSources(prometheus_uid="prom-a", loki_uid="logs-a", tempo_uid="traces-a")


def build(ds: DataSources = DS, queues: list[str] | None = None) -> dict[str, Any]:
    return llm_judge_dashboard(ds, SERVICES, NAMESPACE, QUEUES if queues is None else queues, cluster=CLUSTER)


def rows(model: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Row title -> the panels that follow it (expanded rows keep their panels at top level)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    current: list[dict[str, Any]] | None = None
    for panel in model["panels"]:
        if panel["type"] == "row":
            current = grouped.setdefault(panel["title"], [])
            current.extend(panel.get("panels", []))
        else:
            assert current is not None, f"panel {panel.get('title')!r} is above the first row"
            current.append(panel)
    return grouped


def titles(panels: list[dict[str, Any]]) -> list[str]:
    return [p["title"] for p in panels]


def datasource_uids(node: Any) -> set[str]:
    """Every `datasource.uid` anywhere in the model (panels, targets, variables)."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("datasource")
        if isinstance(ref, dict) and "uid" in ref:
            found.add(ref["uid"])
        for value in node.values():
            found |= datasource_uids(value)
    elif isinstance(node, list):
        for item in node:
            found |= datasource_uids(item)
    return found


def test_identity_and_schema_version_from_the_sdk() -> None:
    model = build()
    assert model["uid"] == "llm-judge"
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", model["uid"])  # Grafana's uid rule
    assert model["title"] == "LLM Judge"
    assert isinstance(model["schemaVersion"], int) and model["schemaVersion"] >= 41  # 11.6 SDK emits 41
    json.dumps(model)  # plain JSON data, no SDK objects left


def test_rows_and_panels() -> None:
    grouped = rows(build())
    assert list(grouped) == ["Request flow", "Queue health", "Errors", "Performance"]
    flow = grouped["Request flow"]
    assert [p["type"] for p in flow] == ["nodeGraph", "timeseries"]
    assert flow[0]["targets"][0]["queryType"] == "serviceMap"
    assert titles(grouped["Queue health"]) == [
        "Age of oldest message",
        "Queue depth",
        "In flight (visibility timeout running)",
    ]
    assert titles(grouped["Errors"]) == [
        "Error logs",
        "Error log lines by service",
        "HTTP 5xx rate by service",
        "Failed inference ratio",
    ]
    assert titles(grouped["Performance"]) == [
        "OpenAI API latency",
        "End-to-end request latency (gateway)",
        "Redis operation latency (redis-service)",
    ]


def test_panel_ids_are_unique_and_panels_fit_the_grid() -> None:
    panels = build()["panels"]
    ids = [p["id"] for p in panels]
    assert len(set(ids)) == len(ids) and 0 not in ids
    for p in panels:
        assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24, p["title"]


def test_every_panel_uses_one_of_the_given_data_sources_and_follows_them() -> None:
    first = build()
    assert datasource_uids(first) == {"prom-a", "logs-a", "traces-a"}
    other = DataSources(prometheus_uid="prom-b", loki_uid="logs-b", tempo_uid="traces-b")
    second = build(other)
    assert datasource_uids(second) == {"prom-b", "logs-b", "traces-b"}
    # Nothing else changed: swapping the uids back gives the first model.
    swapped = json.loads(
        json.dumps(second)
        .replace("prom-b", "prom-a")
        .replace("logs-b", "logs-a")
        .replace("traces-b", "traces-a")
    )
    assert swapped == first


def test_each_panel_type_gets_the_matching_data_source() -> None:
    by_type = {"nodeGraph": "traces-a", "logs": "logs-a"}
    for panel in build()["panels"]:
        if panel["type"] == "row":
            continue
        expected = by_type.get(panel["type"])
        if panel["title"] == "Error log lines by service":
            expected = "logs-a"
        assert panel["datasource"]["uid"] == (expected or "prom-a"), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], panel["title"]


def test_queue_row_and_variable_only_with_queues() -> None:
    with_queues = build()
    variables = with_queues["templating"]["list"]
    assert [v["name"] for v in variables] == ["cluster", "queue"]
    assert variables[1]["query"] == "inference_queue,judge_queue.fifo"
    queue_exprs = [e for _, e in dashboard_expressions(with_queues) if "aws_sqs_" in e]
    assert len(queue_exprs) == 3
    assert all('dimension_QueueName=~"$queue"' in e for e in queue_exprs)

    without = build(queues=[])
    assert "Queue health" not in rows(without)
    assert [v["name"] for v in without["templating"]["list"]] == ["cluster"]
    assert not [e for _, e in dashboard_expressions(without) if "aws_sqs_" in e]


def test_expressions_are_extractable_with_their_data_source() -> None:
    model = build()
    found = dashboard_expressions(model)
    prom = [e for uid, e in found if uid == "prom-a"]
    logs = [e for uid, e in found if uid == "logs-a"]
    assert {uid for uid, _ in found} == {"prom-a", "logs-a"}  # the Tempo query has no expr
    assert len(prom) == 3 + 3 + 1 + 2 + 3 + 3 + 3  # latency, queues, 5xx, inference, performance
    assert len(logs) == 2
    # Metric names the other builders' catalog will check; seen here from the outside.
    for expr in prom:
        assert re.search(
            r"\b(http_(server|client)_request_duration_seconds_(bucket|count)|aws_sqs_\w+)\{", expr
        )
    # Every OTel series is scoped to our services' `job`, never to labels OTLP does not set.
    for expr in prom:
        if "http_" in expr:
            assert 'job=~"llm-judge/(' in expr or 'job="llm-judge/' in expr, expr
            assert "namespace=" not in expr and "service=" not in expr, expr


def test_expressions_of_panels_nested_in_collapsed_rows_are_found() -> None:
    model = {
        "panels": [
            {
                "type": "row",
                "collapsed": True,
                "panels": [
                    {
                        "datasource": {"uid": "p"},
                        "targets": [{"expr": "a{}"}, {"datasource": {"uid": "q"}, "expr": "b{}"}],
                    }
                ],
            },
            {"type": "text", "targets": [{"refId": "A"}]},
        ]
    }
    assert dashboard_expressions(model) == [("p", "a{}"), ("q", "b{}")]


def test_log_queries_use_labels_pod_logs_attach() -> None:
    logs = [e for uid, e in dashboard_expressions(build()) if uid == "logs-a"]
    selector = '{cluster="$cluster", namespace="llm-judge", container=~"' + "|".join(SERVICES) + '"}'
    for expr in logs:
        assert selector in expr
        assert '| json | level=~"' in expr


def test_openai_panel_filters_on_server_address() -> None:
    openai = [e for _, e in dashboard_expressions(build()) if "http_client_request_duration_seconds" in e]
    assert openai and all('server_address="api.openai.com"' in e for e in openai)


@pytest.mark.parametrize(
    ("services", "namespace", "queues"),
    [
        (SERVICES, "LLM Judge", []),  # not a namespace
        ([*SERVICES, 'x"}'], NAMESPACE, []),  # would break out of the PromQL string
        (["gateway-service"], NAMESPACE, []),  # panels need inference- and redis-service
        ("gateway-service", NAMESPACE, []),  # one string, not a list
        (SERVICES, NAMESPACE, ["bad,queue"]),  # would split the custom variable
        (SERVICES, NAMESPACE, "inference_queue"),  # one string, not a list
    ],
)
def test_invalid_names_are_refused(services: Any, namespace: str, queues: list[str]) -> None:
    with pytest.raises(ValueError):
        llm_judge_dashboard(DS, services, namespace, queues, cluster=CLUSTER)


def test_empty_data_source_uid_is_refused() -> None:
    with pytest.raises(ValueError, match="loki_uid"):
        DataSources(prometheus_uid="p", loki_uid="", tempo_uid="t")


# --- one dashboard per cluster: the `cluster` variable ------------------------------------------


def test_the_cluster_variable_lists_the_services_clusters_and_opens_on_this_one() -> None:
    (variable,) = [v for v in build()["templating"]["list"] if v["name"] == "cluster"]
    assert variable["type"] == "query"
    assert variable["datasource"] == {"type": "prometheus", "uid": "prom-a"}
    jobs = f'job=~"llm-judge/({"|".join(SERVICES)})"'
    assert variable["query"] == {
        "qryType": 1,
        "query": f"label_values(http_server_request_duration_seconds_count{{{jobs}}}, cluster)",
        "refId": "PrometheusVariableQueryEditor-VariableQuery",
    }
    assert variable["current"] == {"selected": True, "text": CLUSTER, "value": CLUSTER}
    assert (variable.get("multi"), variable.get("includeAll")) == (False, False)
    other = llm_judge_dashboard(DS, SERVICES, NAMESPACE, [], cluster="llm-judge-local")
    (other_variable,) = other["templating"]["list"]
    assert other_variable["current"]["value"] == "llm-judge-local"


@pytest.mark.parametrize("queues", [QUEUES, []], ids=["eks", "local"])
def test_every_prometheus_and_loki_selector_filters_on_the_selected_cluster(queues: list[str]) -> None:
    """Parsed, not searched: every vector selector of every Prometheus query has the matcher
    `cluster="$cluster"`, and every Loki stream selector starts with it."""
    import promql_parser

    found = dashboard_expressions(build(queues=queues))
    prom = [e.replace("$__rate_interval", "5m") for uid, e in found if uid == "prom-a"]
    logs = [e for uid, e in found if uid == "logs-a"]
    assert prom and logs
    selectors: list[str] = []

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = {(m.name, str(m.op).rsplit(".", 1)[-1], m.value) for m in node.matchers.matchers}
            assert ("cluster", "Equal", "$cluster") in matchers, node
            selectors.append(str(node))
        return True

    for expr in prom:
        promql_parser.walk(promql_parser.parse(expr), visit)
    assert len(selectors) >= len(prom)
    for expr in logs:
        streams = re.findall(r"\{([^{}]*)\}", expr)  # LogQL stream selectors: `{label="value", ...}`
        assert len(streams) == 1 and streams[0].startswith('cluster="$cluster", '), expr


def test_the_service_graph_says_it_shows_every_cluster() -> None:
    (graph,) = [p for p in build()["panels"] if p["type"] == "nodeGraph"]
    assert "no cluster label" in graph["description"]


# Every query of the dashboard for the default services, written out from the panels' purpose
# (README "Dashboards"): p50/p95/p99 of the stable-semconv histograms, 5xx by status code, the
# services' JSON error lines, the CloudWatch maxima per queue, Tempo's service map both ways.
_C = 'cluster="$cluster"'
_JOBS = 'job=~"llm-judge/(gateway-service|redis-service|persistence-service|inference-service|judge-service)"'
_NAMES = "gateway-service|redis-service|persistence-service|inference-service|judge-service"
_ERRORS = (
    f'{{{_C}, namespace="llm-judge", container=~"{_NAMES}"}} | json | level=~"(?i)(error|critical|fatal)"'
)
_OPENAI = f'{_C}, job="llm-judge/inference-service", server_address="api.openai.com"'
_INFERENCE = f'{_C}, job="llm-judge/inference-service"'


def _p(q: str, histogram: str, selector: str) -> tuple[str, str]:
    return (
        f"histogram_quantile({q}, sum by (job, le) "
        f"(rate({histogram}_bucket{{{selector}}}[$__rate_interval])))",
        "{{job}} p" + {"0.5": "50", "0.95": "95", "0.99": "99"}[q],
    )


def _sqs(metric: str) -> tuple[str, str]:
    return (
        f'max by (dimension_QueueName) ({metric}{{{_C}, dimension_QueueName=~"$queue"}})',
        "{{dimension_QueueName}}",
    )


QUANTILES = ("0.5", "0.95", "0.99")
SERVER = "http_server_request_duration_seconds"
CLIENT = "http_client_request_duration_seconds"
EXPECTED_QUERIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "Server latency by service": ("prometheus", [_p(q, SERVER, f"{_C}, {_JOBS}") for q in QUANTILES]),
    "Age of oldest message": ("prometheus", [_sqs("aws_sqs_approximate_age_of_oldest_message_maximum")]),
    "Queue depth": ("prometheus", [_sqs("aws_sqs_approximate_number_of_messages_visible_maximum")]),
    "In flight (visibility timeout running)": (
        "prometheus",
        [_sqs("aws_sqs_approximate_number_of_messages_not_visible_maximum")],
    ),
    "Error logs": ("loki", [(_ERRORS, "")]),
    "Error log lines by service": (
        "loki",
        [(f"sum by (container) (count_over_time({_ERRORS} [$__auto]))", "{{container}}")],
    ),
    "HTTP 5xx rate by service": (
        "prometheus",
        [
            (
                f'sum by (job) (rate({SERVER}_count{{{_C}, {_JOBS}, http_response_status_code=~"5.."}}'
                "[$__rate_interval]))",
                "{{job}}",
            )
        ],
    ),
    "Failed inference ratio": (
        "prometheus",
        [
            (
                f'sum(rate({CLIENT}_count{{{_OPENAI}, error_type!=""}}[$__rate_interval])) / '
                f"sum(rate({CLIENT}_count{{{_OPENAI}}}[$__rate_interval]))",
                "OpenAI calls failed",
            ),
            (
                f'sum(rate({SERVER}_count{{{_INFERENCE}, http_response_status_code=~"5.."}}'
                "[$__rate_interval])) / "
                f"sum(rate({SERVER}_count{{{_INFERENCE}}}[$__rate_interval]))",
                "HTTP 5xx",
            ),
        ],
    ),
    "OpenAI API latency": (
        "prometheus",
        [_p(q, CLIENT, f'{_C}, {_JOBS}, server_address="api.openai.com"') for q in QUANTILES],
    ),
    "End-to-end request latency (gateway)": (
        "prometheus",
        [_p(q, SERVER, f'{_C}, job="llm-judge/gateway-service"') for q in QUANTILES],
    ),
    "Redis operation latency (redis-service)": (
        "prometheus",
        [_p(q, SERVER, f'{_C}, job="llm-judge/redis-service"') for q in QUANTILES],
    ),
}


def test_every_query_as_written_out() -> None:
    panels = [p for panels in rows(build(queues=["inference_queue"])).values() for p in panels]
    got = {
        p["title"]: (p["datasource"]["type"], [(t["expr"], t.get("legendFormat", "")) for t in p["targets"]])
        for p in panels
        if p["type"] != "nodeGraph"
    }
    assert got == EXPECTED_QUERIES
    (graph,) = [p for p in panels if p["type"] == "nodeGraph"]
    assert graph["datasource"]["type"] == "tempo"
    ((target),) = graph["targets"]
    assert (target["queryType"], target["serviceMapQuery"]) == (
        "serviceMap",
        [f'{{client=~"{_NAMES}"}}', f'{{server=~"{_NAMES}"}}'],
    )


def test_the_queue_variable_opens_on_every_queue() -> None:
    (queue,) = [v for v in build(queues=QUEUES)["templating"]["list"] if v["name"] == "queue"]
    assert (queue["type"], queue["query"]) == ("custom", "inference_queue,judge_queue.fifo")
    assert (queue["multi"], queue["includeAll"]) == (True, True)
    assert queue["current"] == {"text": "All", "value": "$__all", "selected": True}
