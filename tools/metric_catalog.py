"""Every metric name this pipeline produces and keeps, and a PromQL check against it.

An alert or panel on a metric nobody sends is silent forever, so each rule's expression is parsed
and every metric it selects must be in `pipeline_catalog(...)`. The catalog is built from:

(a) the services' OpenTelemetry metrics, as Alloy's `otelcol.exporter.prometheus` names them
    (k8s-monitoring's Prometheus destination: add_metric_suffixes=true), plus `target_info`;
(b) what the chart's allow-list rules keep for the sources our Helm values enable: the default lists
    (read from the chart data) plus our `metricsTuning.includeMetrics`, read from the values;
(c) the Alloy collectors' own metrics as the `integrations.alloy` feature keeps them;
(d) the CloudWatch SQS names from `builders.cloudwatch`, on stacks that collect SQS.

Allow-list entries are RE2 regexes that Alloy's `prometheus.relabel` keep rule matches against the
whole name, so the catalog holds fully-anchored patterns as well as plain names.
Pure: reads chart data files, no Pulumi. A test-time check (it needs promql-parser and the chart data,
both dev-only), so it lives in tools/ and runtime code never imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from builders import cloudwatch
from builders.k8s_monitoring import MonitoringSpec, build_values
from builders.k8s_monitoring_names import ALLOY_INTEGRATION_JOB  # noqa: F401 - re-exported for tests
from builders.metric_bill import FILTERED_SOURCES, SCRAPE_SERIES, FilteredSource, keep_list
from tools.chart_check import data_dir
from tools.rendered_pipeline import otlp_dropped_by_values, otlp_series_dropped

# (a) Python contrib instrumentations with OTEL_SEMCONV_STABILITY_OPT_IN=http (builders.app_instrumentation),
# converted by the OTel -> Prometheus rules (unit "s" -> _seconds, "By" -> _bytes, "{request}" -> none;
# an UpDownCounter is a gauge, no _total):
# https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/
_HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")
OTEL_HISTOGRAMS: tuple[str, ...] = (
    # ASGI/FastAPI server (opentelemetry-instrumentation-asgi, new semconv): duration and body sizes.
    "http_server_request_duration_seconds",
    "http_server_request_body_size_bytes",
    "http_server_response_body_size_bytes",
    # httpx client (opentelemetry-instrumentation-httpx, new semconv): duration only.
    "http_client_request_duration_seconds",
)
OTEL_GAUGES: tuple[str, ...] = (
    # ASGI: UpDownCounter `http.server.active_requests`, unit "{request}".
    "http_server_active_requests",
    # SQLAlchemy: UpDownCounter `db.client.connections.usage`, unit "connections"; the unit is not
    # appended because the name already holds that token.
    "db_client_connections_usage",
    # Resource attributes of every service (otelcol.exporter.prometheus include_target_info).
    "target_info",
)
# Redis and botocore instrumentations emit spans only, no metrics.

# (b) The scrapes the chart filters with allow lists and what each keeps with the stack's values:
# builders.metric_bill.FILTERED_SOURCES / keep_list (the chart's "allowList" templates), fed the
# chart's default lists from the chart data. The API server (eks only) has no allow list and none of
# its metrics are catalogued.
# (c) The `alloy` integration's default allow list. It is not in the chart data under ../shared
# (feature-integrations/values.yaml only has `alloy.instances: []`); the list is a file inside the
# subchart: k8s-monitoring 4.4.0 charts/feature-integrations/default-allow-lists/alloy.yaml
# https://github.com/grafana/k8s-monitoring-helm/blob/main/charts/k8s-monitoring/charts/feature-integrations/default-allow-lists/alloy.yaml
# Copied verbatim from the 4.4.0 chart; tests compare it with the chart when K8S_MONITORING_CHART is set.
ALLOY_INTEGRATION_ALLOW_LIST: tuple[str, ...] = (
    "alloy_build_info",
    "alloy_component_controller_running_components",
    "alloy_component_dependencies_wait_seconds",
    "alloy_component_dependencies_wait_seconds_bucket",
    "alloy_component_evaluation_seconds",
    "alloy_component_evaluation_seconds_bucket",
    "alloy_component_evaluation_seconds_count",
    "alloy_component_evaluation_seconds_sum",
    "alloy_component_evaluation_slow_seconds",
    "alloy_config_hash",
    "alloy_resources_machine_rx_bytes_total",
    "alloy_resources_machine_tx_bytes_total",
    "alloy_resources_process_cpu_seconds_total",
    "alloy_resources_process_resident_memory_bytes",
    "alloy_tcp_connections",
    "alloy_wal_samples_appended_total",
    "alloy_wal_storage_active_series",
    "cluster_node_gossip_health_score",
    "cluster_node_gossip_proto_version",
    "cluster_node_gossip_received_events_total",
    "cluster_node_info",
    "cluster_node_lamport_time",
    "cluster_node_peers",
    "cluster_node_update_observers",
    "cluster_transport_rx_bytes_total",
    "cluster_transport_rx_packet_queue_length",
    "cluster_transport_rx_packets_failed_total",
    "cluster_transport_rx_packets_total",
    "cluster_transport_stream_rx_bytes_total",
    "cluster_transport_stream_rx_packets_failed_total",
    "cluster_transport_stream_rx_packets_total",
    "cluster_transport_stream_tx_bytes_total",
    "cluster_transport_stream_tx_packets_failed_total",
    "cluster_transport_stream_tx_packets_total",
    "cluster_transport_streams",
    "cluster_transport_tx_bytes_total",
    "cluster_transport_tx_packet_queue_length",
    "cluster_transport_tx_packets_failed_total",
    "cluster_transport_tx_packets_total",
    "otelcol_exporter_send_failed_spans_total",
    "otelcol_exporter_sent_spans_total",
    "go_gc_duration_seconds_count",
    "go_goroutines",
    "go_memstats_heap_inuse_bytes",
    "loki_process_dropped_lines_total",
    "loki_write_batch_retries_total",
    "loki_write_dropped_bytes_total",
    "loki_write_dropped_entries_total",
    "loki_write_encoded_bytes_total",
    "loki_write_mutated_bytes_total",
    "loki_write_mutated_entries_total",
    "loki_write_request_duration_seconds_bucket",
    "loki_write_sent_bytes_total",
    "loki_write_sent_entries_total",
    "process_cpu_seconds_total",
    "process_start_time_seconds",
    "otelcol_processor_batch_batch_send_size_bucket",
    "otelcol_processor_batch_metadata_cardinality",
    "otelcol_processor_batch_timeout_trigger_send_total",
    "prometheus_remote_storage_bytes_total",
    "prometheus_remote_storage_enqueue_retries_total",
    "prometheus_remote_storage_highest_timestamp_in_seconds",
    "prometheus_remote_storage_metadata_bytes_total",
    "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
    "prometheus_remote_storage_samples_dropped_total",
    "prometheus_remote_storage_samples_failed_total",
    "prometheus_remote_storage_samples_pending",
    "prometheus_remote_storage_samples_retried_total",
    "prometheus_remote_storage_samples_total",
    "prometheus_remote_storage_sent_batch_duration_seconds_bucket",
    "prometheus_remote_storage_sent_batch_duration_seconds_count",
    "prometheus_remote_storage_sent_batch_duration_seconds_sum",
    "prometheus_remote_storage_shard_capacity",
    "prometheus_remote_storage_shards",
    "prometheus_remote_storage_shards_desired",
    "prometheus_remote_storage_shards_max",
    "prometheus_remote_storage_shards_min",
    "prometheus_remote_storage_succeeded_samples_total",
    "prometheus_remote_write_wal_samples_appended_total",
    "prometheus_remote_write_wal_storage_active_series",
    "prometheus_sd_discovered_targets",
    "prometheus_target_interval_length_seconds_count",
    "prometheus_target_interval_length_seconds_sum",
    "prometheus_target_scrapes_exceeded_sample_limit_total",
    "prometheus_target_scrapes_sample_duplicate_timestamp_total",
    "prometheus_target_scrapes_sample_out_of_bounds_total",
    "prometheus_target_scrapes_sample_out_of_order_total",
    "prometheus_target_sync_length_seconds_sum",
    "prometheus_wal_watcher_current_segment",
    "otelcol_receiver_accepted_spans_total",
    "otelcol_receiver_refused_spans_total",
    "rpc_server_duration_milliseconds_bucket",
    "scrape_duration_seconds",
    "traces_exporter_send_failed_spans",
    "traces_exporter_send_failed_spans_total",
    "traces_exporter_sent_spans",
    "traces_exporter_sent_spans_total",
    "traces_loadbalancer_backend_outcome",
    "traces_loadbalancer_num_backends",
    "traces_receiver_accepted_spans",
    "traces_receiver_accepted_spans_total",
    "traces_receiver_refused_spans",
    "traces_receiver_refused_spans_total",
)

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class CatalogEntry:
    """A metric name or a fully-anchored regex of names, and where it comes from."""

    pattern: str
    source: str

    @property
    def is_regex(self) -> bool:
        return not _METRIC_NAME.match(self.pattern)

    def matches(self, name: str) -> bool:
        if not self.is_regex:
            return name == self.pattern
        return re.fullmatch(self.pattern, name) is not None


@dataclass(frozen=True)
class MetricCatalog:
    """The metric names (and name patterns) the pipeline delivers to Grafana Cloud."""

    entries: tuple[CatalogEntry, ...]

    def contains(self, name: str) -> bool:
        return any(entry.matches(name) for entry in self.entries)

    def source_of(self, name: str) -> str | None:
        """Where a name comes from (first matching entry), for error messages."""
        return next((e.source for e in self.entries if e.matches(name)), None)

    def missing(self, names: Iterable[str]) -> list[str]:
        """The names the catalog does not hold, sorted."""
        return sorted(n for n in set(names) if not self.contains(n))


def _entries(patterns: Iterable[str], source: str) -> tuple[CatalogEntry, ...]:
    return tuple(CatalogEntry(p, source) for p in patterns)


def allow_list(name: str, directory: Path | None = None) -> tuple[str, ...]:
    """One of the chart's allow lists (`allowLists/<name>.yaml` in the chart data)."""
    return _allow_list(Path(directory or data_dir()).resolve(), name)


