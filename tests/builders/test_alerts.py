"""The alert catalog: every rule queries metrics the pipeline produces; Grafana's query model (pure)."""

from __future__ import annotations

import dataclasses
import hashlib
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
from builders.features import FeatureToggles
from tools.metric_catalog import (
    CatalogEntry,
    MetricCatalog,
    allow_list,
    metric_names_in,
    otel_label_problems,
    pipeline_catalog,
)
from tools.program import ROOT

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
        "earliest_token_expiry_epoch": EXPIRES,
        "runbook_base_url": RUNBOOKS,
        "cluster": "llm-judge-local",
        "release_name": "grafana-k8s-monitoring",
        "features": FeatureToggles(),
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


SERVICE_NAMES = (
    "gateway-service",
    "redis-service",
    "persistence-service",
    "inference-service",
    "judge-service",
)
CLUSTER = "llm-judge-local"
NS_AND_CLUSTER = {"namespace": "llm-judge", "cluster": CLUSTER}
# Every rule of the eks stack (local: the same without the queue rule): its key (the runbook anchor,
# the same in every cluster) and labels, written out. Its uid is the key and the cluster.
EXPECTED_IDENTITY: dict[str, tuple[str, dict[str, str]]] = {
    **{
        f"HighErrorRate {s}": (f"llmj-5xx-{s}", {"severity": "critical", "service": s, **NS_AND_CLUSTER})
        for s in SERVICE_NAMES
    },
    **{
        f"HighLatency {s}": (f"llmj-p95-{s}", {"severity": "warning", "service": s, **NS_AND_CLUSTER})
        for s in SERVICE_NAMES
    },
    "InferenceQueueBacklog": (
        "llmj-sqs-backlog-inference_queue",
        {"severity": "warning", "queue": "inference_queue", "cluster": CLUSTER},
    ),
    "AlloyCollectorNotReady": ("llmj-collector-not-ready", {"severity": "critical", **NS_AND_CLUSTER}),
    "AlloyRemoteWriteFailing": ("llmj-remote-write-failing", {"severity": "critical", **NS_AND_CLUSTER}),
    "TelemetryPipelineSilent": ("llmj-pipeline-silent", {"severity": "critical", **NS_AND_CLUSTER}),
    "PodCrashLooping": ("llmj-crashloop", {"severity": "warning", **NS_AND_CLUSTER}),
    "CollectorTokenExpiring": ("llmj-token-expiring", {"severity": "warning", **NS_AND_CLUSTER}),
}


def documented_uid(key: str, cluster: str) -> str:
    """The uid rule of builders/grafana_objects.py, restated: `<key>-<cluster>`, or past 40 characters
    its first 31 (without a trailing '-' or '_'), '-' and the first 8 hex digits of the whole's sha256."""
    whole = f"{key}-{cluster}"
    digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
    return whole if len(whole) <= 40 else f"{whole[:31].rstrip('-_')}-{digest}"


# Comparison, threshold, pending period, no-data and execution-error state of each rule, as the
# README's alert table says. Execution error "Error" everywhere: a failing query raises Grafana's
# DatasourceError alert instead of firing (or silencing) the rule itself.
EXPECTED_CONDITION: dict[str, tuple[str, float, str, str, str]] = {
    **{f"HighErrorRate {s}": ("gt", 0.05, "5m", "OK", "Error") for s in SERVICE_NAMES},
    **{f"HighLatency {s}": ("gt", 5.0, "5m", "OK", "Error") for s in SERVICE_NAMES},
    "InferenceQueueBacklog": ("gt", 100.0, "10m", "NoData", "Error"),
    "AlloyCollectorNotReady": ("gt", 0.0, "10m", "OK", "Error"),
    "AlloyRemoteWriteFailing": ("gt", 0.0, "10m", "OK", "Error"),
    "TelemetryPipelineSilent": ("lt", 1.0, "5m", "Alerting", "Error"),
    "PodCrashLooping": ("gt", 0.0, "15m", "OK", "Error"),
    "CollectorTokenExpiring": ("lt", 1_209_600.0, "0s", "Alerting", "Error"),
}


