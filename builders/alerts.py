"""The alert catalog as data: Grafana-managed rules over metrics this pipeline really produces.

The seed plan's phase-9 rules query `http_server_requests_total{status=...}` and
`aws_sqs_approximate_number_of_messages_visible{queue_name=...}`, which nothing here emits (see
DESIGN.md "Metric names"). These rules use the names in `tools.metric_catalog`, which tests
check expression by expression, and tests/builders/test_alert_scenarios.py runs every rule under
Prometheus' evaluator (`promtool test rules`, via the translation in tools/prom_rules.py) over series
shaped as the pipeline delivers them. Pure: no Pulumi; `components/` turns each rule into an
`alerting.RuleGroup` rule with `grafana_rule_data()` as its `data`.

Service label: the services send metrics over OTLP; Alloy's `otelcol.exporter.prometheus` maps the
resource's `service.namespace`/`service.name` to `job="<namespace>/<name>"` and `service.instance.id`
to `instance` (OTel's Prometheus compatibility spec, and Grafana Cloud's docs:
https://grafana.com/docs/grafana-cloud/monitor-applications/application-observability/setup/resource-attributes/).
k8s-monitoring's Prometheus destination keeps `resource_to_telemetry_conversion = false`, so no other
resource attribute (k8s namespace, pod, ...) becomes a label; they stay on `target_info`. Our
services set `service.namespace=<namespace>` and `service.name=<Deployment name>`
(builders.app_instrumentation), hence `job="llm-judge/gateway-service"`.

Cluster: many clusters send to one Grafana Cloud stack, and each cluster's stack has its own rules
(builders.grafana_objects). Every rule selects this stack's cluster (`cluster="<clusterName>"`: the
chart's remote write adds `cluster` and `k8s_cluster_name` to every series, the services' OTLP metrics
included), keeps `cluster` in its aggregation, carries it as a label and names it in its summary: an
incident in one cluster fires once, for that cluster, however the others fare.
tests/builders/test_alert_scenarios_clusters.py runs three clusters' rules over the three clusters'
series to show it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from builders import cloudwatch
from builders.features import FeatureToggles
from builders.grafana_objects import grafana_uid, is_grafana_uid, rule_uid
from builders.k8s_monitoring_names import (
    ALLOY_INTEGRATION_JOB,
    COLLECTOR_WORKLOAD_KINDS,
    COLLECTORS,
    monitoring_names,
)
from builders.names import DNS1123_LABEL

Comparison = Literal["gt", "lt"]
Severity = Literal["critical", "warning"]
NoDataState = Literal["OK", "NoData", "Alerting"]
ExecErrState = Literal["Error", "Alerting", "OK"]

SERVICES_GROUP = "llm-judge-services"
QUEUES_GROUP = "llm-judge-queues"
PIPELINE_GROUP = "llm-judge-pipeline"

_DURATION = re.compile(r"^([0-9]+[smhd])+$")

TOKEN_WARNING_SECONDS = 14 * 24 * 3600
# The Prometheus query looks back this far; the instant query only needs the rate windows (<= 10m).
QUERY_RANGE_SECONDS = 600
EXPRESSION_DATASOURCE_UID = "__expr__"
# How often Grafana evaluates each rule group (its `interval_seconds`).
EVALUATION_INTERVAL_SECONDS = 60
CONDITION_REF_ID = "C"


@dataclass(frozen=True)
class AlertRule:
    """One Grafana-managed alert rule: query A, reduced (B, last), compared with a threshold (C)."""

    uid: str
    title: str
    group: str
    expr: str  # PromQL
    threshold: float
    comparison: Comparison
    for_: str
    severity: Severity
    summary: str
    description: str
    runbook_url: str
    no_data_state: NoDataState
    exec_err_state: ExecErrState
    labels: Mapping[str, str] = field(default_factory=dict)  # beyond `severity`

    def __post_init__(self) -> None:
        if not is_grafana_uid(self.uid):
            raise ValueError(f"alert uid {self.uid!r} must be 1-40 characters of letters, digits, '-', '_'")
        if self.comparison not in ("gt", "lt"):
            raise ValueError(f"alert {self.uid}: comparison {self.comparison!r} must be 'gt' or 'lt'")
        if self.severity not in ("critical", "warning"):
            raise ValueError(f"alert {self.uid}: severity {self.severity!r} must be 'critical' or 'warning'")
        if not _DURATION.fullmatch(self.for_):
            raise ValueError(f"alert {self.uid}: for_ {self.for_!r} must be a duration such as '5m'")
        if "severity" in self.labels:
            raise ValueError(f"alert {self.uid}: set severity through the field, not labels")

    @property
    def all_labels(self) -> dict[str, str]:
        """The rule's labels as Grafana gets them, `severity` included (it names the severity in
        notifications and silences; routing is the rule's own notification settings)."""
        return {**self.labels, "severity": self.severity}

    @property
    def annotations(self) -> dict[str, str]:
        return {"summary": self.summary, "description": self.description, "runbook_url": self.runbook_url}