@lru_cache(maxsize=32)
def _allow_list(root: Path, name: str) -> tuple[str, ...]:
    path = root / "allowLists" / f"{name}.yaml"
    loaded = yaml.safe_load(path.read_text())
    if not isinstance(loaded, list) or not all(isinstance(item, str) for item in loaded):
        raise ValueError(f"{path}: expected a YAML list of metric names or regexes")
    return tuple(loaded)


def otel_metric_names() -> frozenset[str]:
    """The services' OpenTelemetry metrics as Prometheus names."""
    series = {f"{h}{suffix}" for h in OTEL_HISTOGRAMS for suffix in _HISTOGRAM_SERIES}
    return frozenset(series | set(OTEL_GAUGES))


def source_keep_list(
    values: Mapping[str, Any], source: FilteredSource, directory: Path | None = None
) -> tuple[str, ...] | None:
    """What the chart's keep rule for `source` holds with these values (None: not scraped)."""
    return keep_list(values, source, lambda name: allow_list(name, directory))


def default_values(platform: str) -> dict[str, Any]:
    """The Helm values the program builds for a platform with the default features."""
    return build_values(
        MonitoringSpec(
            cluster_name="catalog",
            namespace="llm-judge",
            release_name="grafana-k8s-monitoring",
            platform=platform,  # type: ignore[arg-type]
            prometheus_url="https://prometheus.example/api/prom/push",
            loki_url="https://logs.example/loki/api/v1/push",
            otlp_url="https://otlp.example/otlp",
        )
    )