def test_every_rule_has_its_uid_labels_and_runbook_link(spec: AlertSpec) -> None:
    rules = {rule.title: rule for rule in alert_catalog(spec)}
    expected = {t: e for t, e in EXPECTED_IDENTITY.items() if spec.sqs_queues or t != "InferenceQueueBacklog"}
    assert set(rules) == set(expected)
    for title, (key, labels) in expected.items():
        rule = rules[title]
        assert (rule.uid, rule.all_labels) == (documented_uid(key, CLUSTER), labels), title
        assert rule.annotations["runbook_url"] == f"{RUNBOOKS}#{key}"
        assert f"cluster {CLUSTER}" in rule.summary, title
        assert rule.description.strip()


def test_uids_carry_the_cluster_within_40_characters() -> None:
    short, long = alert_catalog(make_spec()), alert_catalog(make_spec(cluster="c" * 63))
    gateway = {r.title: r.uid for r in short}["HighErrorRate gateway-service"]
    assert gateway == "llmj-5xx-gateway-service-llm-judge-local"  # 40: fits as is
    persistence = {r.title: r.uid for r in short}["HighErrorRate persistence-service"]
    whole = "llmj-5xx-persistence-service-llm-judge-local"
    assert persistence == f"llmj-5xx-persistence-service-ll-{hashlib.sha256(whole.encode()).hexdigest()[:8]}"
    assert all(len(r.uid) <= 40 for r in long)
    assert len({r.uid for r in long}) == len(long)


def test_every_rule_has_a_runbook_section_to_link_to() -> None:
    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    # The alert rules' anchors (llmj-…); the page also holds tools.verify's sections (verify-…).
    anchors = set(re.findall(r'<a id="(llmj-[^"]+)"></a>', runbooks))
    keys = {key for key, _ in EXPECTED_IDENTITY.values()}
    assert anchors == keys, (sorted(keys - anchors), sorted(anchors - keys))


def test_per_service_rules_select_the_service_by_job(spec: AlertSpec) -> None:
    rules = alert_catalog(spec)
    for service in spec.services:
        own = [r for r in rules if r.labels.get("service") == service]
        assert {r.title.split()[0] for r in own} == {"HighErrorRate", "HighLatency"}
        for rule in own:
            assert f'cluster="{spec.cluster}", job="{spec.namespace}/{service}"' in rule.expr
            assert "{{ $labels.job }}" in rule.summary


@pytest.mark.parametrize("off", ["application_observability", "app_instrumentation"])
def test_no_service_rule_where_the_services_metrics_cannot_arrive(off: str) -> None:
    # Without the receiver, or without services pointed at it, a service rule could never fire.
    rules = alert_catalog(make_spec(QUEUES, features=FeatureToggles(**{off: False})))
    assert [r for r in rules if r.group == "llm-judge-services" or "service" in r.labels] == []
    assert {r.group for r in rules} == {"llm-judge-queues", "llm-judge-pipeline"}
    with_both = alert_catalog(make_spec(QUEUES))
    assert len([r for r in with_both if r.group == "llm-judge-services"]) == 2 * len(make_spec().services)


def test_error_rate_rule_is_a_5xx_ratio_over_5_percent() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "HighErrorRate gateway-service")
    assert 'http_response_status_code=~"5.."' in rule.expr
    assert "http_server_request_duration_seconds_count" in metric_names_in(rule.expr)
    assert (rule.threshold, rule.comparison, rule.for_, rule.severity) == (0.05, "gt", "5m", "critical")
    assert rule.no_data_state == "OK"


def test_latency_rule_is_p95_over_5_seconds_by_le_and_job() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "HighLatency judge-service")
    assert rule.expr.startswith("histogram_quantile(0.95, sum by (le, cluster, job)")
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
        "AlloyCollectorNotReady",
        "AlloyRemoteWriteFailing",
        "TelemetryPipelineSilent",
        "PodCrashLooping",
        "CollectorTokenExpiring",
    }


def _pipeline_titles(queues: tuple[str, ...] = (), **features: bool) -> set[str]:
    rules = alert_catalog(make_spec(queues, features=FeatureToggles(**features)))
    return {r.title for r in rules if r.group == "llm-judge-pipeline"}


