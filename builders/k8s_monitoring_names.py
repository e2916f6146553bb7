"""Names the k8s-monitoring release gives its collectors, derived in this one place.

In chart 4.x each collector is an `Alloy` custom resource named like the chart's
`collector.alloy.fullname` helper; the Alloy Operator installs the Alloy chart with that
name as release name, so the workload, Service and ServiceAccount carry the same name.
https://github.com/grafana/k8s-monitoring-helm/blob/main/charts/k8s-monitoring/templates/collectors/_collector_helpers.tpl
"""

from __future__ import annotations

from dataclasses import dataclass

METRICS = "alloy-metrics"
LOGS = "alloy-logs"
RECEIVER = "alloy-receiver"
SINGLETON = "alloy-singleton"
COLLECTORS: tuple[str, ...] = (METRICS, LOGS, RECEIVER, SINGLETON)
# The workload kind the Alloy Operator runs each collector as (the `Alloy` resource's
# `controller.type`, set by the presets in builders.k8s_monitoring; the chart render tests check it).
COLLECTOR_WORKLOAD_KINDS: dict[str, str] = {
    METRICS: "statefulset",
    LOGS: "daemonset",
    RECEIVER: "daemonset",
    SINGLETON: "deployment",
}

# The `alloy` integration's job label (feature-integrations integrations/alloy-values.yaml `jobLabel`);
# the pipeline's health rules select on it.
ALLOY_INTEGRATION_JOB = "integrations/alloy"

OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318


def collector_fullname(release_name: str, collector: str) -> str:
    """The chart's `collector.alloy.fullname`: just the release name if it contains the collector's."""
    name = release_name if collector in release_name else f"{release_name}-{collector}"
    return name[:63].rstrip("-")


@dataclass(frozen=True)
class MonitoringNames:
    """Everything other components need to reach or identify the collectors."""

    release_name: str
    namespace: str
    otlp_grpc_port: int = OTLP_GRPC_PORT
    otlp_http_port: int = OTLP_HTTP_PORT

    def collector(self, collector: str) -> str:
        """Name of the collector's Alloy resource, workload and Service."""
        return collector_fullname(self.release_name, collector)

    def service_account(self, collector: str) -> str:
        """The operator's Alloy chart names the ServiceAccount like the workload."""
        return self.collector(collector)

    @property
    def metrics_collector(self) -> str:
        return self.collector(METRICS)

    @property
    def metrics_service_account(self) -> str:
        return self.service_account(METRICS)

    @property
    def receiver_service(self) -> str:
        return self.collector(RECEIVER)

    @property
    def receiver_host(self) -> str:
        return f"{self.receiver_service}.{self.namespace}.svc.cluster.local"

    @property
    def otlp_grpc_endpoint(self) -> str:
        return f"http://{self.receiver_host}:{self.otlp_grpc_port}"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://{self.receiver_host}:{self.otlp_http_port}"


def monitoring_names(release_name: str, namespace: str) -> MonitoringNames:
    return MonitoringNames(release_name=release_name, namespace=namespace)