@dataclass(frozen=True)
class AlertSpec:
    """What the catalog needs to know about one stack."""

    namespace: str
    services: Sequence[str]
    sqs_queues: Sequence[str]
    # When the first of the cluster's in-cluster tokens (the collectors', OpenCost's) expires, in Unix
    # seconds: the deadline of the token-expiry rule.
    earliest_token_expiry_epoch: int
    runbook_base_url: str
    # clusterName: the chart's remote write adds `cluster` (and `k8s_cluster_name`) with this value
    # to every series (`external_labels` of each prometheus.remote_write the chart renders).
    cluster: str
    release_name: str  # the k8s-monitoring release: its collectors' workload names derive from it
    features: FeatureToggles  # which sources run, hence which series the pipeline rules can see
    inference_queue: str = cloudwatch.DEFAULT_INFERENCE_QUEUE

    def __post_init__(self) -> None:
        for name in ("namespace", "cluster", "release_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not DNS1123_LABEL.fullmatch(value):
                raise ValueError(f"{name} {value!r} must be a DNS-1123 label")
        if not isinstance(self.features, FeatureToggles):
            raise ValueError(f"features {self.features!r} must be FeatureToggles")
        if isinstance(self.services, str) or not self.services:
            raise ValueError(f"services {self.services!r} must be a non-empty list of service names")
        for service in self.services:
            if not isinstance(service, str) or not DNS1123_LABEL.fullmatch(service):
                raise ValueError(f"service {service!r} must be a lowercase RFC 1123 label")
        if len(set(self.services)) != len(self.services):
            raise ValueError(f"services {list(self.services)!r} contain duplicates")
        if isinstance(self.sqs_queues, str):
            raise ValueError(f"sqs_queues {self.sqs_queues!r} must be a list of queue names")
        for queue in self.sqs_queues:
            cloudwatch.validate_queue_name(queue)
        cloudwatch.validate_queue_name(self.inference_queue)
        if self.sqs_queues and self.inference_queue not in self.sqs_queues:
            # The backlog rule would watch a queue nobody collects and never fire.
            raise ValueError(
                f"inference_queue {self.inference_queue!r} is not among the collected sqs_queues "
                f"{list(self.sqs_queues)!r}"
            )
        epoch = self.earliest_token_expiry_epoch
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch <= 0:
            raise ValueError(f"earliest_token_expiry_epoch {epoch!r} must be positive Unix seconds")
        url = self.runbook_base_url
        if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s#]+", url):
            raise ValueError(f"runbook_base_url {url!r} must be an http(s) URL without a '#fragment'")


def _key(*parts: str) -> str:
    """A rule's key, `llmj-<parts>`: the same in every cluster, its runbook anchor (docs/runbooks.md).
    The rule's uid is the key and the cluster (`rule_uid`)."""
    return grafana_uid("llmj", *parts)


def _runbook(spec: AlertSpec, key: str) -> str:
    return f"{spec.runbook_base_url}#{key}"


def _in_cluster(spec: AlertSpec) -> str:
    """The matcher that keeps a selection to this stack's cluster."""
    return f'cluster="{spec.cluster}"'


def _job(spec: AlertSpec, service: str) -> str:
    return f"{spec.namespace}/{service}"


# --- per-service rules ----------------------------------------------------------------------


def _error_rate_rule(spec: AlertSpec, service: str) -> AlertRule:
    sel = f'{_in_cluster(spec)}, job="{_job(spec, service)}"'
    total = f"sum by (cluster, job) (rate(http_server_request_duration_seconds_count{{{sel}}}[5m]))"
    errors = (
        "sum by (cluster, job) (rate(http_server_request_duration_seconds_count"
        f'{{{sel}, http_response_status_code=~"5.."}}[5m]))'
    )
    key = _key("5xx", service)
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title=f"HighErrorRate {service}",
        group=SERVICES_GROUP,
        # `or ... * 0`: with traffic but no 5xx series at all the ratio is 0, not "no data".
        expr=f"({errors} / {total}) or ({total} * 0)",
        threshold=0.05,
        comparison="gt",
        for_="5m",
        severity="critical",
        summary="More than 5% of {{ $labels.job }} requests fail with 5xx in cluster " + spec.cluster,
        description=(
            "{{ $labels.job }} answered {{ humanizePercentage $values.B.Value }} of its HTTP requests "
            f"with a 5xx status over the last 5 minutes (threshold 5%) in cluster {spec.cluster}."
        ),
        runbook_url=_runbook(spec, key),
        no_data_state="OK",  # no data = no requests at all; no traffic is not an error rate
        exec_err_state="Error",  # a failing query shows as an error alert, not as a false 5xx page
        labels={"service": service, "namespace": spec.namespace, "cluster": spec.cluster},
    )