def test_pipeline_rules_exist_only_where_their_series_can() -> None:
    no_scrapes = {
        "cluster_metrics": False,
        "cost_metrics": False,
        "annotation_autodiscovery": False,
        "collector_self_metrics": False,
    }
    # kube-state-metrics comes with clusterMetrics; the collectors' own metrics with collectorSelfMetrics.
    assert _pipeline_titles(cluster_metrics=False) == {
        "AlloyRemoteWriteFailing",
        "TelemetryPipelineSilent",
        "CollectorTokenExpiring",
    }
    assert _pipeline_titles(collector_self_metrics=False) == {
        "AlloyCollectorNotReady",
        "TelemetryPipelineSilent",
        "PodCrashLooping",
        "CollectorTokenExpiring",
    }
    # Nothing scraped at all: no `up`, no silence rule (it would fire for ever) ...
    assert _pipeline_titles(**no_scrapes) == {"CollectorTokenExpiring"}
    # ... except on a stack whose alloy-metrics scrapes the CloudWatch exporter.
    assert _pipeline_titles(QUEUES, **no_scrapes) == {"TelemetryPipelineSilent", "CollectorTokenExpiring"}


KSM_READINESS = {
    "kube_statefulset_replicas",
    "kube_statefulset_status_replicas_ready",
    "kube_daemonset_status_desired_number_scheduled",
    "kube_daemonset_status_number_ready",
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
}


def test_collector_readiness_comes_from_the_charts_kube_state_metrics_allow_list() -> None:
    rule = next(r for r in alert_catalog(make_spec()) if r.title == "AlloyCollectorNotReady")
    assert metric_names_in(rule.expr) == KSM_READINESS
    ksm_only = MetricCatalog(tuple(CatalogEntry(p, "ksm") for p in allow_list("kube-state-metrics")))
    assert ksm_only.missing(KSM_READINESS) == []
    # Each collector's workload, by the name its kind's label carries.
    for selector in (
        'statefulset="grafana-k8s-monitoring-alloy-metrics"',
        'daemonset=~"grafana-k8s-monitoring-alloy-logs|grafana-k8s-monitoring-alloy-receiver"',
        'deployment="grafana-k8s-monitoring-alloy-singleton"',
    ):
        assert rule.expr.count(selector) == 2, selector  # desired and ready


def test_silence_rule_fires_on_no_data_of_its_own_cluster_only() -> None:
    rule = next(r for r in alert_catalog(make_spec(cluster="edge-1")) if r.title == "TelemetryPipelineSilent")
    assert rule.expr == 'count by (cluster) (up{cluster="edge-1"})'
    assert (rule.no_data_state, rule.comparison, rule.threshold) == ("Alerting", "lt", 1.0)
    assert rule.labels["cluster"] == "edge-1"


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
        for r in alert_catalog(make_spec(earliest_token_expiry_epoch=epoch))
        if r.title == "CollectorTokenExpiring"
    )
    assert str(epoch) in rule.expr
    assert metric_names_in(rule.expr) == set()
    assert (rule.threshold, rule.comparison) == (14 * 24 * 3600, "lt")
    assert TOKEN_WARNING_SECONDS == 1_209_600


@pytest.mark.parametrize(
    ("cost_metrics", "tokens"), [(True, "the Alloy collectors', OpenCost's"), (False, None)]
)
def test_token_rule_names_the_tokens_its_expiry_covers(cost_metrics: bool, tokens: str | None) -> None:
    """The expiry is the first of the cluster's tokens: OpenCost's too while cost metrics are on."""
    spec = make_spec(features=FeatureToggles(cost_metrics=cost_metrics))
    rule = next(r for r in alert_catalog(spec) if r.title == "CollectorTokenExpiring")
    assert rule.summary == "A Grafana Cloud token of cluster llm-judge-local expires within 14 days"
    if tokens:
        assert f"({tokens})" in rule.description and "OpenCost's queries" in rule.description
    else:
        assert "OpenCost" not in rule.description
        assert rule.description.startswith(
            "The Alloy collectors' Grafana Cloud token of cluster llm-judge-local"
        )


