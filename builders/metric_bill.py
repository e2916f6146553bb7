"""The series bill as pure data: what the dashboards and alerts query, per source, and what the
chart's allow lists keep on top of that.

Sources are the scrapes the chart renders on the metrics collector, by their `prometheus.scrape`
label (plus the services' OTLP metrics and CloudWatch): the same names tools/rendered_pipeline.py
reads from the real render. `QUERIED` is written out because the program cannot parse PromQL at
run time (promql-parser is a dev-only dependency, and the grafana.com dashboards are only
downloaded by `pulumi up`); tests/test_metric_bill.py parses all five dashboards and the alert
rules with the real parser and checks this table against them, both ways.
The synth prints the bill (tools/synth.py); the README's "Series bill" estimates its series.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

# --- sources --------------------------------------------------------------------------------------

CADVISOR = "cadvisor"
KUBELET = "kubelet"
KUBELET_RESOURCES = "kubelet_resources"
KUBELET_PROBES = "kubelet_probes"
KUBE_STATE_METRICS = "kube_state_metrics"
NODE_EXPORTER = "node_exporter"
OPENCOST = "opencost"
ALLOY = "alloy"  # the collectors' own metrics (integrations.alloy)
SERVICES_OTLP = "otlp"  # the services' OpenTelemetry metrics, through the receiver
CLOUDWATCH_SQS = "cloudwatch_sqs"  # eks: SQS metrics from CloudWatch (builders/cloudwatch.py)
API_SERVER = "apiserver"  # eks: the Kubernetes API server, no allow list
AUTODISCOVERY = "annotation_autodiscovery"  # the services' /metrics, no allow list

# --- consumers ------------------------------------------------------------------------------------

GLOBAL = "Kubernetes / Views / Global"  # grafana.com 15757 (builders/grafana_com.py)
NAMESPACES = "Kubernetes / Views / Namespaces"  # 15758
NODES = "Kubernetes / Views / Nodes"  # 15759
PODS = "Kubernetes / Views / Pods"  # 15760
LLM_JUDGE = "LLM Judge"  # builders/dashboards.py
ALERTS = "alert rules"  # builders/alerts.py: the pipeline and queue groups
# The per-service rules (group llm-judge-services): only with applicationObservability and
# appInstrumentation, where the services' request metrics can arrive (builders.alerts.alert_catalog).
SERVICE_ALERTS = "service alert rules"

# Source -> metric -> what queries it. Metrics no source here produces (builders/k8s_monitoring.py
# NOT_DELIVERED) are left out; CloudWatch's only count on stacks that collect SQS.
QUERIED: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    CADVISOR: {
        "container_cpu_cfs_throttled_seconds_total": (GLOBAL, NAMESPACES, PODS),
        "container_cpu_usage_seconds_total": (GLOBAL, NAMESPACES, NODES, PODS),
        "container_memory_working_set_bytes": (GLOBAL, NAMESPACES, NODES, PODS),
        "container_network_receive_bytes_total": (GLOBAL, NAMESPACES, PODS),
        "container_network_receive_errors_total": (NAMESPACES, PODS),
        "container_network_receive_packets_dropped_total": (NAMESPACES, PODS),
        "container_network_receive_packets_total": (NAMESPACES, PODS),
        "container_network_transmit_bytes_total": (GLOBAL, NAMESPACES, PODS),
        "container_network_transmit_errors_total": (NAMESPACES, PODS),
        "container_network_transmit_packets_dropped_total": (NAMESPACES, PODS),
        "container_network_transmit_packets_total": (NAMESPACES, PODS),
        "container_oom_events_total": (GLOBAL, NAMESPACES, PODS),
        "machine_cpu_cores": (GLOBAL, NAMESPACES, NODES),
        "machine_memory_bytes": (GLOBAL, NAMESPACES, NODES),
    },
    KUBELET: {
        "kubelet_volume_stats_capacity_bytes": (NAMESPACES, NODES),
        "kubelet_volume_stats_inodes": (NAMESPACES, NODES),
        "kubelet_volume_stats_inodes_used": (NAMESPACES, NODES),
        "kubelet_volume_stats_used_bytes": (NAMESPACES, NODES),
    },
    KUBE_STATE_METRICS: {
        "kube_configmap_info": (GLOBAL, NAMESPACES),
        "kube_daemonset_labels": (GLOBAL, NAMESPACES),
        "kube_daemonset_status_desired_number_scheduled": (ALERTS,),
        "kube_daemonset_status_number_ready": (ALERTS,),
        "kube_deployment_labels": (GLOBAL, NAMESPACES),
        "kube_deployment_spec_replicas": (ALERTS,),
        "kube_deployment_status_replicas_available": (NAMESPACES, ALERTS),
        "kube_deployment_status_replicas_unavailable": (NAMESPACES,),
        "kube_ingress_info": (GLOBAL, NAMESPACES),
        "kube_namespace_created": (GLOBAL,),
        "kube_namespace_labels": (GLOBAL,),
        "kube_networkpolicy_labels": (GLOBAL, NAMESPACES),
        "kube_node_info": (GLOBAL, NAMESPACES, NODES, PODS),
        "kube_persistentvolumeclaim_info": (GLOBAL, NAMESPACES),
        "kube_pod_container_info": (NAMESPACES,),
        "kube_pod_container_resource_limits": (GLOBAL, NAMESPACES, PODS),
        "kube_pod_container_resource_requests": (GLOBAL, NAMESPACES, PODS),
        "kube_pod_container_status_last_terminated_exitcode": (PODS,),
        "kube_pod_container_status_last_terminated_reason": (PODS,),
        "kube_pod_container_status_ready": (NAMESPACES,),
        "kube_pod_container_status_restarts_total": (GLOBAL, NAMESPACES, PODS),
        "kube_pod_container_status_running": (GLOBAL, NAMESPACES),
        "kube_pod_container_status_terminated": (NAMESPACES,),
        "kube_pod_container_status_waiting": (NAMESPACES,),
        "kube_pod_container_status_waiting_reason": (PODS, ALERTS),
        "kube_pod_info": (GLOBAL, NAMESPACES, NODES, PODS),
        "kube_pod_status_phase": (GLOBAL, NAMESPACES, PODS),
        "kube_pod_status_qos_class": (GLOBAL, NAMESPACES, PODS),
        "kube_pod_status_reason": (GLOBAL, NAMESPACES),
        "kube_pod_status_scheduled": (PODS,),
        "kube_secret_info": (GLOBAL, NAMESPACES),
        "kube_service_info": (GLOBAL, NAMESPACES),
        "kube_statefulset_labels": (GLOBAL, NAMESPACES),
        "kube_statefulset_replicas": (ALERTS,),
        "kube_statefulset_status_replicas_ready": (ALERTS,),
    },
    NODE_EXPORTER: {
        "node_boot_time_seconds": (NODES,),
        "node_context_switches_total": (NODES,),
        "node_cpu_core_throttles_total": (GLOBAL, NODES),
        "node_cpu_seconds_total": (GLOBAL, NODES),
        "node_disk_io_now": (NODES,),
        "node_disk_read_bytes_total": (NODES,),
        "node_disk_reads_completed_total": (NODES,),
        "node_disk_writes_completed_total": (NODES,),
        "node_disk_written_bytes_total": (NODES,),
        "node_filefd_allocated": (NODES,),
        "node_filefd_maximum": (NODES,),
        "node_filesystem_avail_bytes": (NODES,),
        "node_filesystem_device_error": (NODES,),
        "node_filesystem_files": (NODES,),
        "node_filesystem_files_free": (NODES,),
        "node_filesystem_size_bytes": (NODES,),
        "node_intr_total": (NODES,),
        "node_load1": (NODES,),
        "node_load15": (NODES,),
        "node_load5": (NODES,),
        "node_memory_Buffers_bytes": (NODES,),
        "node_memory_Cached_bytes": (NODES,),
        "node_memory_MemAvailable_bytes": (GLOBAL, NODES),
        "node_memory_MemFree_bytes": (NODES,),
        "node_memory_MemTotal_bytes": (GLOBAL, NODES),
        "node_memory_SwapFree_bytes": (NODES,),
        "node_memory_SwapTotal_bytes": (NODES,),
        "node_netstat_Tcp_CurrEstab": (NODES,),
        "node_network_receive_bytes_total": (GLOBAL, NODES),
        "node_network_receive_drop_total": (GLOBAL, NODES),
        "node_network_receive_errs_total": (NODES,),
        "node_network_receive_packets_total": (NODES,),
        "node_network_transmit_bytes_total": (GLOBAL, NODES),
        "node_network_transmit_drop_total": (GLOBAL, NODES),
        "node_network_transmit_errs_total": (NODES,),
        "node_network_transmit_packets_total": (NODES,),
        "node_nf_conntrack_entries": (NODES,),
        "node_nf_conntrack_entries_limit": (NODES,),
        "node_time_seconds": (NODES,),
        "node_timex_estimated_error_seconds": (NODES,),
        "node_timex_maxerror_seconds": (NODES,),
        "node_uname_info": (NODES,),
    },
    ALLOY: {
        "prometheus_remote_storage_samples_dropped_total": (ALERTS,),
        "prometheus_remote_storage_samples_failed_total": (ALERTS,),
        "up": (ALERTS,),
    },
    SERVICES_OTLP: {
        "http_client_request_duration_seconds_bucket": (LLM_JUDGE,),
        "http_client_request_duration_seconds_count": (LLM_JUDGE,),
        "http_server_request_duration_seconds_bucket": (LLM_JUDGE, SERVICE_ALERTS),
        "http_server_request_duration_seconds_count": (LLM_JUDGE, SERVICE_ALERTS),
    },
    CLOUDWATCH_SQS: {
        "aws_sqs_approximate_age_of_oldest_message_maximum": (LLM_JUDGE,),
        "aws_sqs_approximate_number_of_messages_not_visible_maximum": (LLM_JUDGE,),
        "aws_sqs_approximate_number_of_messages_visible_maximum": (LLM_JUDGE, ALERTS),
    },
}


# --- what the chart's allow lists keep ------------------------------------------------------------


@dataclass(frozen=True)
class FilteredSource:
    """A scrape the chart filters with an allow list, and where its `metricsTuning` sits in the values.

    The keep rule the chart builds (e.g. "feature.clusterMetrics.cadvisor.allowList" in
    charts/feature-cluster-metrics/templates/_cadvisor.alloy.tpl): `up`, `scrape_samples_scraped`,
    the default list while `useDefaultAllowList` (default true), node-exporter's integration list
    with `useIntegrationAllowList` (default false), then `includeMetrics`; de-duplicated.
    """

    scrape: str
    path: tuple[str, str]  # (feature, block) in the values
    default_list: str  # the chart's default-allow-lists/<name>.yaml
    integration_list: str | None = None
    enabled_by_default: bool = True  # the block's `enabled` in the feature subchart's values.yaml


FILTERED_SOURCES: tuple[FilteredSource, ...] = (
    FilteredSource(KUBELET, ("clusterMetrics", "kubelet"), "kubelet"),
    FilteredSource(KUBELET_RESOURCES, ("clusterMetrics", "kubeletResource"), "kubelet_resource"),
    FilteredSource(
        KUBELET_PROBES, ("clusterMetrics", "kubeletProbes"), "kubelet_probes", enabled_by_default=False
    ),
    FilteredSource(CADVISOR, ("clusterMetrics", "cadvisor"), "cadvisor"),
    FilteredSource(KUBE_STATE_METRICS, ("clusterMetrics", "kube-state-metrics"), "kube-state-metrics"),
    FilteredSource(
        NODE_EXPORTER,
        ("hostMetrics", "linuxHosts"),
        "node-exporter",
        integration_list="node-exporter-integration",
        enabled_by_default=False,
    ),
    FilteredSource(OPENCOST, ("costMetrics", "opencost"), "opencost"),
)
SCRAPE_SERIES: tuple[str, ...] = ("up", "scrape_samples_scraped")

AllowLists = Callable[[str], tuple[str, ...]]  # list name -> entries (names or RE2 patterns)


def keep_list(
    values: Mapping[str, Any], source: FilteredSource, allow_lists: AllowLists
) -> tuple[str, ...] | None:
    """The entries of the chart's keep rule for `source` with these values; None when it is not scraped.

    An empty tuple means the chart renders no keep rule (everything scraped is sent). A drop list
    (`excludeMetrics`) is refused: the values never set one and a list of kept names cannot say it.
    """
    feature_name, block_name = source.path
    feature = values.get(feature_name) or {}
    block = feature.get(block_name) or {}
    if not feature.get("enabled", False) or not block.get("enabled", source.enabled_by_default):
        return None
    tuning = block.get("metricsTuning") or {}
    if tuning.get("excludeMetrics"):
        raise ValueError(f"{feature_name}.{block_name}.metricsTuning.excludeMetrics is not modelled")
    lists: list[tuple[str, ...]] = []
    if tuning.get("useDefaultAllowList", True):
        lists.append(allow_lists(source.default_list))
    if source.integration_list and tuning.get("useIntegrationAllowList", False):
        lists.append(allow_lists(source.integration_list))
    if tuning.get("includeMetrics"):
        lists.append(tuple(tuning["includeMetrics"]))
    kept: list[str] = []
    for names in lists:
        for name in (*SCRAPE_SERIES, *names):
            if name not in kept:
                kept.append(name)
    return tuple(kept)


# --- the bill -------------------------------------------------------------------------------------

# The `alloy` integration keeps its own default list (charts/feature-integrations/default-allow-lists/
# alloy.yaml) plus up and scrape_samples_scraped; our values do not tune it.
ALLOY_LIST = "alloy"


def running_sources(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The sources these Helm values make the collectors send, in a fixed order."""

    def on(*path: str) -> bool:
        node: Any = values
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        return bool(node)

    extra_config = str((values.get("collectors") or {}).get("alloy-metrics", {}).get("extraConfig") or "")
    running = [f.scrape for f in FILTERED_SOURCES if keep_list(values, f, lambda _: ()) is not None]
    running += [ALLOY] if on("integrations", "alloy", "instances") else []
    running += [SERVICES_OTLP] if on("applicationObservability", "enabled") else []
    running += [AUTODISCOVERY] if on("annotationAutodiscovery", "enabled") else []
    running += (
        [API_SERVER]
        if on("clusterMetrics", "enabled") and on("clusterMetrics", "apiServer", "enabled")
        else []
    )
    running += [CLOUDWATCH_SQS] if f'prometheus.scrape "{CLOUDWATCH_SQS}"' in extra_config else []
    return tuple(running)