def _latency_rule(spec: AlertSpec, service: str) -> AlertRule:
    sel = f'{_in_cluster(spec)}, job="{_job(spec, service)}"'
    key = _key("p95", service)
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title=f"HighLatency {service}",
        group=SERVICES_GROUP,
        expr=(
            "histogram_quantile(0.95, sum by (le, cluster, job) "
            f"(rate(http_server_request_duration_seconds_bucket{{{sel}}}[5m])))"
        ),
        threshold=5.0,
        comparison="gt",
        for_="5m",
        severity="warning",
        summary="p95 latency of {{ $labels.job }} above 5 s in cluster " + spec.cluster,
        description=(
            "The 95th percentile of {{ $labels.job }}'s HTTP server request duration was "
            "{{ humanizeDuration $values.B.Value }} over the last 5 minutes (threshold 5 s) in cluster "
            f"{spec.cluster}."
        ),
        runbook_url=_runbook(spec, key),
        no_data_state="OK",  # no requests, no latency to judge
        exec_err_state="Error",  # surface query failures as errors, not as slowness
        labels={"service": service, "namespace": spec.namespace, "cluster": spec.cluster},
    )


# --- queues ---------------------------------------------------------------------------------


def _backlog_rule(spec: AlertSpec) -> AlertRule:
    visible = cloudwatch.prometheus_metric_name("ApproximateNumberOfMessagesVisible", "Maximum")
    label = cloudwatch.QUEUE_LABEL
    key = _key("sqs-backlog", spec.inference_queue)
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title="InferenceQueueBacklog",
        group=QUEUES_GROUP,
        # Each cluster's collector reads the queue's CloudWatch metrics and labels them with its cluster.
        expr=(
            f'max by (cluster, {label}) ({visible}{{{_in_cluster(spec)}, {label}="{spec.inference_queue}"}})'
        ),
        threshold=100.0,
        comparison="gt",
        for_="10m",
        severity="warning",
        summary=f"Inference queue backlog above 100 messages in cluster {spec.cluster}",
        description=(
            "{{ $labels." + label + " }} holds {{ $values.B.Value }} visible messages "
            "(CloudWatch ApproximateNumberOfMessagesVisible, maximum over 5 min) for 10 minutes, "
            f"as cluster {spec.cluster} collects it."
        ),
        runbook_url=_runbook(spec, key),
        # nil_to_zero makes an idle queue read 0, so no data means CloudWatch collection broke:
        # Grafana's separate DatasourceNoData alert says that, instead of a misleading backlog page.
        no_data_state="NoData",
        exec_err_state="Error",
        labels={"queue": spec.inference_queue, "cluster": spec.cluster},
    )