def pipeline_catalog(
    sqs: bool, directory: Path | None = None, values: Mapping[str, Any] | None = None
) -> MetricCatalog:
    """The catalog for a stack; `sqs` when it collects CloudWatch SQS metrics (the eks stack).

    The allow-listed part follows `values` (by default the program's own for that platform:
    eks with SQS, local without), so what our `metricsTuning` adds is in the catalog too.
    """
    values = default_values("eks" if sqs else "local") if values is None else values
    # What the services send, less what the receiver's filter drops (builders.k8s_monitoring).
    dropped = otlp_dropped_by_values(values)
    delivered = sorted(n for n in otel_metric_names() if not otlp_series_dropped(n, dropped))
    entries = [
        *_entries(delivered, "OpenTelemetry (services)"),
        *_entries(SCRAPE_SERIES, "Prometheus scrape"),
        *_entries(ALLOY_INTEGRATION_ALLOW_LIST, "integrations.alloy allow list"),
    ]
    for source in FILTERED_SOURCES:
        kept = source_keep_list(values, source, directory)
        if kept is not None:
            entries += _entries(kept or (".*",), f"{'.'.join(source.path)} ({source.scrape})")
    if sqs:
        entries += _entries(sorted(cloudwatch.metric_names()), "CloudWatch SQS (builders.cloudwatch)")
    return MetricCatalog(tuple(entries))


# --- PromQL ---------------------------------------------------------------------------------

_LITERAL_ALTERNATION = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\|[a-zA-Z_:][a-zA-Z0-9_:]*)*$")


