"""Input series for `promtool test rules`, shaped as this pipeline delivers them to Grafana Cloud.

Test-time only. One `Cluster` is one stack's cluster; its methods return `tools.prom_rules.Series`
with the names and labels that reach Mimir from that cluster, so scenarios of several clusters are
the concatenation of several clusters' series (`Cluster("a").healthy(30) + Cluster("b").healthy(30)`).
Every metric name is checked against `tools.metric_catalog.pipeline_catalog` when the series is made:
a scenario cannot feed the rules a series the pipeline never delivers.

Where the labels come from (k8s-monitoring 4.4.0 as this program configures it; see the rendered
collector configs in tests/tools/test_chart_render.py):
- every series: `cluster` and `k8s_cluster_name` = clusterName, the `external_labels` of each
  `prometheus.remote_write` the chart renders (alloy-metrics and alloy-receiver);
- the collectors' own metrics (`job="integrations/alloy"`): the alloy integration's discovery relabels
  `namespace`, `pod`, `container`, `workload_type` (the controller kind, lower-cased), `workload`
  (the controller, a ReplicaSet's hash removed), `app` (app.kubernetes.io/name), `source="kubernetes"`;
  `instance` is the pod's address; and it keeps only Running and ready pods (a Pending collector has
  no series at all). Alloy adds `component_id` to a component's own metrics (Alloy docs,
  troubleshoot/component_metrics.md); Prometheus' queue manager adds `remote_name` and `url`
  (storage/remote/storage.go, constLabels of queue_manager.go);
- kube-state-metrics (`job="integrations/kubernetes/kube-state-metrics"`): the object's `namespace`
  and name label (`statefulset`, `daemonset`, `deployment`, `pod`, `container`, ...) from
  kube-state-metrics itself, `instance` = its endpoint, `source="kubernetes"` from the chart's relabel;
- the services' OTLP metrics: `job="<namespace>/<service>"`, `instance` = service.instance.id and the
  HTTP semantic-convention attributes (tools.metric_catalog.OTEL_LABELS);
- CloudWatch SQS: YACE's `dimension_QueueName`, `name`, `region`, `account_id`; `job` =
  `integrations/cloudwatch` (Alloy's exporters: `integrations/<name>`, prometheus/exporter/exporter.go).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from builders import cloudwatch
from builders.k8s_monitoring_names import (
    ALLOY_INTEGRATION_JOB,
    COLLECTOR_WORKLOAD_KINDS,
    COLLECTORS,
    monitoring_names,
)
from tools.metric_catalog import MetricCatalog, pipeline_catalog
from tools.prom_rules import Series

KSM_JOB = "integrations/kubernetes/kube-state-metrics"
REMOTE_WRITE_COMPONENT = "prometheus.remote_write.grafana_cloud_metrics"
# The OTel SDK's default bucket boundaries for http.server.request.duration (semantic conventions,
# "explicit bucket boundaries" advice): https://opentelemetry.io/docs/specs/semconv/http/http-metrics/
HTTP_DURATION_BUCKETS: tuple[str, ...] = (
    *("0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75"),
    *("1", "2.5", "5", "7.5", "10", "+Inf"),
)
# kube-state-metrics' desired and ready counts per workload kind (what AlloyCollectorNotReady reads).
READINESS_METRICS: Mapping[str, tuple[str, str]] = {
    "statefulset": ("kube_statefulset_replicas", "kube_statefulset_status_replicas_ready"),
    "daemonset": ("kube_daemonset_status_desired_number_scheduled", "kube_daemonset_status_number_ready"),
    "deployment": ("kube_deployment_spec_replicas", "kube_deployment_status_replicas_available"),
}


@lru_cache(maxsize=1)
def _catalog() -> MetricCatalog:
    return pipeline_catalog(sqs=True)


def _ip(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{digest[2] % 250 + 2}"


@dataclass(frozen=True)
class Cluster:
    """One cluster of the pipeline: its clusterName, the services' namespace, the release."""

    name: str = "llm-judge-local"
    namespace: str = "llm-judge"
    release_name: str = "grafana-k8s-monitoring"

    def series(self, name: str, labels: Mapping[str, str], values: str) -> Series:
        """A series as it arrives from this cluster: the remote write's external labels added."""
        if not _catalog().contains(name):
            raise ValueError(f"{name} is not delivered by this pipeline (tools.metric_catalog)")
        return Series(name, {**labels, "cluster": self.name, "k8s_cluster_name": self.name}, values)

    # --- the Alloy collectors ---

    def workload(self, collector: str) -> str:
        return monitoring_names(self.release_name, self.namespace).collector(collector)

    def collector_pod(self, collector: str, index: int = 0) -> str:
        """A pod name as its controller makes it: `-0` for the StatefulSet, a hash suffix otherwise."""
        kind = COLLECTOR_WORKLOAD_KINDS[collector]
        token = hashlib.sha256(f"{self.name}/{collector}/{index}".encode()).hexdigest()
        if kind == "statefulset":
            return f"{self.workload(collector)}-{index}"
        if kind == "daemonset":
            return f"{self.workload(collector)}-{token[:5]}"
        return f"{self.workload(collector)}-{token[5:14]}-{token[:5]}"  # Deployment: ReplicaSet hash + pod

    def alloy_labels(self, collector: str, pod: str) -> dict[str, str]:
        """Labels the alloy integration's scrape gives a collector pod's own metrics."""
        kind = COLLECTOR_WORKLOAD_KINDS[collector]
        return {
            "job": ALLOY_INTEGRATION_JOB,
            "instance": f"{_ip(self.name, pod)}:12345",
            "namespace": self.namespace,
            "pod": pod,
            "container": "alloy",
            "workload_type": "replicaset" if kind == "deployment" else kind,
            "workload": self.workload(collector),
            "app": collector,
            "source": "kubernetes",
        }

    def alloy_up(self, collector: str, values: str, index: int = 0) -> tuple[Series, ...]:
        pod = self.collector_pod(collector, index)
        return (self.series("up", self.alloy_labels(collector, pod), values),)

    def remote_write_counters(
        self,
        collector: str,
        failed: str,
        dropped: Mapping[str, str] | None = None,
        index: int = 0,
    ) -> tuple[Series, ...]:
        """A collector's remote-write counters: `failed` exists from start-up, `dropped` (by reason:
        too_old, dropped_series, unintentionally_dropped_series) only once something was dropped."""
        pod = self.collector_pod(collector, index)
        labels = {
            **self.alloy_labels(collector, pod),
            "component_id": REMOTE_WRITE_COMPONENT,
            "remote_name": "grafana-cloud-metrics",
            "url": "https://prometheus-prod-placeholder.grafana.net/api/prom/push",
        }
        series = [self.series("prometheus_remote_storage_samples_failed_total", labels, failed)]
        for reason, values in (dropped or {}).items():
            series.append(
                self.series(
                    "prometheus_remote_storage_samples_dropped_total", {**labels, "reason": reason}, values
                )
            )
        return tuple(series)

    # --- kube-state-metrics ---

    def ksm(self, name: str, labels: Mapping[str, str], values: str) -> Series:
        scrape = {"job": KSM_JOB, "instance": f"{_ip(self.name, 'ksm')}:8080", "source": "kubernetes"}
        return self.series(name, {**scrape, **labels}, values)

    def collector_readiness(self, collector: str, desired: str, ready: str) -> tuple[Series, ...]:
        """kube-state-metrics' desired and ready counts of a collector's workload."""
        kind = COLLECTOR_WORKLOAD_KINDS[collector]
        desired_metric, ready_metric = READINESS_METRICS[kind]
        labels = {"namespace": self.namespace, kind: self.workload(collector)}
        return (self.ksm(desired_metric, labels, desired), self.ksm(ready_metric, labels, ready))

    def crash_looping(self, pod: str, container: str, values: str, namespace: str | None = None) -> Series:
        labels = {
            "namespace": namespace or self.namespace,
            "pod": pod,
            "container": container,
            "uid": hashlib.sha256(pod.encode()).hexdigest()[:8],
            "reason": "CrashLoopBackOff",
        }
        return self.ksm("kube_pod_container_status_waiting_reason", labels, values)

    # --- the services (OTLP through alloy-receiver) ---

    def _service_labels(self, service: str) -> dict[str, str]:
        return {
            "job": f"{self.namespace}/{service}",
            "instance": hashlib.sha256(f"{self.name}/{service}".encode()).hexdigest()[:32],
            "otel_scope_name": "opentelemetry.instrumentation.asgi",
            "http_request_method": "POST",
            "http_route": "/v1/evaluate",
            "url_scheme": "http",
            "network_protocol_version": "1.1",
        }

    def requests(self, service: str, by_status: Mapping[str, str]) -> tuple[Series, ...]:
        """Request counts (`_count` of the duration histogram) per HTTP status code."""
        return tuple(
            self.series(
                "http_server_request_duration_seconds_count",
                {**self._service_labels(service), "http_response_status_code": status},
                values,
            )
            for status, values in by_status.items()
        )

    def latency(self, service: str, per_minute: int, slowest_bucket: str, minutes: int) -> tuple[Series, ...]:
        """`per_minute` requests a minute, all answered 200 within `slowest_bucket` (one of
        HTTP_DURATION_BUCKETS) but slower than the bucket below: cumulative buckets, _count, _sum."""
        if slowest_bucket not in HTTP_DURATION_BUCKETS:
            raise ValueError(f"{slowest_bucket} is not a bucket boundary of {HTTP_DURATION_BUCKETS}")
        labels = {**self._service_labels(service), "http_response_status_code": "200"}
        reached = HTTP_DURATION_BUCKETS.index(slowest_bucket)
        series = [
            self.series(
                "http_server_request_duration_seconds_bucket",
                {**labels, "le": le},
                f"0+{per_minute}x{minutes}" if i >= reached else f"0x{minutes}",
            )
            for i, le in enumerate(HTTP_DURATION_BUCKETS)
        ]
        series.append(
            self.series("http_server_request_duration_seconds_count", labels, f"0+{per_minute}x{minutes}")
        )
        return tuple(series)

    # --- CloudWatch SQS (eks) ---

    def sqs_visible(self, queue: str, values: str, region: str = "us-east-1") -> Series:
        name = cloudwatch.prometheus_metric_name("ApproximateNumberOfMessagesVisible", "Maximum")
        labels = {
            "job": "integrations/cloudwatch",
            "instance": self.collector_pod("alloy-metrics"),
            cloudwatch.QUEUE_LABEL: queue,
            "name": f"queue_{queue}",
            "region": region,
            "account_id": "123456789012",
        }
        return self.series(name, labels, values)

    # --- a healthy cluster ---

    def healthy(
        self,
        minutes: int,
        services: tuple[str, ...] = (),
        queues: tuple[str, ...] = (),
        daemonset_nodes: int = 2,
    ) -> tuple[Series, ...]:
        """Everything a healthy pipeline delivers from this cluster for `minutes`: every collector
        scraped and ready, remote writes with no failure and no drop (so no dropped series), the
        services answering 200 quickly, the queues near empty, nothing crash-looping."""
        constant = f"x{minutes}"
        series: list[Series] = []
        for collector in COLLECTORS:
            kind = COLLECTOR_WORKLOAD_KINDS[collector]
            replicas = daemonset_nodes if kind == "daemonset" else 1
            series += self.collector_readiness(collector, f"{replicas}{constant}", f"{replicas}{constant}")
            for index in range(replicas):
                series += self.alloy_up(collector, f"1{constant}", index)
        for collector in ("alloy-metrics", "alloy-receiver"):  # the two with a prometheus.remote_write
            series += self.remote_write_counters(collector, failed=f"0{constant}")
        series.append(self.ksm("up", {}, f"1{constant}"))
        for service in services:
            series += self.requests(service, {"200": f"0+600x{minutes}"})
            series += [
                s
                for s in self.latency(service, 600, "0.1", minutes)
                if s.name != "http_server_request_duration_seconds_count"  # already in requests()
            ]
        for queue in queues:
            series.append(self.sqs_visible(queue, f"3{constant}"))
        return tuple(series)