# --- pipeline health ------------------------------------------------------------------------


# kube-state-metrics' desired and ready counts per workload kind (all in the chart's default
# allow list, allowLists/kube-state-metrics.yaml: `kube_statefulset.*`, `kube_daemonset.*`,
# `kube_deployment_spec_replicas`, `kube_deployment_status_replicas_available`). Labels `namespace`
# and the kind's name: kube-state-metrics docs/metrics/workload/{statefulset,daemonset,deployment}-metrics.md.
# A Deployment has no "ready" count in the allow list; "available" is ready for minReadySeconds,
# which the Alloy chart sets to 10 s (alloy-operator 0.6.3 alloy-values.yaml `controller.minReadySeconds`).
_DESIRED_AND_READY: Mapping[str, tuple[str, str]] = {
    "statefulset": ("kube_statefulset_replicas", "kube_statefulset_status_replicas_ready"),
    "daemonset": ("kube_daemonset_status_desired_number_scheduled", "kube_daemonset_status_number_ready"),
    "deployment": ("kube_deployment_spec_replicas", "kube_deployment_status_replicas_available"),
}


def _not_ready_term(spec: AlertSpec, kind: str) -> str:
    names = monitoring_names(spec.release_name, spec.namespace)
    workloads = sorted(names.collector(c) for c in COLLECTORS if COLLECTOR_WORKLOAD_KINDS[c] == kind)
    match = f'="{workloads[0]}"' if len(workloads) == 1 else f'=~"{"|".join(workloads)}"'
    sel = f'{_in_cluster(spec)}, namespace="{spec.namespace}", {kind}{match}'
    by = f"cluster, namespace, {kind}"
    desired, ready = _DESIRED_AND_READY[kind]
    missing = f"sum by ({by}) ({desired}{{{sel}}}) - sum by ({by}) ({ready}{{{sel}}})"
    return f'label_replace({missing}, "workload", "$1", "{kind}", "(.+)")'


def _collectors_not_ready_rule(spec: AlertSpec) -> AlertRule:
    key = _key("collector-not-ready")
    kinds = sorted(set(COLLECTOR_WORKLOAD_KINDS.values()))
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title="AlloyCollectorNotReady",
        group=PIPELINE_GROUP,
        # A Pending or NotReady collector pod has no `up` series at all (the chart's alloy integration
        # scrapes only Running and ready pods: its discovery keeps `<port>@Running@true@false`), so
        # readiness is read from kube-state-metrics instead: desired minus ready, per workload.
        expr="max by (cluster, namespace, workload) ("
        + " or ".join(_not_ready_term(spec, k) for k in kinds)
        + ")",
        threshold=0.0,
        comparison="gt",
        for_="10m",  # longer than a rolling restart of the collectors
        severity="critical",
        summary="Collector {{ $labels.workload }} has pods scheduled but not ready in cluster "
        + spec.cluster,
        description=(
            "kube-state-metrics reports {{ $values.B.Value }} fewer ready pods than desired for "
            "{{ $labels.workload }} in " + spec.namespace + " of cluster " + spec.cluster + " for 10 "
            "minutes (Pending, crash-looping "
            "or failing its readiness probe): its part of the telemetry is not collected. This rule "
            "reads kube-state-metrics through alloy-metrics, so it cannot see alloy-metrics itself "
            "stopping; TelemetryPipelineSilent does."
        ),
        runbook_url=_runbook(spec, key),
        no_data_state="OK",  # no workload series: the collectors or kube-state-metrics are gone; see Silent
        exec_err_state="Error",
        labels={"namespace": spec.namespace, "cluster": spec.cluster},
    )


