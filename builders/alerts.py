"""The alert catalog as data: Grafana-managed rules over metrics this pipeline really produces.

The seed plan's phase-9 rules query `http_server_requests_total{status=...}` and
`aws_sqs_approximate_number_of_messages_visible{queue_name=...}`, which nothing here emits (see
DESIGN.md "Metric names"). These rules use the names in `tools.metric_catalog`, which tests
check expression by expression. Pure: no Pulumi; `components/` turns each rule into an
`alerting.RuleGroup` rule with `grafana_rule_data()` as its `data`.

Service label: the services send metrics over OTLP; Alloy's `otelcol.exporter.prometheus` maps the
resource's `service.namespace`/`service.name` to `job="<namespace>/<name>"` and `service.instance.id`
to `instance` (OTel's Prometheus compatibility spec, and Grafana Cloud's docs:
https://grafana.com/docs/grafana-cloud/monitor-applications/application-observability/setup/resource-attributes/).
k8s-monitoring's Prometheus destination keeps `resource_to_telemetry_conversion = false`, so no other
resource attribute (k8s namespace, pod, ...) becomes a label; they stay on `target_info`. Our
services set `service.namespace=<namespace>` and `service.name=<Deployment name>`
(builders.app_instrumentation), hence `job="llm-judge/gateway-service"`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from builders import cloudwatch
from builders.k8s_monitoring_names import ALLOY_INTEGRATION_JOB
from builders.names import DNS1123_LABEL

Comparison = Literal["gt", "lt"]
Severity = Literal["critical", "warning"]
NoDataState = Literal["OK", "NoData", "Alerting"]
ExecErrState = Literal["Error", "Alerting", "OK"]

SERVICES_GROUP = "llm-judge-services"
QUEUES_GROUP = "llm-judge-queues"
PIPELINE_GROUP = "llm-judge-pipeline"

# Grafana's rule uid: at most 40 characters of letters, digits, '-' and '_'.
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
_UID_MAX = 40
_DURATION = re.compile(r"^([0-9]+[smhd])+$")

TOKEN_WARNING_SECONDS = 14 * 24 * 3600
# The Prometheus query looks back this far; the instant query only needs the rate windows (<= 10m).
QUERY_RANGE_SECONDS = 600
EXPRESSION_DATASOURCE_UID = "__expr__"
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
        if not _UID.match(self.uid):
            raise ValueError(f"alert uid {self.uid!r} must be 1-40 characters of letters, digits, '-', '_'")
        if self.comparison not in ("gt", "lt"):
            raise ValueError(f"alert {self.uid}: comparison {self.comparison!r} must be 'gt' or 'lt'")
        if self.severity not in ("critical", "warning"):
            raise ValueError(f"alert {self.uid}: severity {self.severity!r} must be 'critical' or 'warning'")
        if not _DURATION.match(self.for_):
            raise ValueError(f"alert {self.uid}: for_ {self.for_!r} must be a duration such as '5m'")
        if "severity" in self.labels:
            raise ValueError(f"alert {self.uid}: set severity through the field, not labels")

    @property
    def all_labels(self) -> dict[str, str]:
        """The rule's labels as Grafana gets them, `severity` included (notification policies route on it)."""
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
    collector_token_expires_at_epoch: int
    runbook_base_url: str
    inference_queue: str = "inference_queue"

    def __post_init__(self) -> None:
        if not isinstance(self.namespace, str) or not DNS1123_LABEL.match(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} must be a Kubernetes namespace name")
        if isinstance(self.services, str) or not self.services:
            raise ValueError(f"services {self.services!r} must be a non-empty list of service names")
        for service in self.services:
            if not isinstance(service, str) or not DNS1123_LABEL.match(service):
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
        epoch = self.collector_token_expires_at_epoch
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch <= 0:
            raise ValueError(f"collector_token_expires_at_epoch {epoch!r} must be positive Unix seconds")
        url = self.runbook_base_url
        if not isinstance(url, str) or not re.match(r"^https?://[^\s#]+$", url):
            raise ValueError(f"runbook_base_url {url!r} must be an http(s) URL without a '#fragment'")


def _uid(*parts: str) -> str:
    """`llmj-<parts>`, other characters as '_'; shortened with a stable hash suffix past 40 characters."""
    uid = re.sub(r"[^a-zA-Z0-9_-]", "_", "-".join(("llmj", *parts)))
    if len(uid) <= _UID_MAX:
        return uid
    digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
    return f"{uid[: _UID_MAX - 9].rstrip('-_')}-{digest}"


def _runbook(spec: AlertSpec, uid: str) -> str:
    return f"{spec.runbook_base_url}#{uid}"


def _job(spec: AlertSpec, service: str) -> str:
    return f"{spec.namespace}/{service}"


