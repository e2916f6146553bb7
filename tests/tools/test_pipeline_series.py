"""Input series for promtool shaped as the pipeline delivers them (tools.pipeline_series)."""

from __future__ import annotations

import pytest

from tools.pipeline_series import Cluster

LOCAL = Cluster("llm-judge-local")


def test_a_metric_the_pipeline_does_not_deliver_cannot_be_fed() -> None:
    with pytest.raises(ValueError, match="http_server_requests_total is not delivered"):
        LOCAL.series("http_server_requests_total", {}, "1")
    with pytest.raises(ValueError, match="kube_deployment_status_replicas_ready is not delivered"):
        LOCAL.ksm("kube_deployment_status_replicas_ready", {}, "1")  # not in the chart's allow list


def test_every_series_carries_the_remote_writes_cluster_labels() -> None:
    series = LOCAL.healthy(3, services=("gateway-service",), queues=("inference_queue",))
    assert len(series) > 20
    assert {(s.labels["cluster"], s.labels["k8s_cluster_name"]) for s in series} == {
        ("llm-judge-local", "llm-judge-local")
    }


def test_collector_pods_are_labelled_as_the_alloy_integration_does() -> None:
    (up,) = LOCAL.alloy_up("alloy-singleton", "1")
    pod = up.labels["pod"]
    assert pod.startswith("grafana-k8s-monitoring-alloy-singleton-") and pod.count("-") == 6
    assert {
        k: up.labels[k] for k in ("job", "namespace", "container", "workload_type", "workload", "app")
    } == {
        "job": "integrations/alloy",
        "namespace": "llm-judge",
        "container": "alloy",
        "workload_type": "replicaset",  # a Deployment's pod is controlled by its ReplicaSet
        "workload": "grafana-k8s-monitoring-alloy-singleton",  # the ReplicaSet's hash removed
        "app": "alloy-singleton",
    }
    assert LOCAL.collector_pod("alloy-metrics") == "grafana-k8s-monitoring-alloy-metrics-0"


def test_a_healthy_cluster_has_no_dropped_series_and_every_collector_ready() -> None:
    series = LOCAL.healthy(3)
    assert not [s for s in series if s.name == "prometheus_remote_storage_samples_dropped_total"]
    readiness = {
        (
            s.name,
            s.labels.get("statefulset") or s.labels.get("daemonset") or s.labels.get("deployment"),
            s.values,
        )
        for s in series
        if s.name.startswith(("kube_statefulset", "kube_daemonset", "kube_deployment"))
    }
    assert readiness == {
        ("kube_statefulset_replicas", "grafana-k8s-monitoring-alloy-metrics", "1x3"),
        ("kube_statefulset_status_replicas_ready", "grafana-k8s-monitoring-alloy-metrics", "1x3"),
        ("kube_daemonset_status_desired_number_scheduled", "grafana-k8s-monitoring-alloy-logs", "2x3"),
        ("kube_daemonset_status_number_ready", "grafana-k8s-monitoring-alloy-logs", "2x3"),
        ("kube_daemonset_status_desired_number_scheduled", "grafana-k8s-monitoring-alloy-receiver", "2x3"),
        ("kube_daemonset_status_number_ready", "grafana-k8s-monitoring-alloy-receiver", "2x3"),
        ("kube_deployment_spec_replicas", "grafana-k8s-monitoring-alloy-singleton", "1x3"),
        ("kube_deployment_status_replicas_available", "grafana-k8s-monitoring-alloy-singleton", "1x3"),
    }