def _remote_write_rule(spec: AlertSpec) -> AlertRule:
    sel = f'{_in_cluster(spec)}, job="{ALLOY_INTEGRATION_JOB}", namespace="{spec.namespace}"'
    by = "cluster, namespace, app, pod"
    # A 5m rate held for 10m: losses over at least about 5 minutes page, a one-off lost batch does not.
    failed = f"sum by ({by}) (rate(prometheus_remote_storage_samples_failed_total{{{sel}}}[5m]))"
    dropped = f"sum by ({by}) (rate(prometheus_remote_storage_samples_dropped_total{{{sel}}}[5m]))"
    key = _key("remote-write-failing")
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title="AlloyRemoteWriteFailing",
        group=PIPELINE_GROUP,
        # `samples_failed_total` is a plain Counter, exported at 0 from start-up; `samples_dropped_total`
        # is a CounterVec by `reason` since Prometheus 2.50 and has no series before the first drop
        # (prometheus v2.50.0 storage/remote/queue_manager.go lines 132-138 and 188-194; Alloy runs a
        # fork of v2.54.1, grafana/alloy go.mod). `A + B` alone would be empty until a first drop, so:
        # failed plus dropped where anything was dropped, failed alone otherwise. A send counts as
        # failed on a non-retryable answer: 5xx, and 429 with the chart's `retry_on_http_429 = true`,
        # are retried instead (v2.50.0 storage/remote/client.go lines 239-241).
        expr=f"({failed} + {dropped}) or {failed}",
        threshold=0.0,
        comparison="gt",
        for_="10m",
        severity="critical",
        summary="{{ $labels.pod }} in cluster "
        + spec.cluster
        + " loses samples on remote write to Grafana Cloud",
        description=(
            "For 10 minutes {{ $labels.pod }} ({{ $labels.app }}, cluster " + spec.cluster + ") has had "
            "samples refused with a "
            "non-retryable error (4xx other than 429: invalid, out-of-order or too-old samples, series "
            "limits) or dropped before sending: {{ humanize $values.B.Value }} samples/s over the last "
            "5 minutes, while its own metrics still reach Grafana Cloud. A write refused as a whole "
            "(token expired or revoked) leaves nothing to see here: TelemetryPipelineSilent fires for that."
        ),
        runbook_url=_runbook(spec, key),
        no_data_state="OK",  # no self-metrics at all: TelemetryPipelineSilent and NotReady page for that
        exec_err_state="Error",
        labels={"namespace": spec.namespace, "cluster": spec.cluster},
    )


def _pipeline_silent_rule(spec: AlertSpec) -> AlertRule:
    key = _key("pipeline-silent")
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title="TelemetryPipelineSilent",
        group=PIPELINE_GROUP,
        # Every scrape of alloy-metrics yields an `up` sample, and the remote write labels it with
        # this cluster. When nothing arrives (token expired or revoked, alloy-metrics gone) the query
        # is empty: no data, which this rule's no-data state turns into a firing alert. With data the
        # count is at least 1 and the condition (< 1) is never true.
        expr=f"count by (cluster) (up{{{_in_cluster(spec)}}})",
        threshold=1.0,
        comparison="lt",
        for_="5m",
        severity="critical",
        summary=f"No metrics from cluster {spec.cluster} reach Grafana Cloud",
        description=(
            f"No scrape result (`up`) of cluster {spec.cluster} has reached Grafana Cloud for about "
            "10 minutes (5 minutes of query lookback, then 5 minutes pending): the collectors' remote "
            "write is refused (token expired or revoked: run `pulumi up`), alloy-metrics is not "
            "running, or the cluster is gone. Every other alert on this cluster's metrics is blind "
            "until it clears."
        ),
        runbook_url=_runbook(spec, key),
        no_data_state="Alerting",  # the point of the rule: nothing arriving is the failure
        exec_err_state="Error",
        labels={"namespace": spec.namespace, "cluster": spec.cluster},
    )


