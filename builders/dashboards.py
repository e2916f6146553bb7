"""The custom "LLM Judge" dashboard (seed plan 7.2), built in code with grafana-foundation-sdk.

Pure: data-source uids, services, their roles, namespace and queues in; the dashboard's JSON model (a plain
dict, what Grafana's dashboard API and `grafana.oss.Dashboard(config_json=...)` take) out.
Built with the SDK build for Grafana 11.6 (`grafana-foundation-sdk==1769699379!11.6.0`, see
DESIGN.md "grafana-foundation-sdk versions"); `schemaVersion` is whatever that build emits.

Where the series come from, so every query names only what this pipeline produces:
- HTTP server/client histograms: the services' OpenTelemetry SDKs with stable HTTP semconv
  (`OTEL_SEMCONV_STABILITY_OPT_IN=http`, builders/app_instrumentation.py), exported over OTLP to
  Alloy's receiver and on to Mimir. `http.server.request.duration` becomes
  `http_server_request_duration_seconds_{bucket,count,sum}`; `service.namespace`/`service.name`
  become `job="<namespace>/<service>"`; attributes become labels with dots replaced
  (`http.response.status_code` -> `http_response_status_code`, `server.address` ->
  `server_address`, `error.type` -> `error_type`).
  https://opentelemetry.io/docs/specs/semconv/http/http-metrics/
  https://grafana.com/docs/grafana-cloud/send-data/otlp/otlp-format-considerations/
- SQS: Alloy's `prometheus.exporter.cloudwatch` (YACE names, `dimension_QueueName`).
- Logs: k8s-monitoring 4.4.0 `podLogsViaLoki`. Its discovery rules set the stream labels
  `namespace`, `pod`, `container`, `job` (= namespace/container), `service_name`,
  `service_namespace` and, from the pod label, `app_kubernetes_io_name`
  (charts/k8s-monitoring/charts/feature-pod-logs-via-loki/templates/_discovery.alloy.tpl at tag
  k8s-monitoring-4.4.0; `labels:` in that subchart's values.yaml). We select on `namespace` and
  `container`: both are always set, and the container is named after the service (the LLM
  Judge manifests' convention, `ServiceSpec.container`). `service_name` would depend on pod
  labels and annotations we do not control.
- Service graph: Tempo's metrics-generator in Grafana Cloud (`traces_service_graph_*`), read
  through the Tempo data source's service map query; node names are `service.name` values.

Cluster: one Grafana Cloud stack serves many clusters, each with its own copy of this dashboard
(builders.grafana_objects). A `cluster` variable lists the clusters the services' series come from
(`cluster` is on every series: the chart's remote write adds it, the services' OTLP metrics
included) and opens on this copy's cluster; every Prometheus and Loki query selects
`cluster="$cluster"` (the pod logs carry `cluster` from their `loki.write` external labels, as
tools/verify selects them). The service graph cannot: Tempo's service-graph metrics carry only
`client`, `server` and `connection_type` unless the metrics-generator adds `dimensions`
(grafana/tempo docs/sources/tempo/metrics-from-traces/service_graphs/_index.md, "Metrics"), so it
shows these services' calls in every cluster, and says so.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import logs, loki, nodegraph, prometheus, tempo, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from builders.cloudwatch import validate_queue_name
from builders.names import DNS1123_LABEL

UID = "llm-judge"  # components/dashboards.py gives each cluster's copy its own (builders.grafana_objects)
TITLE = "LLM Judge"
TAGS = ["llm-judge"]

# Roles some panels need; by default the service names of DESIGN.md "The platform being observed".
GATEWAY = "gateway-service"
INFERENCE = "inference-service"
REDIS_SERVICE = "redis-service"


@dataclass(frozen=True)
class ServiceRoles:
    """Which of the listed services the role-specific panels are about (config `serviceRoles`):
    the platform's entry point, the service calling the OpenAI API, the one fronting Redis."""

    gateway: str = GATEWAY
    inference: str = INFERENCE
    redis: str = REDIS_SERVICE

    def by_role(self) -> dict[str, str]:
        return {"gateway": self.gateway, "inference": self.inference, "redis": self.redis}


OPENAI_HOST = "api.openai.com"
QUEUE_VARIABLE = "queue"
CLUSTER_VARIABLE = "cluster"
IN_CLUSTER = f'cluster="${CLUSTER_VARIABLE}"'  # in every Prometheus and Loki selector

# OTel stable semconv histograms (seconds), as Mimir stores them.
HTTP_SERVER = "http_server_request_duration_seconds"
HTTP_CLIENT = "http_client_request_duration_seconds"