# --- per-service rules ----------------------------------------------------------------------


def _error_rate_rule(spec: AlertSpec, service: str) -> AlertRule:
    sel = f'job="{_job(spec, service)}"'
    total = f"sum by (job) (rate(http_server_request_duration_seconds_count{{{sel}}}[5m]))"
    errors = (
        "sum by (job) (rate(http_server_request_duration_seconds_count"
        f'{{{sel}, http_response_status_code=~"5.."}}[5m]))'
    )
    uid = _uid("5xx", service)
    return AlertRule(
        uid=uid,
        title=f"HighErrorRate {service}",
        group=SERVICES_GROUP,
        # `or ... * 0`: with traffic but no 5xx series at all the ratio is 0, not "no data".
        expr=f"({errors} / {total}) or ({total} * 0)",
        threshold=0.05,
        comparison="gt",
        for_="5m",
        severity="critical",
        summary="More than 5% of {{ $labels.job }} requests fail with 5xx",
        description=(
            "{{ $labels.job }} answered {{ humanizePercentage $values.B.Value }} of its HTTP requests "
            "with a 5xx status over the last 5 minutes (threshold 5%)."
        ),
        runbook_url=_runbook(spec, uid),
        no_data_state="OK",  # no data = no requests at all; no traffic is not an error rate
        exec_err_state="Error",  # a failing query shows as an error alert, not as a false 5xx page
        labels={"service": service, "namespace": spec.namespace},
    )


def _latency_rule(spec: AlertSpec, service: str) -> AlertRule:
    sel = f'job="{_job(spec, service)}"'
    uid = _uid("p95", service)
    return AlertRule(
        uid=uid,
        title=f"HighLatency {service}",
        group=SERVICES_GROUP,
        expr=(
            "histogram_quantile(0.95, sum by (le, job) "
            f"(rate(http_server_request_duration_seconds_bucket{{{sel}}}[5m])))"
        ),
        threshold=5.0,
        comparison="gt",
        for_="5m",
        severity="warning",
        summary="p95 latency of {{ $labels.job }} above 5 s",
        description=(
            "The 95th percentile of {{ $labels.job }}'s HTTP server request duration was "
            "{{ humanizeDuration $values.B.Value }} over the last 5 minutes (threshold 5 s)."
        ),
        runbook_url=_runbook(spec, uid),
        no_data_state="OK",  # no requests, no latency to judge
        exec_err_state="Error",  # surface query failures as errors, not as slowness
        labels={"service": service, "namespace": spec.namespace},
    )


# --- queues ---------------------------------------------------------------------------------


def _backlog_rule(spec: AlertSpec) -> AlertRule:
    visible = cloudwatch.prometheus_metric_name("ApproximateNumberOfMessagesVisible", "Maximum")
    label = cloudwatch.QUEUE_LABEL
    uid = _uid("sqs-backlog", spec.inference_queue)
    return AlertRule(
        uid=uid,
        title="InferenceQueueBacklog",
        group=QUEUES_GROUP,
        expr=f'max by ({label}) ({visible}{{{label}="{spec.inference_queue}"}})',
        threshold=100.0,
        comparison="gt",
        for_="10m",
        severity="warning",
        summary="Inference queue backlog above 100 messages",
        description=(
            "{{ $labels." + label + " }} holds {{ $values.B.Value }} visible messages "
            "(CloudWatch ApproximateNumberOfMessagesVisible, maximum over 5 min) for 10 minutes."
        ),
        runbook_url=_runbook(spec, uid),
        # nil_to_zero makes an idle queue read 0, so no data means CloudWatch collection broke:
        # Grafana's separate DatasourceNoData alert says that, instead of a misleading backlog page.
        no_data_state="NoData",
        exec_err_state="Error",
        labels={"queue": spec.inference_queue},
    )


# --- pipeline health ------------------------------------------------------------------------


def _collector_down_rule(spec: AlertSpec) -> AlertRule:
    uid = _uid("collector-down")
    return AlertRule(
        uid=uid,
        title="AlloyCollectorDown",
        group=PIPELINE_GROUP,
        # `app` is the collector name (app.kubernetes.io/name, set by the integration's discovery rules).
        expr=f'min by (app) (up{{job="{ALLOY_INTEGRATION_JOB}", namespace="{spec.namespace}"}})',
        threshold=1.0,
        comparison="lt",
        for_="5m",
        severity="critical",
        summary="Alloy collector {{ $labels.app }} is not being scraped",
        description=(
            "A pod of collector {{ $labels.app }} in " + spec.namespace + " failed its self-metrics scrape "
            "for 5 minutes. Only Running and ready pods are scraped, so a crash-looping collector shows "
            "up in the CrashLooping alert instead."
        ),
        runbook_url=_runbook(spec, uid),
        # No `up` at all means alloy-metrics itself (which does the scraping) sends nothing.
        no_data_state="Alerting",
        exec_err_state="Error",
        labels={"namespace": spec.namespace},
    )