def _crash_loop_rule(spec: AlertSpec) -> AlertRule:
    key = _key("crashloop")
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        title="PodCrashLooping",
        group=PIPELINE_GROUP,
        # kube_pod_container_status_waiting_reason is in the chart's kube-state-metrics allow list.
        expr=(
            "max by (cluster, namespace, pod, container) (kube_pod_container_status_waiting_reason"
            f'{{{_in_cluster(spec)}, namespace="{spec.namespace}", reason="CrashLoopBackOff"}})'
        ),
        threshold=0.0,
        comparison="gt",
        for_="15m",
        severity="warning",
        summary="{{ $labels.pod }}/{{ $labels.container }} is crash-looping in cluster " + spec.cluster,
        description=(
            "Container {{ $labels.container }} of pod {{ $labels.pod }} in "
            + spec.namespace
            + " of cluster "
            + spec.cluster
            + " has been waiting in CrashLoopBackOff for 15 minutes."
        ),
        runbook_url=_runbook(spec, key),
        # kube-state-metrics emits the series only while a container waits: none is the healthy case.
        no_data_state="OK",
        exec_err_state="Error",
        labels={"namespace": spec.namespace, "cluster": spec.cluster},
    )


def _token_expiry_rule(spec: AlertSpec) -> AlertRule:
    key = _key("token-expiring")
    return AlertRule(
        uid=rule_uid(spec.cluster, key),
        # The title predates OpenCost's token; it stays, as alerts, silences and the runbook use it.
        title="CollectorTokenExpiring",
        group=PIPELINE_GROUP,
        # No metric knows a token's expiry, so the first of the cluster's tokens to expire (the
        # collectors', OpenCost's) is baked in at deploy time. The rule is rewritten on every
        # `pulumi up`, which is also when the tokens are rotated: new tokens bring a new expiry here.
        # A stack nobody deploys for months is exactly the one this rule must warn about.
        expr=f"vector({spec.earliest_token_expiry_epoch}) - time()",
        threshold=float(TOKEN_WARNING_SECONDS),
        comparison="lt",
        for_="0s",
        severity="warning",
        summary=f"A Grafana Cloud token of cluster {spec.cluster} expires within 14 days",
        description=(
            f"The first of the Grafana Cloud tokens in cluster {spec.cluster}'s credentials Secret "
            "(the Alloy collectors', OpenCost's) expires in {{ humanizeDuration $values.B.Value }}. "
            "Run `pulumi up` to rotate them before then; with an expired token every collector's "
            "remote write, or OpenCost's queries, fail with 401."
            if spec.features.cost_metrics
            else f"The Alloy collectors' Grafana Cloud token of cluster {spec.cluster} expires in "
            "{{ humanizeDuration $values.B.Value }}. Run `pulumi up` to rotate it before then; with "
            "an expired token every collector's remote write fails with 401."
        ),
        runbook_url=_runbook(spec, key),
        no_data_state="Alerting",  # vector() always returns a sample; no data means something is off
        exec_err_state="Error",
        labels={"namespace": spec.namespace, "cluster": spec.cluster},
    )


