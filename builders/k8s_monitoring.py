"""Helm values for Grafana's k8s-monitoring chart 4.x, built from a typed spec.

Pure: a `MonitoringSpec` in, plain data (dicts, lists, str, int, bool) out. No credential is
ever part of the values; every destination reads its username and password from the
credentials Secret by key name (`builders.credentials`).
Chart reference: https://github.com/grafana/k8s-monitoring-helm/tree/main/charts/k8s-monitoring
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from builders import k8s_monitoring_names as names
from builders import scrape_annotations
from builders.credentials import KEYS, SECRET_NAME
from builders.features import FeatureToggles

Platform = Literal["local", "eks"]
Values = dict[str, Any]

METRICS_DESTINATION = "grafana-cloud-metrics"
LOGS_DESTINATION = "grafana-cloud-logs"
TRACES_DESTINATION = "grafana-cloud-traces"


def remote_write_receiver(destination: str) -> str:
    """The receiver of the `prometheus.remote_write` component the chart renders for a destination.

    The chart names it with `helper.alloy_name`: lower-case, ' ' and '-' replaced by '_'
    (templates/_helpers.tpl, used in templates/destinations/_destination_prometheus.tpl).
    """
    return f"prometheus.remote_write.{destination.lower().replace(' ', '_').replace('-', '_')}.receiver"


# What extra Alloy config on the metrics collector forwards to; it exists there because
# `build_values` sets `includeDestinations: [METRICS_DESTINATION]` whenever that config is set.
METRICS_RECEIVER = remote_write_receiver(METRICS_DESTINATION)


@dataclass(frozen=True)
class MonitoringSpec:
    """What one stack asks of the k8s-monitoring release."""

    cluster_name: str
    namespace: str
    release_name: str
    platform: Platform
    prometheus_url: str  # remote write, e.g. https://prometheus-prod-xx.grafana.net/api/prom/push
    loki_url: str  # e.g. https://logs-prod-xx.grafana.net/loki/api/v1/push
    otlp_url: str  # e.g. https://otlp-gateway-prod-xx.grafana.net/otlp
    features: FeatureToggles = field(default_factory=FeatureToggles)
    metrics_service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    metrics_extra_config: str = ""  # Alloy config appended to the metrics collector
    # Changes whenever OpenCost's token does (its expiry time); see `_opencost`.
    opencost_credentials_version: str = ""
    # Whose pod logs are collected: None, `namespace` alone; (ALL_NAMESPACES,), every namespace.
    pod_logs_namespaces: tuple[str, ...] | None = None


ALL_NAMESPACES = "*"  # config `podLogsNamespaces: ["*"]`


def _res(req_cpu: str, req_mem: str, lim_cpu: str, lim_mem: str) -> Values:
    return {
        "requests": {"cpu": req_cpu, "memory": req_mem},
        "limits": {"cpu": lim_cpu, "memory": lim_mem},
    }


# The plan's sizes for the collectors; the rest is sized for a small cluster.
COLLECTOR_RESOURCES: Mapping[str, Values] = {
    names.METRICS: _res("100m", "256Mi", "500m", "512Mi"),
    names.LOGS: _res("50m", "128Mi", "200m", "256Mi"),
    names.RECEIVER: _res("100m", "256Mi", "500m", "512Mi"),
    names.SINGLETON: _res("50m", "128Mi", "200m", "256Mi"),
}
CONFIG_RELOADER_RESOURCES = _res("10m", "32Mi", "50m", "64Mi")
OPERATOR_RESOURCES = _res("10m", "64Mi", "200m", "256Mi")
HOOK_RESOURCES = _res("10m", "32Mi", "100m", "64Mi")
KUBE_STATE_METRICS_RESOURCES = _res("10m", "64Mi", "100m", "256Mi")
NODE_EXPORTER_RESOURCES = _res("10m", "32Mi", "100m", "64Mi")
OPENCOST_RESOURCES = _res("10m", "64Mi", "200m", "512Mi")

COLLECTOR_PRESETS: Mapping[str, list[str]] = {
    names.METRICS: ["clustered", "statefulset"],
    names.LOGS: ["filesystem-log-reader", "daemonset"],
    names.RECEIVER: ["daemonset"],
    names.SINGLETON: ["singleton"],
}

TOLERATE_ALL: list[Values] = [{"operator": "Exists"}]

# node-exporter mounts the node's / at /host/root with `mountPropagation: HostToContainer` by
# default (prometheus-node-exporter chart 4.56.1, values.yaml `hostRootFsMount`). Docker Desktop
# and k3d refuse it ("path / is mounted on / but it is not a shared or slave mount",
# prometheus-community/helm-charts #467, #1726): the DaemonSet never gets ready and the atomic
# release rolls back. An empty value drops the field (templates/daemonset.yaml renders it `with`
# the value), so the mount is private ("None"), which every local cluster accepts (kind too).
# Lost: filesystems mounted on the node after node-exporter started are not seen under
# /host/root until its pod restarts (README, "pulumi up -s local"). EKS keeps the chart's default.
LOCAL_HOST_ROOT_MOUNT: Values = {"enabled": True, "mountPropagation": ""}


def build_values(spec: MonitoringSpec) -> Values:
    """The whole values document for one stack."""
    return {
        "cluster": {"name": spec.cluster_name},
        "destinations": _destinations(spec),
        **_features(spec),
        "collectors": _collectors(spec),
        "telemetryServices": _telemetry_services(spec),
        "alloy-operator": _alloy_operator(),
        "extraObjects": credentials_reader_rbac(spec),
    }


# --- destinations -------------------------------------------------------------------------


def _secret_ref(spec: MonitoringSpec) -> Values:
    # create: false — the Secret exists already (written by the program or by External Secrets).
    return {"create": False, "name": SECRET_NAME, "namespace": spec.namespace}


def _basic_auth(username_key: str) -> Values:
    return {"type": "basic", "usernameKey": username_key, "passwordKey": KEYS.token}


def _destinations(spec: MonitoringSpec) -> Values:
    return {
        METRICS_DESTINATION: {
            "type": "prometheus",
            "url": spec.prometheus_url,
            "auth": _basic_auth(KEYS.prometheus_user),
            "secret": _secret_ref(spec),
        },
        LOGS_DESTINATION: {
            "type": "loki",
            "url": spec.loki_url,
            "auth": _basic_auth(KEYS.loki_user),
            "secret": _secret_ref(spec),
        },
        TRACES_DESTINATION: {
            "type": "otlp",
            "protocol": "http",  # Grafana Cloud's OTLP gateway speaks OTLP/HTTP
            "url": spec.otlp_url,
            "auth": _basic_auth(KEYS.instance_id),
            "secret": _secret_ref(spec),
            "metrics": {"enabled": False},
            "logs": {"enabled": False},
            "traces": {"enabled": True},
        },
    }


# --- features -----------------------------------------------------------------------------


def _features(spec: MonitoringSpec) -> Values:
    """Top-level feature blocks; a feature turned off is left out (the chart's default is off)."""
    f = spec.features
    blocks: dict[str, tuple[bool, Values]] = {
        "clusterMetrics": (f.cluster_metrics, _cluster_metrics(spec)),
        # Node Exporter is scraped by hostMetrics in 4.x, not by clusterMetrics.
        "hostMetrics": (f.cluster_metrics, _host_metrics(spec)),
        "costMetrics": (f.cost_metrics, {"enabled": True, "collector": names.METRICS}),
        "annotationAutodiscovery": (f.annotation_autodiscovery, _annotation_autodiscovery(spec)),
        "podLogsViaLoki": (f.pod_logs, _pod_logs(spec)),
        "clusterEvents": (f.cluster_events, {"enabled": True, "collector": names.SINGLETON}),
        "applicationObservability": (f.application_observability, _application_observability()),
        "integrations": (f.collector_self_metrics, _self_metrics(spec)),
    }
    return {key: block for key, (on, block) in blocks.items() if on}


def _cluster_metrics(spec: MonitoringSpec) -> Values:
    # EKS runs the control plane: the API server is scrapeable, controller-manager and
    # scheduler are not. A local cluster gets none of them to stay small.
    values: Values = {
        "enabled": True,
        "collector": names.METRICS,
        "apiServer": {"enabled": spec.platform == "eks" and spec.features.api_server_metrics},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
    }
    for path in (CADVISOR, KUBE_STATE_METRICS):
        if tuning := _dashboard_tuning(spec, path):
            values[path[1]] = tuning
    return values


def _host_metrics(spec: MonitoringSpec) -> Values:
    linux_hosts: Values = {"enabled": True, **_dashboard_tuning(spec, NODE_EXPORTER)}
    return {"enabled": True, "collector": names.METRICS, "linuxHosts": linux_hosts}


# --- what the Kubernetes dashboards need beyond the chart's allow lists --------------------

# Each scraped source keeps only its default allow list plus its `metricsTuning.includeMetrics`
# (e.g. "feature.clusterMetrics.cadvisor.allowList" in the chart's
# charts/feature-cluster-metrics/templates/_cadvisor.alloy.tpl, and
# charts/feature-host-metrics/templates/_linux_hosts_discovery_node_exporter.alloy.tpl). These are
# the metrics the pinned grafana.com dashboards (builders/grafana_com.py) query that those lists
# drop, keyed by the values path of the source's block: Global (15757), Namespaces (15758),
# Nodes (15759), Pods (15760), with the panels that read them. Only what a dashboard queries:
# node-exporter's `useIntegrationAllowList` would also keep node_uname_info, but adds about 130
# metrics nothing here reads and still lacks node_disk_io_now, node_netstat_Tcp_CurrEstab and
# node_time_seconds. tests/tools/test_dashboard_delivery.py checks this against the dashboards
# and the real render, both ways: every queried metric kept, every include queried and needed.
CADVISOR = ("clusterMetrics", "cadvisor")
KUBE_STATE_METRICS = ("clusterMetrics", "kube-state-metrics")
NODE_EXPORTER = ("hostMetrics", "linuxHosts")

DASHBOARD_INCLUDES: Mapping[tuple[str, str], tuple[str, ...]] = {
    CADVISOR: (
        "container_cpu_cfs_throttled_seconds_total",  # Global, Namespaces, Pods: CPU Throttled seconds
        "container_network_receive_errors_total",  # Namespaces, Pods: Network - Errors
        "container_network_transmit_errors_total",  # Namespaces, Pods: Network - Errors
        "container_oom_events_total",  # Global, Namespaces, Pods: OOM Events
        "machine_cpu_cores",  # Global, Namespaces: CPU Usage (of the total); Nodes: CPU Total
    ),
    KUBE_STATE_METRICS: (
        "kube_deployment_labels",  # Global, Namespaces: Kubernetes Resource Count
        "kube_deployment_status_replicas_unavailable",  # Namespaces: Replicas unavailable
        "kube_ingress_info",  # Global, Namespaces: Kubernetes Resource Count
        "kube_namespace_created",  # Global: Namespaces
        "kube_namespace_labels",  # Global: Kubernetes Resource Count
        "kube_networkpolicy_labels",  # Global, Namespaces: Kubernetes Resource Count
        "kube_pod_container_status_last_terminated_exitcode",  # Pods: Last Terminated Exit Code
        "kube_pod_container_status_ready",  # Namespaces: Nb of pods by state
        "kube_pod_container_status_running",  # Global: Resource Count; Namespaces: pods by state
        "kube_pod_container_status_terminated",  # Namespaces: Nb of pods by state
        "kube_pod_container_status_waiting",  # Namespaces: Nb of pods by state
        "kube_pod_status_qos_class",  # Global, Namespaces, Pods: QoS classes
        "kube_pod_status_scheduled",  # Pods: Unscheduled Pods
        "kube_secret_info",  # Global, Namespaces: Kubernetes Resource Count
        "kube_service_info",  # Global, Namespaces: Kubernetes Resource Count
    ),
    NODE_EXPORTER: (
        "node_boot_time_seconds",  # Nodes: uptime
        "node_context_switches_total",  # Nodes: Context Switches & Interrupts
        "node_disk_io_now",  # Nodes: Disk(s) io/s
        "node_disk_read_bytes_total",  # Nodes: Reads by disk (bytes)
        "node_disk_reads_completed_total",  # Nodes: Completed reads by disk
        "node_disk_writes_completed_total",  # Nodes: Completed writes by disk
        "node_disk_written_bytes_total",  # Nodes: Writes by disk (bytes)
        "node_filefd_allocated",  # Nodes: File Descriptors
        "node_filefd_maximum",  # Nodes: File Descriptors
        "node_intr_total",  # Nodes: Context Switches & Interrupts
        "node_load1",  # Nodes: System Load
        "node_load15",  # Nodes: System Load
        "node_load5",  # Nodes: System Load
        "node_netstat_Tcp_CurrEstab",  # Nodes: TCP Currently Established
        "node_network_receive_errs_total",  # Nodes: Network errors
        "node_network_receive_packets_total",  # Nodes: Network usage (packet/s)
        "node_network_transmit_errs_total",  # Nodes: Network errors
        "node_network_transmit_packets_total",  # Nodes: Network usage (packet/s)
        "node_nf_conntrack_entries",  # Nodes: NF Conntrack
        "node_nf_conntrack_entries_limit",  # Nodes: NF Conntrack
        "node_time_seconds",  # Nodes: uptime
        "node_timex_estimated_error_seconds",  # Nodes: Time Sync
        "node_timex_maxerror_seconds",  # Nodes: Time Sync
        "node_uname_info",  # Nodes: the $instance variable every node-exporter panel filters on
    ),
}

# Queried by a pinned dashboard, produced by nothing this pipeline runs: the README's dashboard
# table names the panels that stay empty.
NOT_DELIVERED: Mapping[str, str] = {
    # kube-state-metrics 2.0 renamed kube_hpa_* to kube_horizontalpodautoscaler_*
    # (https://github.com/kubernetes/kube-state-metrics/blob/main/CHANGELOG.md, v2.0.0-alpha).
    "kube_hpa_labels": "kube-state-metrics 2.x has no kube_hpa_* metrics (renamed in 2.0)",
    # The chart's kube-state-metrics (subchart 8.1.3, app 2.19.1) collects `endpointslices`,
    # not the deprecated `endpoints` (its values.yaml `collectors`).
    "kube_endpoint_info": "kube-state-metrics as the chart deploys it collects EndpointSlices, not Endpoints",
}


def _dashboard_tuning(spec: MonitoringSpec, path: tuple[str, str]) -> Values:
    """The source's `metricsTuning` with the dashboards' includes; none when the dashboards are off."""
    if not spec.features.dashboards:
        return {}
    return {"metricsTuning": {"includeMetrics": list(DASHBOARD_INCLUDES[path])}}


def _annotation_autodiscovery(spec: MonitoringSpec) -> Values:
    # Only the services' namespace: elsewhere the annotations are not ours (kube-dns carries
    # `prometheus.io/scrape: "true"` on kubeadm and EKS), and what they expose would reach Grafana
    # Cloud unfiltered — this feature has no allow list. The chart's default `[]` is every namespace
    # (charts/feature-annotation-autodiscovery/values.yaml `namespaces`).
    return {
        "enabled": True,
        "collector": names.METRICS,
        "namespaces": [spec.namespace],
        "annotations": {
            "scrape": scrape_annotations.SCRAPE,
            "metricsPortNumber": scrape_annotations.PORT,
            "metricsPath": scrape_annotations.PATH,
        },
    }


def _pod_logs(spec: MonitoringSpec) -> Values:
    # By default the services' namespace only, as for annotation autodiscovery: on a shared cluster the
    # other namespaces' logs are other teams' and would be shipped to this Grafana Cloud stack (and
    # its logs bill). The chart's `[]` is every namespace; exact names are passed to the discovery as
    # `namespaces { names = [...] }` (charts/feature-pod-logs-via-loki values.yaml `namespaces`,
    # templates/_discovery.alloy.tpl).
    if spec.pod_logs_namespaces is None:
        namespaces = [spec.namespace]
    elif spec.pod_logs_namespaces == (ALL_NAMESPACES,):
        namespaces = []
    else:
        namespaces = list(spec.pod_logs_namespaces)
    return {"enabled": True, "collector": names.LOGS, "namespaces": namespaces}


# The services' OTLP metrics that nothing here queries and that the free tier cannot afford: the
# ASGI instrumentation's request and response body-size histograms (opentelemetry-instrumentation-asgi
# 0.66b1 with OTEL_SEMCONV_STABILITY_OPT_IN=http; the semantic conventions' `http.server.request.body.size`
# and `http.server.response.body.size`), 16 buckets + 2 per label set, about 1,440 series per cluster
# of five services (README "Series bill"). Dropped in the receiver, before they become series, like
# the allow lists drop what the scraped sources send. Every other OTLP metric passes.
# OTel metric name -> the Prometheus name it becomes (unit "By" -> `_bytes`:
# https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/).
DROPPED_OTLP_METRICS: Mapping[str, str] = {
    "http.server.request.body.size": "http_server_request_body_size_bytes",
    "http.server.response.body.size": "http_server_response_body_size_bytes",
}


def _application_observability() -> Values:
    # The chart adds these ports to the receiver collector's Service (extraPorts) itself.
    return {
        "enabled": True,
        "collector": names.RECEIVER,
        "receivers": {
            "otlp": {
                "grpc": {"enabled": True, "port": names.OTLP_GRPC_PORT},
                "http": {"enabled": True, "port": names.OTLP_HTTP_PORT},
            }
        },
        # An `otelcol.processor.filter` on the receiver's pipeline: a metric matching any condition
        # (OTTL, metric context) is dropped (charts/feature-application-observability values.yaml
        # `metrics.filters.metric`, templates/_processor_filter.tpl;
        # https://grafana.com/docs/alloy/latest/reference/components/otelcol/otelcol.processor.filter/).
        "metrics": {"filters": {"metric": [f'name == "{name}"' for name in DROPPED_OTLP_METRICS]}},
    }


def _self_metrics(spec: MonitoringSpec) -> Values:
    """The collectors' own metrics: the `alloy` service integration scraping our collectors.

    Their pods carry `app.kubernetes.io/name: <collector>` (the chart sets nameOverride).
    """
    return {
        "collector": names.METRICS,
        "alloy": {
            "instances": [
                {
                    "name": "alloy",
                    "namespaces": [spec.namespace],
                    "labelSelectors": {"app.kubernetes.io/name": list(_used_collectors(spec))},
                }
            ]
        },
    }


# --- collectors ---------------------------------------------------------------------------


def _used_collectors(spec: MonitoringSpec) -> tuple[str, ...]:
    """Collectors some enabled feature runs on; the chart refuses a collector with nothing to do."""
    f = spec.features
    metrics = (
        f.cluster_metrics
        or f.cost_metrics
        or f.annotation_autodiscovery
        or f.collector_self_metrics
        or bool(spec.metrics_extra_config)
    )
    used = {
        names.METRICS: metrics,
        names.LOGS: f.pod_logs,
        names.RECEIVER: f.application_observability,
        names.SINGLETON: f.cluster_events,
    }
    return tuple(c for c in names.COLLECTORS if used[c])


def _collectors(spec: MonitoringSpec) -> Values:
    return {c: _collector(spec, c) for c in _used_collectors(spec)}


def _collector(spec: MonitoringSpec, collector: str) -> Values:
    values: Values = {
        "presets": list(COLLECTOR_PRESETS[collector]),
        "alloy": {"resources": COLLECTOR_RESOURCES[collector]},
        "configReloader": {"resources": CONFIG_RELOADER_RESOURCES},
        "rbac": {"rules": [dict(rule) for rule in COLLECTOR_RBAC_RULES]},
    }
    if spec.platform == "eks" and "daemonset" in COLLECTOR_PRESETS[collector]:
        values["controller"] = {"tolerations": TOLERATE_ALL}
    if collector == names.RECEIVER:
        # Each app sends to the receiver on its own node, as the plan intends.
        values["service"] = {"internalTrafficPolicy": "Local"}
    if collector == names.METRICS:
        values.update(_metrics_collector_hooks(spec))
    return values


def _metrics_collector_hooks(spec: MonitoringSpec) -> Values:
    extra: Values = {}
    if spec.metrics_service_account_annotations:
        extra["serviceAccount"] = {"annotations": dict(spec.metrics_service_account_annotations)}
    if spec.metrics_extra_config:
        extra["extraConfig"] = spec.metrics_extra_config
        # extraConfig may forward to prometheus.remote_write.<destination>; make sure it exists.
        extra["includeDestinations"] = [METRICS_DESTINATION]
    return extra


# --- the collectors' Kubernetes permissions -------------------------------------------------

# Each collector is an Alloy instance the Alloy Operator installs with the Alloy chart, the `Alloy`
# resource's spec as its values (so a list given here replaces the chart's default list). That chart
# makes one ClusterRole of `rbac.rules` + `rbac.clusterRules` while `rbac.namespaces` is empty, or
# Roles of `rbac.rules` alone in the listed namespaces (grafana/alloy-operator
# operator/helm-charts/alloy/templates/rbac.yaml, Alloy chart 1.11.0). Its default `rbac.rules`
# (k8s-monitoring 4.4.0 collectors/upstream/alloy-values.yaml, the values the operator's chart ships)
# include `configmaps, secrets: get, list, watch` "for the remote.kubernetes.* components": every
# collector, the DaemonSets on each node included, could read every Secret of the cluster. These are
# those rules without that one; `clusterRules` (nodes, nodes/pods, nodes/metrics, /metrics) stay the
# chart's. Discovery is unchanged (tests/tools/test_collector_rbac.py compares with the chart's own
# list). Rule order and content as in the chart.
COLLECTOR_RBAC_RULES: tuple[Mapping[str, Any], ...] = (
    # discovery.kubernetes
    {
        "apiGroups": ["", "discovery.k8s.io", "networking.k8s.io"],
        "resources": ["endpoints", "endpointslices", "ingresses", "pods", "services"],
        "verbs": ["get", "list", "watch"],
    },
    # loki.source.kubernetes
    {"apiGroups": [""], "resources": ["pods", "pods/log", "namespaces"], "verbs": ["get", "list", "watch"]},
    # loki.source.podlogs
    {"apiGroups": ["monitoring.grafana.com"], "resources": ["podlogs"], "verbs": ["get", "list", "watch"]},
    # mimir.rules.kubernetes
    {
        "apiGroups": ["monitoring.coreos.com"],
        "resources": ["prometheusrules"],
        "verbs": ["get", "list", "watch"],
    },
    # mimir.alerts.kubernetes
    {
        "apiGroups": ["monitoring.coreos.com"],
        "resources": ["alertmanagerconfigs"],
        "verbs": ["get", "list", "watch"],
    },
    # prometheus.operator.*
    {
        "apiGroups": ["monitoring.coreos.com"],
        "resources": ["podmonitors", "servicemonitors", "probes", "scrapeconfigs"],
        "verbs": ["get", "list", "watch"],
    },
    # loki.source.kubernetes_events
    {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list", "watch"]},
    # otelcol.processor.k8sattributes
    {"apiGroups": ["apps", "extensions"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
)


def credentials_reader_role_name(release_name: str) -> str:
    return f"{release_name}-credentials-reader"[:63].rstrip("-")


def credentials_reader_rbac(spec: MonitoringSpec) -> list[Values]:
    """A Role in the namespace that may `get` the credentials Secret and nothing else, bound to every
    collector's service account: what the destinations' `remote.kubernetes.secret` needs. That
    component reads its Secret with a GET by name every `poll_frequency` (grafana/alloy v1.18.0
    internal/component/remote/kubernetes/kubernetes.go, `pollError`: `Secrets(ns).Get(ctx, name)`),
    so `resourceNames` can pin it to the one Secret. Rendered by the chart (`extraObjects`), as the
    chart itself renders namespaced permissions of its collectors (templates/sdk-injector-rbac.yaml)."""
    collectors = _used_collectors(spec)
    if not collectors:
        return []
    role = credentials_reader_role_name(spec.release_name)
    metadata = {"name": role, "namespace": spec.namespace}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": [SECRET_NAME],
                    "verbs": ["get"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": dict(metadata),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": names.monitoring_names(spec.release_name, spec.namespace).service_account(c),
                    "namespace": spec.namespace,
                }
                for c in collectors
            ],
        },
    ]


# --- telemetry services and operator ------------------------------------------------------


def _telemetry_services(spec: MonitoringSpec) -> Values:
    services: Values = {}
    if spec.features.cluster_metrics:
        node_exporter: Values = {"deploy": True, "resources": NODE_EXPORTER_RESOURCES}
        if spec.platform == "eks":
            node_exporter["tolerations"] = TOLERATE_ALL
        else:
            node_exporter["hostRootFsMount"] = LOCAL_HOST_ROOT_MOUNT
        services["kube-state-metrics"] = {"deploy": True, "resources": KUBE_STATE_METRICS_RESOURCES}
        services["node-exporter"] = node_exporter
    if spec.features.cost_metrics:
        services["opencost"] = _opencost(spec)
    return services


OPENCOST_CREDENTIALS_ANNOTATION = "llm-judge-observability/credentials-version"


def _opencost(spec: MonitoringSpec) -> Values:
    """OpenCost reading its costs back from Grafana Cloud's Mimir with a read-only token of its own.

    Reading needs `metrics:read`; the collectors' token only writes. So OpenCost authenticates as
    the stack's Prometheus user with its own token (`KEYS.opencost_token`, scope `metrics:read`
    only, builders/grafana_cloud.py) from the same Secret. The chart's guided setup
    (`metricsSource: <destination>`) insists on the destination's own Secret keys
    (charts/telemetry-services/templates/_validate.tpl, "telemetryServices.validate.opencost"), so
    this uses `metricsSource: custom`, which skips only those link checks: `defaultClusterId` must
    still equal `cluster.name`. The query URL is the chart's own mapping from the remote-write URL.
    """
    auth = _destinations(spec)[METRICS_DESTINATION]["auth"]
    # OpenCost reads its token into its environment at start only (the opencost 2.5.29 chart's
    # templates/deployment.yaml: DB_BASIC_AUTH_PASSWORD `valueFrom.secretKeyRef`), so a rotated token
    # reaches it only in a new pod: this pod annotation, keyed to the token, rolls it in the same
    # `pulumi up` (the old token stays valid until it expires: components/grafana_cloud_stack.py).
    rollout = (
        {"podAnnotations": {OPENCOST_CREDENTIALS_ANNOTATION: spec.opencost_credentials_version}}
        if spec.opencost_credentials_version
        else {}
    )
    return {
        "deploy": True,
        **rollout,
        "metricsSource": "custom",
        "opencost": {
            # The OpenCost chart's values sit one level down, under its own `opencost:` key.
            "exporter": {"defaultClusterId": spec.cluster_name, "resources": OPENCOST_RESOURCES},
            "prometheus": {
                "existingSecretName": SECRET_NAME,
                "username_key": auth["usernameKey"],
                "password_key": KEYS.opencost_token,
                "external": {"enabled": True, "url": prometheus_query_url(spec.prometheus_url)},
            },
        },
    }


# The chart's own mapping from remote-write URL to query URL (same _validate.tpl).
_QUERY_URL_RULES: tuple[tuple[str, str], ...] = (
    (r"^(.*)/api/prom/push$", r"\1/api/prom"),
    (r"^(.*)/api/v1/push$", r"\1/api/v1/query"),
    (r"^(.*)/api/v1/write$", r"\1/api/v1/query"),
)


def prometheus_query_url(remote_write_url: str) -> str:
    """Grafana Cloud's Prometheus query base for a remote-write URL (what OpenCost reads from)."""
    for pattern, replacement in _QUERY_URL_RULES:
        if re.fullmatch(pattern, remote_write_url):
            return re.sub(pattern, replacement, remote_write_url)
    raise ValueError(f"no query URL known for remote-write URL {remote_write_url!r}")


def _alloy_operator() -> Values:
    return {"resources": OPERATOR_RESOURCES, "waitForAlloyRemoval": {"resources": HOOK_RESOURCES}}


# --- what runs where ----------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One pod template the release runs, with each container's resources."""

    name: str
    kind: Literal["DaemonSet", "Deployment", "StatefulSet", "Job"]
    replicas: int
    containers: Mapping[str, Mapping[str, Any]]


def _dig(values: Mapping[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(values, Mapping):
            return None
        values = values.get(key)  # type: ignore[assignment]
    return values


_PRESET_KIND = {"daemonset": "DaemonSet", "statefulset": "StatefulSet", "singleton": "Deployment"}


def _collector_workload(name: str, collector: Mapping[str, Any]) -> Workload:
    presets = collector.get("presets", [])
    kind = next((_PRESET_KIND[p] for p in presets if p in _PRESET_KIND), "DaemonSet")
    return Workload(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        replicas=1 if kind == "DaemonSet" else int(_dig(collector, "controller", "replicas") or 1),
        containers={
            "alloy": _dig(collector, "alloy", "resources") or {},
            "config-reloader": _dig(collector, "configReloader", "resources") or {},
        },
    )


def workloads(values: Mapping[str, Any]) -> Iterator[Workload]:
    """Every pod template these values make the release run (collectors via the operator)."""
    for name, collector in (values.get("collectors") or {}).items():
        if collector.get("enabled", True):
            yield _collector_workload(name, collector)
    operator = values.get("alloy-operator") or {}
    if operator.get("deploy", True):
        yield Workload("alloy-operator", "Deployment", 1, {"manager": operator.get("resources") or {}})
        hook = _dig(operator, "waitForAlloyRemoval", "resources") or {}
        yield Workload("alloy-removal-hook", "Job", 1, {"kubectl": hook})
    yield from _telemetry_workloads(values.get("telemetryServices") or {})


def _telemetry_workloads(services: Mapping[str, Any]) -> Iterator[Workload]:
    if _dig(services, "kube-state-metrics", "deploy"):
        res = services["kube-state-metrics"].get("resources") or {}
        yield Workload("kube-state-metrics", "Deployment", 1, {"kube-state-metrics": res})
    if _dig(services, "node-exporter", "deploy"):
        res = services["node-exporter"].get("resources") or {}
        yield Workload("node-exporter", "DaemonSet", 1, {"node-exporter": res})
    if _dig(services, "opencost", "deploy"):
        res = _dig(services, "opencost", "opencost", "exporter", "resources") or {}
        yield Workload("opencost", "Deployment", 1, {"opencost": res})


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEM = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEM_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_MEM_UNITS.update({"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40})


def cpu_millicores(quantity: str | int | float) -> int:
    match = _CPU.fullmatch(str(quantity))
    if not match:
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    number, milli = float(match.group(1)), match.group(2)
    return round(number if milli else number * 1000)


def memory_bytes(quantity: str | int | float) -> int:
    match = _MEM.fullmatch(str(quantity))
    if not match:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return round(float(match.group(1)) * _MEM_UNITS[match.group(2)])


def node_requests(values: Mapping[str, Any]) -> tuple[int, int]:
    """(CPU millicores, memory bytes) requested on one node of a single-node cluster.

    One pod per DaemonSet plus every Deployment/StatefulSet/Job pod, so the local stack's
    footprint is known before it is installed. A container without requests counts as 0.
    """
    cpu = mem = 0
    for workload in workloads(values):
        for resources in workload.containers.values():
            requests = resources.get("requests") or {}
            cpu += workload.replicas * cpu_millicores(requests.get("cpu", 0))
            mem += workload.replicas * memory_bytes(requests.get("memory", 0))
    return cpu, mem