def _selector_names(selector: promql_parser.VectorSelector, expr: str) -> set[str]:
    """Metric names one selector reads: its name, its `__name__` equality or literal-alternation matchers."""
    matchers = [*selector.matchers.matchers]
    for group in selector.matchers.or_matchers:
        matchers += group
    names = {selector.name} if selector.name else set()
    for matcher in matchers:
        if matcher.name != "__name__":
            continue
        if matcher.op == promql_parser.MatchOp.Equal:
            names.add(matcher.value)
        elif matcher.op == promql_parser.MatchOp.Re and _LITERAL_ALTERNATION.match(matcher.value):
            names |= set(matcher.value.split("|"))
        else:
            # A negative or open-ended name matcher selects names we cannot enumerate.
            raise ValueError(f"cannot check metric names of selector {selector} in {expr!r}")
    if not names:
        raise ValueError(f"selector {selector} in {expr!r} names no metric; the catalog cannot check it")
    return names


def metric_names_in(expr: str) -> set[str]:
    """Every metric name the PromQL expression selects; ValueError with the parser's message if invalid."""
    try:
        ast = promql_parser.parse(expr)
    except ValueError as error:
        raise ValueError(f"invalid PromQL {expr!r}: {error}") from error
    found: set[str] = set()

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.update(_selector_names(node, expr))
        return True

    promql_parser.walk(ast, visit)
    return found


# Labels an OTLP-converted service metric can carry: `job`/`instance` from the resource
# (service.namespace/service.name, service.instance.id), the instrumentation scope, `le` on buckets,
# and the HTTP semantic-convention attributes of the server and client duration histograms
# (https://opentelemetry.io/docs/specs/semconv/http/http-metrics/), dots turned into '_'.
# No `namespace`, `pod` or `service`: resource_to_telemetry_conversion is off in k8s-monitoring.
# `cluster` and `k8s_cluster_name` (= clusterName) come from the remote write that delivers them: the
# alloy-receiver's `otelcol.exporter.prometheus` forwards to a `prometheus.remote_write` whose
# `external_labels` set both (checked in the real render, tests/tools/test_chart_render.py).
OTEL_LABELS: frozenset[str] = frozenset(
    {
        "cluster",
        "k8s_cluster_name",
        "job",
        "instance",
        "le",
        "otel_scope_name",
        "otel_scope_version",
        "http_request_method",
        "http_response_status_code",
        "http_route",
        "url_scheme",
        "network_protocol_name",
        "network_protocol_version",
        "server_address",
        "server_port",
        "error_type",
        "state",  # db.client.connections.usage
        "pool_name",
    }
)


def _otel_selectors(node: promql_parser.Expr, otel: frozenset[str]) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(child: object) -> bool:
        if isinstance(child, promql_parser.VectorSelector) and child.name in otel:
            found.append(child)
        return True

    promql_parser.walk(node, visit)
    return found


def otel_label_problems(expr: str) -> list[str]:
    """Labels the expression matches or groups by on service (OTel) metrics that those never carry.

    The plan's `...{namespace="llm-judge"} ... by (le, service)` selects and groups on labels OTLP
    conversion does not produce: it returns nothing, silently. Names are checked by `metric_names_in`.
    """
    ast = promql_parser.parse(expr)
    otel = otel_metric_names()
    problems: list[str] = []

    def visit(node: object) -> bool:
        if isinstance(node, promql_parser.VectorSelector) and node.name in otel:
            matchers = [*node.matchers.matchers]
            for group in node.matchers.or_matchers:
                matchers += group
            problems.extend(
                f"{node.name} has no label {m.name!r}"
                for m in matchers
                if m.name != "__name__" and m.name not in OTEL_LABELS
            )
        modifier = getattr(node, "modifier", None)
        if (
            isinstance(node, promql_parser.AggregateExpr)
            and modifier is not None
            and modifier.type == promql_parser.AggModifierType.By
            and _otel_selectors(node.expr, otel)
        ):
            problems.extend(
                f"grouping by {label!r} over service metrics, which have no such label"
                for label in modifier.labels
                if label not in OTEL_LABELS
            )
        return True

    promql_parser.walk(ast, visit)
    return problems


# --- Grafana dashboards ---------------------------------------------------------------------