def alert_catalog(spec: AlertSpec) -> tuple[AlertRule, ...]:
    """Every rule for one stack: per-service HTTP rules, queue rules (only with queues), pipeline health
    (each only where the features deliver the series it reads)."""
    rules: list[AlertRule] = []
    f = spec.features
    # The services' request metrics reach Grafana Cloud only through the OTLP receiver
    # (applicationObservability) from services the program points at it (appInstrumentation). Without
    # either, a service rule could never fire: it would sit green as no-data OK (README, alert table).
    if f.application_observability and f.app_instrumentation:
        for service in spec.services:
            rules += [_error_rate_rule(spec, service), _latency_rule(spec, service)]
    if spec.sqs_queues:
        rules.append(_backlog_rule(spec))
    # Pipeline rules exist only where their series can: kube-state-metrics comes with clusterMetrics,
    # the collectors' own metrics with collectorSelfMetrics, and `up` with any scrape of alloy-metrics
    # (the CloudWatch exporter is scraped on stacks with SQS queues).
    scrapes = (
        f.cluster_metrics
        or f.cost_metrics
        or f.annotation_autodiscovery
        or f.collector_self_metrics
        or bool(spec.sqs_queues)
    )
    if f.cluster_metrics:
        rules.append(_collectors_not_ready_rule(spec))
    if f.collector_self_metrics:
        rules.append(_remote_write_rule(spec))
    if scrapes:
        rules.append(_pipeline_silent_rule(spec))
    if f.cluster_metrics:
        rules.append(_crash_loop_rule(spec))
    rules.append(_token_expiry_rule(spec))
    uids = [r.uid for r in rules]
    duplicates = sorted({u for u in uids if uids.count(u) > 1})
    if duplicates:
        raise ValueError(f"alert uids {duplicates!r} are not unique")
    return tuple(rules)


# --- Grafana query model --------------------------------------------------------------------


def _expression_datasource() -> dict[str, str]:
    return {"type": "__expr__", "uid": EXPRESSION_DATASOURCE_UID}


def grafana_rule_data(rule: AlertRule, datasource_uid: str) -> list[dict[str, Any]]:
    """The rule's `data` as Grafana's alerting provisioning API takes it: A query, B reduce, C threshold.

    Field names follow the API's AlertQuery (`refId`, `queryType`, `relativeTimeRange`,
    `datasourceUid`, `model`) and the server-side expression models (`type`, `expression`,
    `reducer`, `conditions[].evaluator`); `__expr__` is the expressions' data source uid.
    https://grafana.com/docs/grafana/latest/developer-resources/api-reference/http-api/api-legacy/alerting_provisioning/
    The condition of the rule is `CONDITION_REF_ID` ("C").
    """
    if not is_grafana_uid(datasource_uid):
        raise ValueError(f"datasource uid {datasource_uid!r} must be a Grafana uid (letters, digits, -, _)")
    expr_time = {"from": 0, "to": 0}
    return [
        {
            "refId": "A",
            "queryType": "",
            "relativeTimeRange": {"from": QUERY_RANGE_SECONDS, "to": 0},
            "datasourceUid": datasource_uid,
            "model": {
                "refId": "A",
                "datasource": {"type": "prometheus", "uid": datasource_uid},
                "expr": rule.expr,
                "editorMode": "code",
                # Instant query: every expression here already aggregates over its own window.
                "instant": True,
                "range": False,
                "intervalMs": 1000,
                "maxDataPoints": 43200,
            },
        },
        {
            "refId": "B",
            "queryType": "",
            "relativeTimeRange": expr_time,
            "datasourceUid": EXPRESSION_DATASOURCE_UID,
            "model": {
                "refId": "B",
                "datasource": _expression_datasource(),
                "type": "reduce",
                "expression": "A",
                "reducer": "last",
            },
        },
        {
            "refId": CONDITION_REF_ID,
            "queryType": "",
            "relativeTimeRange": expr_time,
            "datasourceUid": EXPRESSION_DATASOURCE_UID,
            "model": {
                "refId": CONDITION_REF_ID,
                "datasource": _expression_datasource(),
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": rule.comparison, "params": [rule.threshold]}}],
            },
        },
    ]