@pytest.mark.parametrize(
    ("changes", "culprit"),
    [
        ({"namespace": "Bad_NS"}, "'Bad_NS'"),
        ({"cluster": "Edge_1"}, "cluster 'Edge_1'"),
        ({"release_name": ""}, "release_name ''"),
        ({"services": []}, "[]"),
        ({"services": "gateway-service"}, "'gateway-service'"),
        ({"services": ["a", "a"]}, "duplicates"),
        ({"services": ["Gateway"]}, "'Gateway'"),
        ({"sqs_queues": ["bad queue"]}, "'bad queue'"),
        ({"sqs_queues": ["bad queue"], "inference_queue": "bad queue"}, "name 'bad queue' is invalid"),
        ({"sqs_queues": "inference_queue"}, "sqs_queues 'inference_queue' must be a list"),
        ({"features": {"alerting": True}}, "must be FeatureToggles"),
        ({"earliest_token_expiry_epoch": 0}, "0"),
        ({"earliest_token_expiry_epoch": True}, "True"),
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
    for pending in ("5 minutes", "5", "m5", "-5m"):
        with pytest.raises(ValueError, match="for_"):
            dataclasses.replace(rule, for_=pending)
    assert dataclasses.replace(rule, for_="1h30m").for_ == "1h30m"


# Which group each rule is evaluated in (README: rule groups services, pipeline, queues on eks).
EXPECTED_GROUP = {
    **{f"HighErrorRate {s}": "llm-judge-services" for s in SERVICE_NAMES},
    **{f"HighLatency {s}": "llm-judge-services" for s in SERVICE_NAMES},
    "InferenceQueueBacklog": "llm-judge-queues",
    **{
        title: "llm-judge-pipeline"
        for title in (
            "AlloyCollectorNotReady",
            "AlloyRemoteWriteFailing",
            "TelemetryPipelineSilent",
            "PodCrashLooping",
            "CollectorTokenExpiring",
        )
    },
}


def test_every_rule_is_in_its_group(spec: AlertSpec) -> None:
    assert {r.title: r.group for r in alert_catalog(spec)} == {
        t: g for t, g in EXPECTED_GROUP.items() if spec.sqs_queues or t != "InferenceQueueBacklog"
    }


# --- Grafana query model --------------------------------------------------------------------


def _rule() -> AlertRule:
    return next(r for r in alert_catalog(make_spec()) if r.title == "CollectorTokenExpiring")


def test_rule_data_is_query_reduce_threshold() -> None:
    """The whole model, written out from Grafana's provisioning API (AlertQuery: refId, queryType,
    relativeTimeRange, datasourceUid, model; server-side expressions under the `__expr__` uid)."""
    rule = _rule()
    assert CONDITION_REF_ID == "C"
    expressions = {"type": "__expr__", "uid": "__expr__"}
    assert grafana_rule_data(rule, DS_UID) == [
        {
            "refId": "A",
            "queryType": "",
            "relativeTimeRange": {"from": 600, "to": 0},  # ten minutes: the longest rate window
            "datasourceUid": DS_UID,
            "model": {
                "refId": "A",
                "datasource": {"type": "prometheus", "uid": DS_UID},
                "expr": rule.expr,
                "editorMode": "code",
                "instant": True,
                "range": False,
                "intervalMs": 1000,
                "maxDataPoints": 43200,
            },
        },
        {
            "refId": "B",
            "queryType": "",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": "__expr__",
            "model": {
                "refId": "B",
                "datasource": expressions,
                "type": "reduce",
                "expression": "A",
                "reducer": "last",
            },
        },
        {
            "refId": "C",
            "queryType": "",
            "relativeTimeRange": {"from": 0, "to": 0},
            "datasourceUid": "__expr__",
            "model": {
                "refId": "C",
                "datasource": expressions,
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": "lt", "params": [1_209_600.0]}}],
            },
        },
    ]
    assert EXPRESSION_DATASOURCE_UID == "__expr__"


def test_each_rules_condition_is_the_documented_one(spec: AlertSpec) -> None:
    """What Grafana gets (the threshold stage of the model, the pending period, the no-data state)
    against the values written out above."""
    rules = alert_catalog(spec)
    assert {r.title for r in rules} == {
        t for t in EXPECTED_CONDITION if spec.sqs_queues or t != "InferenceQueueBacklog"
    }
    for rule in rules:
        evaluator = grafana_rule_data(rule, DS_UID)[2]["model"]["conditions"][0]["evaluator"]
        comparison, threshold, pending, no_data, exec_err = EXPECTED_CONDITION[rule.title]
        assert evaluator == {"type": comparison, "params": [threshold]}, rule.title
        states = (rule.for_, rule.no_data_state, rule.exec_err_state)
        assert states == (pending, no_data, exec_err), rule.title


def test_rule_data_rejects_a_bad_datasource_uid() -> None:
    with pytest.raises(ValueError, match="'not a uid'"):
        grafana_rule_data(_rule(), "not a uid")


def test_backlog_description_names_the_queue_by_its_label() -> None:
    rule = next(r for r in alert_catalog(make_spec(QUEUES)) if r.title == "InferenceQueueBacklog")
    assert rule.description.startswith("{{ $labels.dimension_QueueName }} holds {{ $values.B.Value }}")