@dataclass(frozen=True)
class SourceBill:
    """One source: what the stack's dashboards and alerts query from it, and what it keeps besides."""

    source: str
    queried: tuple[str, ...]
    # Allow-list entries no query reads; None when unknown (no allow lists at hand) or unfiltered.
    on_top: tuple[str, ...] | None
    # Allow-list patterns that keep queried metrics and, with them, every other name they match.
    broader: tuple[str, ...] = ()


def _is_pattern(entry: str) -> bool:
    return not entry.replace("_", "").replace(":", "").isalnum()


def series_bill(
    values: Mapping[str, Any],
    consumers: Collection[str],
    running: Collection[str],
    allow_lists: AllowLists | None,
) -> list[SourceBill]:
    """Per source the stack runs (`running`), the metrics `consumers` query and, given the chart's
    allow lists, the entries kept on top. Filtered sources are read from `values`."""
    import re

    bills = []
    for source in running:
        queried = tuple(
            sorted(m for m, users in QUERIED.get(source, {}).items() if set(users) & set(consumers))
        )
        filtered = next((f for f in FILTERED_SOURCES if f.scrape == source), None)
        if allow_lists is None or (filtered is None and source != ALLOY):
            bills.append(SourceBill(source, queried, None))
            continue
        kept = (
            keep_list(values, filtered, allow_lists)
            if filtered
            else (*SCRAPE_SERIES, *allow_lists(ALLOY_LIST))
        )
        kept = kept or ()
        used = {e for e in kept if any(re.fullmatch(e, m) for m in queried)}
        bills.append(
            SourceBill(
                source,
                queried,
                on_top=tuple(e for e in kept if e not in used and e not in SCRAPE_SERIES),
                broader=tuple(e for e in kept if e in used and _is_pattern(e)),
            )
        )
    return bills
