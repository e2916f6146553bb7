"""The alert catalog: every rule queries metrics the pipeline produces; Grafana's query model (pure)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from builders import cloudwatch
from builders.alerts import (
    CONDITION_REF_ID,
    EXPRESSION_DATASOURCE_UID,
    TOKEN_WARNING_SECONDS,
    AlertRule,
    AlertSpec,
    alert_catalog,
    grafana_rule_data,
)
from builders.app_instrumentation import DEFAULT_SERVICES
from tools.metric_catalog import metric_names_in, otel_label_problems, pipeline_catalog

EXPIRES = 1_767_225_600  # 2026-01-01T00:00:00Z
RUNBOOKS = "https://github.com/example/llm-judge/blob/main/docs/runbooks.md"
QUEUES = ("inference_queue", "judge_queue")
DS_UID = "grafanacloud-prom"

# The seed plan's phase-9 queries, verbatim: none may pass the catalog check.
PLAN_HIGH_ERROR_RATE = """
sum(rate(http_server_requests_total{namespace="llm-judge", status=~"5.."}[5m]))
/
sum(rate(http_server_requests_total{namespace="llm-judge"}[5m]))
> 0.05
"""
PLAN_QUEUE_BACKLOG = 'aws_sqs_approximate_number_of_messages_visible{queue_name="inference_queue"} > 100'
PLAN_HIGH_LATENCY = """
histogram_quantile(0.95,
  sum(rate(http_server_request_duration_seconds_bucket{namespace="llm-judge"}[5m])) by (le, service)
) > 5
"""


def make_spec(queues: tuple[str, ...] = (), **changes: Any) -> AlertSpec:
    fields: dict[str, Any] = {
        "namespace": "llm-judge",
        "services": [s.name for s in DEFAULT_SERVICES],
        "sqs_queues": list(queues),
        "collector_token_expires_at_epoch": EXPIRES,
        "runbook_base_url": RUNBOOKS,
    }
    return AlertSpec(**{**fields, **changes})


@pytest.fixture(params=[(), QUEUES], ids=["local", "eks"])
def spec(request: pytest.FixtureRequest) -> AlertSpec:
    return make_spec(request.param)


def catalog_problems(expr: str, sqs: bool) -> list[str]:
    """Why an expression cannot work on this pipeline: unknown metric names or impossible labels."""
    catalog = pipeline_catalog(sqs=sqs)
    missing = [f"metric {name} is not produced" for name in catalog.missing(metric_names_in(expr))]
    return missing + otel_label_problems(expr)


# --- every rule queries what the pipeline produces ------------------------------------------


def test_every_rule_parses_and_uses_only_catalogued_metrics(spec: AlertSpec) -> None:
    for rule in alert_catalog(spec):
        assert catalog_problems(rule.expr, sqs=bool(spec.sqs_queues)) == [], rule.uid


@pytest.mark.parametrize(
    ("expr", "culprit"),
    [
        (PLAN_HIGH_ERROR_RATE, "metric http_server_requests_total is not produced"),
        (PLAN_QUEUE_BACKLOG, "metric aws_sqs_approximate_number_of_messages_visible is not produced"),
        (PLAN_HIGH_LATENCY, "http_server_request_duration_seconds_bucket has no label 'namespace'"),
    ],
)
def test_the_plans_original_queries_fail_the_check(expr: str, culprit: str) -> None:
    problems = catalog_problems(expr, sqs=True)
    assert culprit in problems


def test_plan_latency_groups_by_a_label_service_metrics_lack() -> None:
    assert any("'service'" in p for p in catalog_problems(PLAN_HIGH_LATENCY, sqs=True))


def test_queue_rule_needs_sqs_metrics_in_the_catalog() -> None:
    backlog = next(r for r in alert_catalog(make_spec(QUEUES)) if r.group == "llm-judge-queues")
    assert catalog_problems(backlog.expr, sqs=False)


# --- shape of the catalog -------------------------------------------------------------------


def test_uids_are_unique_and_valid_grafana_uids(spec: AlertSpec) -> None:
    uids = [rule.uid for rule in alert_catalog(spec)]
    assert len(set(uids)) == len(uids)
    for uid in uids:
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", uid), uid


def test_long_service_names_still_give_short_unique_uids() -> None:
    long_a, long_b = "a" * 55 + "-one", "a" * 55 + "-two"
    rules = alert_catalog(make_spec(services=[long_a, long_b]))
    uids = [r.uid for r in rules]
    assert len(set(uids)) == len(uids)
    assert all(len(uid) <= 40 for uid in uids)


def test_every_rule_is_documented_and_labelled(spec: AlertSpec) -> None:
    for rule in alert_catalog(spec):
        assert rule.severity in {"critical", "warning"}
        assert rule.all_labels["severity"] == rule.severity
        assert rule.summary.strip() and rule.description.strip()
        assert rule.runbook_url == f"{RUNBOOKS}#{rule.uid}"
        assert rule.annotations["runbook_url"] == rule.runbook_url
        assert rule.no_data_state in {"OK", "NoData", "Alerting"}
        assert rule.exec_err_state in {"Error", "Alerting", "OK"}
        assert rule.comparison in {"gt", "lt"}
        assert re.fullmatch(r"([0-9]+[smhd])+", rule.for_)


def test_per_service_rules_select_the_service_by_job(spec: AlertSpec) -> None:
    rules = alert_catalog(spec)
    for service in spec.services:
        own = [r for r in rules if r.labels.get("service") == service]
        assert {r.title.split()[0] for r in own} == {"HighErrorRate", "HighLatency"}
        for rule in own:
            assert f'job="{spec.namespace}/{service}"' in rule.expr
            assert "{{ $labels.job }}" in rule.summary


def test_error_rate_rule_is_a_5xx_ratio_over_5_percent() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "HighErrorRate gateway-service")
    assert 'http_response_status_code=~"5.."' in rule.expr
    assert "http_server_request_duration_seconds_count" in metric_names_in(rule.expr)
    assert (rule.threshold, rule.comparison, rule.for_, rule.severity) == (0.05, "gt", "5m", "critical")
    assert rule.no_data_state == "OK"


def test_latency_rule_is_p95_over_5_seconds_by_le_and_job() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "HighLatency judge-service")
    assert rule.expr.startswith("histogram_quantile(0.95, sum by (le, job)")
    assert (rule.threshold, rule.comparison, rule.severity) == (5.0, "gt", "warning")


def test_queue_rules_only_with_queues() -> None:
    assert not [r for r in alert_catalog(make_spec()) if r.group == "llm-judge-queues"]
    queue_rules = [r for r in alert_catalog(make_spec(QUEUES)) if r.group == "llm-judge-queues"]
    assert [r.title for r in queue_rules] == ["InferenceQueueBacklog"]
    rule = queue_rules[0]
    visible = cloudwatch.prometheus_metric_name("ApproximateNumberOfMessagesVisible", "Maximum")
    assert metric_names_in(rule.expr) == {visible}
    assert f'{cloudwatch.QUEUE_LABEL}="inference_queue"' in rule.expr
    assert (rule.threshold, rule.comparison, rule.for_) == (100.0, "gt", "10m")


def test_backlog_rule_follows_the_configured_inference_queue() -> None:
    rules = alert_catalog(make_spec(("jobs.fifo",), inference_queue="jobs.fifo"))
    backlog = next(r for r in rules if r.title == "InferenceQueueBacklog")
    assert 'dimension_QueueName="jobs.fifo"' in backlog.expr
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", backlog.uid)


def test_inference_queue_must_be_collected() -> None:
    with pytest.raises(ValueError, match="'inference_queue'"):
        make_spec(("other_queue",))


def test_pipeline_health_rules_exist_on_every_stack(spec: AlertSpec) -> None:
    titles = {r.title for r in alert_catalog(spec) if r.group == "llm-judge-pipeline"}
    assert titles == {
        "AlloyCollectorDown",
        "AlloyRemoteWriteFailing",
        "PodCrashLooping",
        "CollectorTokenExpiring",
    }


def test_collector_down_alerts_on_missing_data() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "AlloyCollectorDown")
    assert metric_names_in(rule.expr) == {"up"}
    assert 'job="integrations/alloy"' in rule.expr
    assert rule.no_data_state == "Alerting"


def test_remote_write_rule_uses_alloys_remote_storage_counters() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "AlloyRemoteWriteFailing")
    assert metric_names_in(rule.expr) == {
        "prometheus_remote_storage_samples_failed_total",
        "prometheus_remote_storage_samples_dropped_total",
    }


def test_crash_loop_rule_is_scoped_to_the_namespace() -> None:
    rule = next(r for r in alert_catalog(make_spec(namespace="other-ns")) if r.title == "PodCrashLooping")
    assert 'namespace="other-ns"' in rule.expr
    assert 'reason="CrashLoopBackOff"' in rule.expr


@pytest.mark.parametrize("epoch", [EXPIRES, 2_000_000_123])
def test_token_rule_bakes_in_the_expiry(epoch: int) -> None:
    rule = next(
        r
        for r in alert_catalog(make_spec(collector_token_expires_at_epoch=epoch))
        if r.title == "CollectorTokenExpiring"
    )
    assert str(epoch) in rule.expr
    assert metric_names_in(rule.expr) == set()
    assert (rule.threshold, rule.comparison) == (14 * 24 * 3600, "lt")
    assert TOKEN_WARNING_SECONDS == 1_209_600


@pytest.mark.parametrize(
    ("changes", "culprit"),
    [
        ({"namespace": "Bad_NS"}, "'Bad_NS'"),
        ({"services": []}, "[]"),
        ({"services": "gateway-service"}, "'gateway-service'"),
        ({"services": ["a", "a"]}, "duplicates"),
        ({"services": ["Gateway"]}, "'Gateway'"),
        ({"sqs_queues": ["bad queue"]}, "'bad queue'"),
        ({"collector_token_expires_at_epoch": 0}, "0"),
        ({"collector_token_expires_at_epoch": True}, "True"),
        ({"runbook_base_url": "docs/runbooks.md"}, "'docs/runbooks.md'"),
        ({"runbook_base_url": "https://x/r.md#top"}, "fragment"),
    ],
)
def test_bad_spec_is_a_value_error_naming_the_value(changes: dict[str, Any], culprit: str) -> None:
    with pytest.raises(ValueError, match=re.escape(culprit)):
        make_spec(**changes)


def test_rule_rejects_invalid_fields() -> None:
    rule = alert_catalog(make_spec())[0]
    with pytest.raises(ValueError, match="uid"):
        dataclasses.replace(rule, uid="has space")
    with pytest.raises(ValueError, match="severity"):
        dataclasses.replace(rule, severity="info")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="comparison"):
        dataclasses.replace(rule, comparison="ge")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="severity"):
        dataclasses.replace(rule, labels={"severity": "critical"})


# --- Grafana query model --------------------------------------------------------------------


def _rule() -> AlertRule:
    return next(r for r in alert_catalog(make_spec()) if r.title == "CollectorTokenExpiring")


def test_rule_data_is_query_reduce_threshold() -> None:
    rule = _rule()
    data = grafana_rule_data(rule, DS_UID)
    assert [d["refId"] for d in data] == ["A", "B", "C"]
    assert CONDITION_REF_ID == "C"
    for stage in data:
        assert stage["model"]["refId"] == stage["refId"]
        assert set(stage) == {"refId", "queryType", "relativeTimeRange", "datasourceUid", "model"}

    query, reduce, threshold = data
    assert query["datasourceUid"] == DS_UID
    assert query["relativeTimeRange"] == {"from": 600, "to": 0}
    assert query["model"]["expr"] == rule.expr
    assert query["model"]["datasource"] == {"type": "prometheus", "uid": DS_UID}

    for expression in (reduce, threshold):
        assert expression["datasourceUid"] == EXPRESSION_DATASOURCE_UID == "__expr__"
        assert expression["model"]["datasource"]["uid"] == "__expr__"
    assert (reduce["model"]["type"], reduce["model"]["expression"], reduce["model"]["reducer"]) == (
        "reduce",
        "A",
        "last",
    )
    assert (threshold["model"]["type"], threshold["model"]["expression"]) == ("threshold", "B")
    assert threshold["model"]["conditions"] == [
        {"evaluator": {"type": rule.comparison, "params": [rule.threshold]}}
    ]


def test_rule_data_threshold_follows_the_rule(spec: AlertSpec) -> None:
    for rule in alert_catalog(spec):
        evaluator = grafana_rule_data(rule, DS_UID)[2]["model"]["conditions"][0]["evaluator"]
        assert evaluator == {"type": rule.comparison, "params": [rule.threshold]}


def test_rule_data_rejects_a_bad_datasource_uid() -> None:
    with pytest.raises(ValueError, match="'not a uid'"):
        grafana_rule_data(_rule(), "not a uid")