def _remote_write_rule(spec: AlertSpec) -> AlertRule:
    sel = f'job="{ALLOY_INTEGRATION_JOB}", namespace="{spec.namespace}"'
    failed = f"sum by (app, pod) (rate(prometheus_remote_storage_samples_failed_total{{{sel}}}[10m]))"
    dropped = f"sum by (app, pod) (rate(prometheus_remote_storage_samples_dropped_total{{{sel}}}[10m]))"
    uid = _uid("remote-write-failing")
    return AlertRule(
        uid=uid,
        title="AlloyRemoteWriteFailing",
        group=PIPELINE_GROUP,
        # Both counters exist from start-up (one per remote-write queue), so the sum always matches.
        # The chart sets no write relabelling and no sample_age_limit: any drop is lost data.
        expr=f"{failed} + {dropped}",
        threshold=0.0,
        comparison="gt",
        for_="10m",
        severity="critical",
        summary="{{ $labels.pod }} loses samples on remote write to Grafana Cloud",
        description=(
            "{{ $labels.pod }} ({{ $labels.app }}) failed or dropped {{ $values.B.Value }} samples/s "
            "on remote write for 10 minutes: rejected credentials (token expired or revoked), "
            "limits, or invalid samples. Check the collector's logs."
        ),
        runbook_url=_runbook(spec, uid),
        no_data_state="OK",  # no series = no collector; AlloyCollectorDown pages for that, once
        exec_err_state="Error",
        labels={"namespace": spec.namespace},
    )


def _crash_loop_rule(spec: AlertSpec) -> AlertRule:
    uid = _uid("crashloop")
    return AlertRule(
        uid=uid,
        title="PodCrashLooping",
        group=PIPELINE_GROUP,
        # kube_pod_container_status_waiting_reason is in the chart's kube-state-metrics allow list.
        expr=(
            "max by (pod, container) (kube_pod_container_status_waiting_reason"
            f'{{namespace="{spec.namespace}", reason="CrashLoopBackOff"}})'
        ),
        threshold=0.0,
        comparison="gt",
        for_="15m",
        severity="warning",
        summary="{{ $labels.pod }}/{{ $labels.container }} is crash-looping",
        description=(
            "Container {{ $labels.container }} of pod {{ $labels.pod }} in "
            + spec.namespace
            + " has been waiting in CrashLoopBackOff for 15 minutes."
        ),
        runbook_url=_runbook(spec, uid),
        # kube-state-metrics emits the series only while a container waits: none is the healthy case.
        no_data_state="OK",
        exec_err_state="Error",
        labels={"namespace": spec.namespace},
    )


def _token_expiry_rule(spec: AlertSpec) -> AlertRule:
    uid = _uid("token-expiring")
    return AlertRule(
        uid=uid,
        title="CollectorTokenExpiring",
        group=PIPELINE_GROUP,
        # No metric knows the token's expiry, so it is baked in at deploy time. The rule is rewritten
        # on every `pulumi up`, which is also when the token is rotated: a new token brings a new
        # expiry here. A stack nobody deploys for months is exactly the one this rule must warn about.
        expr=f"vector({spec.collector_token_expires_at_epoch}) - time()",
        threshold=float(TOKEN_WARNING_SECONDS),
        comparison="lt",
        for_="0s",
        severity="warning",
        summary="Grafana Cloud collector token expires within 14 days",
        description=(
            "The access-policy token the Alloy collectors use expires in "
            "{{ humanizeDuration $values.B.Value }}. Run `pulumi up` to rotate it before it does; "
            "afterwards every collector's remote write fails with 401."
        ),
        runbook_url=_runbook(spec, uid),
        no_data_state="Alerting",  # vector() always returns a sample; no data means something is off
        exec_err_state="Error",
        labels={"namespace": spec.namespace},
    )


def alert_catalog(spec: AlertSpec) -> tuple[AlertRule, ...]:
    """Every rule for one stack: per-service HTTP rules, queue rules (only with queues), pipeline health."""
    rules: list[AlertRule] = []
    for service in spec.services:
        rules += [_error_rate_rule(spec, service), _latency_rule(spec, service)]
    if spec.sqs_queues:
        rules.append(_backlog_rule(spec))
    rules += [
        _collector_down_rule(spec),
        _remote_write_rule(spec),
        _crash_loop_rule(spec),
        _token_expiry_rule(spec),
    ]
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
    if not isinstance(datasource_uid, str) or not _UID.match(datasource_uid):
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