# YACE names of the CloudWatch SQS metrics, `_maximum` statistic: the worst value in each
# CloudWatch period is what a queue-health panel is for.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
SQS_OLDEST_AGE = "aws_sqs_approximate_age_of_oldest_message_maximum"
SQS_VISIBLE = "aws_sqs_approximate_number_of_messages_visible_maximum"
SQS_NOT_VISIBLE = "aws_sqs_approximate_number_of_messages_not_visible_maximum"

# Level values counted as errors. Case-insensitive: Python's logging says ERROR/CRITICAL,
# structlog and friends say error.
ERROR_LEVELS = "(?i)(error|critical|fatal)"

PERCENTILES = (0.5, 0.95, 0.99)

# RFC 1123 label: Kubernetes namespace and Deployment/container names. Names are pasted into
# PromQL/LogQL regexes and strings, so only characters that are literal there are accepted;
# queue names likewise (builders.cloudwatch.validate_queue_name: letters, digits, '-', '_', '.fifo').


@dataclass(frozen=True)
class DataSources:
    """The uids of the stack's data sources (Grafana Cloud: grafanacloud-<slug>-prom/-logs/-traces)."""

    prometheus_uid: str
    loki_uid: str
    tempo_uid: str

    def __post_init__(self) -> None:
        for label, uid in (
            ("prometheus_uid", self.prometheus_uid),
            ("loki_uid", self.loki_uid),
            ("tempo_uid", self.tempo_uid),
        ):
            if not isinstance(uid, str) or not uid.strip():
                raise ValueError(f"DataSources.{label} must be a non-empty data source uid, got {uid!r}")

    @property
    def prometheus(self) -> DataSourceRef:
        return DataSourceRef(type_val="prometheus", uid=self.prometheus_uid)

    @property
    def loki(self) -> DataSourceRef:
        return DataSourceRef(type_val="loki", uid=self.loki_uid)

    @property
    def tempo(self) -> DataSourceRef:
        return DataSourceRef(type_val="tempo", uid=self.tempo_uid)