# Grafana's global variables as they appear in PromQL: ranges take a duration, the *_ms/_s ones a
# number. https://grafana.com/docs/grafana/latest/dashboards/variables/add-template-variables/#global-variables
_DURATION_BUILTINS = frozenset({"__rate_interval", "__interval", "__range", "__auto"})
_NUMBER_BUILTINS = frozenset({"__interval_ms", "__range_s", "__range_ms", "__rate_interval_ms"})
_DURATION = re.compile(r"^\d+(ms|s|m|h|d|w|y)$")
# $name, ${name}, ${name:format}, [[name]] (https://grafana.com/docs/grafana/latest/dashboards/variables/variable-syntax/)
_VARIABLE_REF = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^label_values\((?P<args>.*)\)$", re.DOTALL)
_QUERY_RESULT = re.compile(r"^query_result\((?P<expr>.*)\)$", re.DOTALL)
PLACEHOLDER_VALUE = "placeholder"


@dataclass(frozen=True)
class DashboardQuery:
    """One PromQL query of a dashboard: where it is, and its text with Grafana's variables substituted."""

    where: str
    promql: str


def _variable_values(model: Mapping[str, Any]) -> dict[str, str]:
    """A value the PromQL parser accepts for every variable the dashboard defines, and Grafana's own.

    Durations where the variable holds durations (interval variables, custom lists of durations),
    a plain label value otherwise: only metric names matter here, and no variable names a metric.
    """
    values = {name: "5m" for name in _DURATION_BUILTINS} | {name: "300" for name in _NUMBER_BUILTINS}
    for variable in (model.get("templating") or {}).get("list") or []:
        name = variable.get("name")
        options = [str(o.get("value")) for o in variable.get("options") or [] if isinstance(o, Mapping)]
        durations = bool(options) and all(_DURATION.match(o) for o in options)
        values[name] = "5m" if variable.get("type") == "interval" or durations else PLACEHOLDER_VALUE
    return values


def grafana_promql(text: str, variables: Mapping[str, str]) -> str:
    """`text` with every reference to a known variable replaced; others (`$1` in label_replace) stay."""

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        return variables.get(name, match.group(0))

    return _VARIABLE_REF.sub(value, text)


def _panels(panels: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every panel, those inside rows (collapsed rows hold theirs in `panels`) included."""
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def _is_prometheus(datasource: Any) -> bool:
    """A Prometheus (or variable/legacy) data source; Loki, Tempo and Grafana's expressions are not."""
    if isinstance(datasource, Mapping):
        return datasource.get("type") in (None, "prometheus")
    return True  # absent (the dashboard default), or a legacy data-source name


def _variable_query(variable: Mapping[str, Any]) -> str | None:
    """The PromQL a query variable runs, or None if it runs none; ValueError if we cannot tell."""
    query = variable.get("query")
    text = query.get("query") if isinstance(query, Mapping) else query
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    if match := _LABEL_VALUES.match(text):
        expr, _, label = match.group("args").rpartition(",")
        if not expr.strip() or not label.strip():
            raise ValueError(f"variable ${variable.get('name')}: {text!r} reads a label of every metric")
        return expr.strip()
    if match := _QUERY_RESULT.match(text):
        return match.group("expr").strip()
    raise ValueError(f"variable ${variable.get('name')}: cannot tell which metrics {text!r} reads")


def dashboard_queries(model: Mapping[str, Any]) -> list[DashboardQuery]:
    """Every Prometheus query of a dashboard: panel targets (rows and collapsed rows included) and
    query variables (`label_values(expr, label)`, `query_result(expr)`), variables substituted."""
    variables = _variable_values(model)
    found: list[DashboardQuery] = []
    for panel in _panels([*(model.get("panels") or []), *(model.get("rows") or [])]):
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if (
                isinstance(expr, str)
                and expr.strip()
                and _is_prometheus(target.get("datasource") or panel.get("datasource"))
            ):
                where = f"panel {panel.get('title')!r} target {target.get('refId', '?')}"
                found.append(DashboardQuery(where, grafana_promql(expr, variables)))
    for variable in (model.get("templating") or {}).get("list") or []:
        if variable.get("type") == "query" and _is_prometheus(variable.get("datasource")):
            expr = _variable_query(variable)
            if expr is not None:
                found.append(
                    DashboardQuery(f"variable ${variable.get('name')}", grafana_promql(expr, variables))
                )
    return found


def dashboard_metric_names(model: Mapping[str, Any]) -> dict[str, set[str]]:
    """Metric name -> where the dashboard queries it."""
    names: dict[str, set[str]] = {}
    for query in dashboard_queries(model):
        for name in metric_names_in(query.promql):
            names.setdefault(name, set()).add(query.where)
    return names