def llm_judge_dashboard(
    ds: DataSources,
    services: Sequence[str],
    namespace: str,
    sqs_queues: Sequence[str],
    roles: ServiceRoles = ServiceRoles(),
    *,
    cluster: str,
) -> dict[str, Any]:
    """The LLM Judge dashboard's JSON model, opening on `cluster` (this stack's clusterName).

    The "Queue health" row exists only when `sqs_queues` is non-empty: without the CloudWatch
    exporter (the local stack) its panels could only say "No data".
    """
    services = _checked_services(services, roles)
    namespace = _checked("namespace", namespace, DNS1123_LABEL)
    cluster = _checked("cluster", cluster, DNS1123_LABEL)
    if isinstance(sqs_queues, str):
        raise ValueError("sqs_queues must be a sequence of queue names, not one string")
    queues = [validate_queue_name(q) for q in sqs_queues]
    sel = _Selectors(namespace, services, roles)

    builder = (
        gdash.Dashboard(TITLE)
        .uid(UID)
        .tags(TAGS)
        .time("now-3h", "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
    )
    builder = builder.with_variable(_cluster_variable(ds, sel, cluster))
    ids = itertools.count(1)
    rows: list[tuple[str, list[Any]]] = [("Request flow", _request_flow(ds, sel, services))]
    if queues:
        builder = builder.with_variable(_queue_variable(queues))
        rows.append(("Queue health", _queue_health(ds)))
    rows.append(("Errors", _errors(ds, sel)))
    rows.append(("Performance", _performance(ds, sel)))
    for title, panels in rows:
        # Expanded rows with the panels after them: Grafana drops panels nested in a row that
        # is not collapsed, and an overview dashboard should show everything at once.
        builder = builder.with_row(gdash.Row(title).id(next(ids)))
        for panel in panels:
            builder = builder.with_panel(panel.id(next(ids)))
    model: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return model


def dashboard_expressions(model: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every query expression of a dashboard model with the uid of the data source it runs on.

    Covers targets of top-level panels and of panels nested in collapsed rows. A target
    without its own data source runs on its panel's. Tempo service map queries carry no
    `expr` and are not listed.
    """
    found: list[tuple[str, str]] = []
    for panel in _all_panels(model.get("panels", [])):
        panel_uid = _uid(panel.get("datasource"))
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if isinstance(expr, str) and expr:
                found.append((_uid(target.get("datasource")) or panel_uid, expr))
    return found


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Selectors:
    namespace: str
    services: tuple[str, ...]
    roles: ServiceRoles

    @property
    def all_jobs(self) -> str:
        """All services' metrics in any cluster: OTLP `job` is `<service.namespace>/<service.name>`."""
        return f'job=~"{self.namespace}/({"|".join(self.services)})"'

    @property
    def jobs(self) -> str:
        """All services' metrics in the selected cluster."""
        return f"{IN_CLUSTER}, {self.all_jobs}"

    def job(self, service: str) -> str:
        return f'{IN_CLUSTER}, job="{self.namespace}/{service}"'

    @property
    def error_logs(self) -> str:
        """Error lines of the services' containers; `| json` parses the apps' JSON lines."""
        stream = f'{{{IN_CLUSTER}, namespace="{self.namespace}", container=~"{"|".join(self.services)}"}}'
        return f'{stream} | json | level=~"{ERROR_LEVELS}"'


def _request_flow(ds: DataSources, sel: _Selectors, services: Sequence[str]) -> list[Any]:
    names = "|".join(services)
    graph = (
        nodegraph.Panel()
        .title("Service graph")
        .description(
            "Tempo service map (metrics-generator service graphs): calls between the services "
            "and from them to their peers. Edges come from traces, so an idle service is absent. "
            "Every cluster's calls: service-graph metrics carry no cluster label."
        )
        .datasource(ds.tempo)
        .with_target(
            tempo.TempoQuery()
            .ref_id("A")
            .datasource(ds.tempo)
            .query_type("serviceMap")
            # Two selectors, unioned by the data source: edges out of and into our services.
            .service_map_query([f'{{client=~"{names}"}}', f'{{server=~"{names}"}}'])
        )
        .height(10)
        .span(12)
    )
    latency = _percentiles_panel(
        ds,
        "Server latency by service",
        "p50/p95/p99 of http.server.request.duration per service.",
        sel.jobs,
        HTTP_SERVER,
    ).height(10)
    return [graph, latency]


def _cluster_variable(ds: DataSources, sel: _Selectors, cluster: str) -> gdash.QueryVariable:
    """The clusters the services' request metrics come from, opening on this copy's own. The query
    object is the Prometheus variable editor's (as in the pinned grafana.com dashboards' `cluster`)."""
    return (
        gdash.QueryVariable(CLUSTER_VARIABLE)
        .label("Cluster")
        .datasource(ds.prometheus)
        .query(
            {
                "qryType": 1,
                "query": f"label_values({HTTP_SERVER}_count{{{sel.all_jobs}}}, cluster)",
                "refId": "PrometheusVariableQueryEditor-VariableQuery",
            }
        )
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(False)
        .include_all(False)
        .current(VariableOption(selected=True, text=cluster, value=cluster))
    )


def _queue_variable(queues: Sequence[str]) -> gdash.CustomVariable:
    return (
        gdash.CustomVariable(QUEUE_VARIABLE)
        .label("SQS queue")
        .values(",".join(queues))
        .multi(True)
        .include_all(True)
        .allow_custom_value(False)
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def _queue_health(ds: DataSources) -> list[Any]:
    queue = f'{IN_CLUSTER}, dimension_QueueName=~"${QUEUE_VARIABLE}"'

    def per_queue(metric: str) -> str:
        return f"max by (dimension_QueueName) ({metric}{{{queue}}})"

    return [
        _prom_panel(
            ds,
            "Age of oldest message",
            "ApproximateAgeOfOldestMessage (CloudWatch, maximum per period).",
            [(per_queue(SQS_OLDEST_AGE), "{{dimension_QueueName}}")],
            unit="s",
        ).span(8),
        _prom_panel(
            ds,
            "Queue depth",
            "ApproximateNumberOfMessagesVisible: messages waiting for a consumer.",
            [(per_queue(SQS_VISIBLE), "{{dimension_QueueName}}")],
            unit="short",
        ).span(8),
        _prom_panel(
            ds,
            "In flight (visibility timeout running)",
            "ApproximateNumberOfMessagesNotVisible: received, not yet deleted. CloudWatch has no "
            "metric for visibility-timeout extensions (ChangeMessageVisibility calls); messages "
            "held invisible is the closest signal it offers.",
            [(per_queue(SQS_NOT_VISIBLE), "{{dimension_QueueName}}")],
            unit="short",
        ).span(8),
    ]


def _errors(ds: DataSources, sel: _Selectors) -> list[Any]:
    five_xx = 'http_response_status_code=~"5.."'
    inference = sel.job(sel.roles.inference)
    openai_calls = f'{inference}, server_address="{OPENAI_HOST}"'
    return [
        logs.Panel()
        .title("Error logs")
        .description(
            "Pod logs of the services whose JSON `level` is error/critical/fatal. "
            "Expand a line for its trace_id."
        )
        .datasource(ds.loki)
        .with_target(loki.Dataquery().ref_id("A").datasource(ds.loki).expr(sel.error_logs).max_lines(500))
        .show_time(True)
        .wrap_log_message(True)
        .enable_log_details(True)
        .height(10)
        .span(24),
        timeseries.Panel()
        .title("Error log lines by service")
        .datasource(ds.loki)
        .with_target(
            loki.Dataquery()
            .ref_id("A")
            .datasource(ds.loki)
            .expr(f"sum by (container) (count_over_time({sel.error_logs} [$__auto]))")
            .legend_format("{{container}}")
        )
        .unit("short")
        .height(8)
        .span(8),
        _prom_panel(
            ds,
            "HTTP 5xx rate by service",
            "Responses with status 5xx per second (http.server.request.duration count).",
            [
                (
                    f"sum by (job) (rate({HTTP_SERVER}_count{{{sel.jobs}, {five_xx}}}[$__rate_interval]))",
                    "{{job}}",
                )
            ],
            unit="reqps",
        ).span(8),
        _prom_panel(
            ds,
            "Failed inference ratio",
            "There is no inference-outcome metric, so two proxies: (A) the share of "
            f"{sel.roles.inference}'s calls to {OPENAI_HOST} that failed (`error.type` is set on the "
            "httpx client histogram for a status >= 400 or a transport error); (B) the share of "
            f"{sel.roles.inference}'s HTTP responses that are 5xx. Work taken from SQS shows only in A.",
            [
                (
                    _ratio(
                        f'{HTTP_CLIENT}_count{{{openai_calls}, error_type!=""}}',
                        f"{HTTP_CLIENT}_count{{{openai_calls}}}",
                    ),
                    "OpenAI calls failed",
                ),
                (
                    _ratio(
                        f"{HTTP_SERVER}_count{{{inference}, {five_xx}}}",
                        f"{HTTP_SERVER}_count{{{inference}}}",
                    ),
                    "HTTP 5xx",
                ),
            ],
            unit="percentunit",
        ).span(8),
    ]


def _performance(ds: DataSources, sel: _Selectors) -> list[Any]:
    return [
        _percentiles_panel(
            ds,
            "OpenAI API latency",
            f"http.client.request.duration of the services' httpx calls to {OPENAI_HOST}, per service.",
            f'{sel.jobs}, server_address="{OPENAI_HOST}"',
            HTTP_CLIENT,
        ).span(8),
        _percentiles_panel(
            ds,
            "End-to-end request latency (gateway)",
            f"http.server.request.duration at {sel.roles.gateway}, the platform's entry point. Work the "
            "gateway hands to SQS finishes later and is not included; follow a trace for that.",
            sel.job(sel.roles.gateway),
            HTTP_SERVER,
        ).span(8),
        _percentiles_panel(
            ds,
            f"Redis operation latency ({sel.roles.redis})",
            f"http.server.request.duration of {sel.roles.redis}, which fronts Redis. The OTel Redis "
            "instrumentation records spans only, no metrics; per-command timings are in its traces.",
            sel.job(sel.roles.redis),
            HTTP_SERVER,
        ).span(8),
    ]


# --- panel helpers --------------------------------------------------------------------------


def _prom_panel(
    ds: DataSources, title: str, description: str, queries: Sequence[tuple[str, str]], unit: str
) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).description(description).datasource(ds.prometheus)
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(
            prometheus.Dataquery()
            .ref_id(chr(ord("A") + index))
            .datasource(ds.prometheus)
            .expr(expr)
            .legend_format(legend)
        )
    return panel.unit(unit).height(8)


def _percentiles_panel(
    ds: DataSources, title: str, description: str, matchers: str, histogram: str
) -> timeseries.Panel:
    queries = [
        (
            f"histogram_quantile({q}, sum by (job, le) "
            f"(rate({histogram}_bucket{{{matchers}}}[$__rate_interval])))",
            f"{{{{job}}}} p{round(q * 100)}",
        )
        for q in PERCENTILES
    ]
    return _prom_panel(ds, title, description, queries, unit="s").span(12)


def _ratio(failed: str, total: str) -> str:
    return f"sum(rate({failed}[$__rate_interval])) / sum(rate({total}[$__rate_interval]))"


# --- validation and model walking -----------------------------------------------------------


def _checked(label: str, value: object, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{label} {value!r} is not valid here (allowed: {pattern.pattern})")
    return value


def _checked_services(services: Sequence[str], roles: ServiceRoles) -> tuple[str, ...]:
    if isinstance(services, str):
        raise ValueError("services must be a sequence of service names, not one string")
    names = tuple(_checked("service name", s, DNS1123_LABEL) for s in services)
    missing = {role: name for role, name in roles.by_role().items() if name not in names}
    if missing:
        # builders.config refuses such a config first (serviceRoles), naming the key.
        raise ValueError(f"service roles {missing} are not among the services {list(names)}")
    return names


def _all_panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _all_panels(panel.get("panels") or [])


def _uid(ref: object) -> str:
    if isinstance(ref, Mapping) and isinstance(ref.get("uid"), str):
        return str(ref["uid"])
    return ""
