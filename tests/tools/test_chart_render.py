"""Render both stacks' values with the real k8s-monitoring chart (helm-python-sdk, no helm binary).

The values are the program's own: each stack is run under mocks exactly as the offline synth
runs it. Runs only when K8S_MONITORING_CHART points at the chart (directory or .tgz); one render
per stack, shared by all tests of that stack.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from builders.credentials import KEYS, SECRET_NAME
from builders.features import FeatureToggles
from builders.k8s_monitoring import (
    METRICS_DESTINATION,
    OPENCOST_CREDENTIALS_ANNOTATION,
    MonitoringSpec,
    build_values,
    prometheus_query_url,
    workloads,
)
from builders.k8s_monitoring_names import COLLECTOR_WORKLOAD_KINDS, COLLECTORS, monitoring_names
from tests.support import collector_config, rendered_manifests, rendered_values, stack_values
from tools.rendered_pipeline import parse_alloy, string_list

CHART_ENV = "K8S_MONITORING_CHART"
RELEASE = "grafana-k8s-monitoring"
NAMESPACE = "llm-judge"
NAMES = monitoring_names(RELEASE, NAMESPACE)
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job")


@dataclass(frozen=True)
class Rendered:
    platform: str
    values: dict[str, Any]

    @property
    def cluster_name(self) -> str:
        return str(self.values["cluster"]["name"])

    @property
    def prometheus_url(self) -> str:
        return str(self.values["destinations"][METRICS_DESTINATION]["url"])


@pytest.fixture(params=["local", "eks"])
def rendered(request: pytest.FixtureRequest) -> tuple[Rendered, list[dict[str, Any]]]:
    """(the stack's values, manifests) for one stack; rendered once per test session."""
    platform = request.param
    return Rendered(platform, stack_values(platform)), rendered_manifests(platform)


def _of_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _collector_config(manifests: list[dict[str, Any]], collector: str) -> str:
    return collector_config(manifests, collector)


def test_alloy_collectors(rendered: tuple[Rendered, list[dict[str, Any]]]) -> None:
    _, manifests = rendered
    alloys = _of_kind(manifests, "Alloy")
    assert set(alloys) == {NAMES.collector(c) for c in COLLECTORS}
    kinds = {name: a["spec"]["controller"]["type"] for name, a in alloys.items()}
    assert kinds == {
        NAMES.collector("alloy-metrics"): "statefulset",
        NAMES.collector("alloy-logs"): "daemonset",
        NAMES.collector("alloy-receiver"): "daemonset",
        NAMES.collector("alloy-singleton"): "deployment",
    }
    # The kinds the collector-readiness alert reads from kube-state-metrics.
    assert kinds == {NAMES.collector(c): kind for c, kind in COLLECTOR_WORKLOAD_KINDS.items()}
    assert alloys[NAMES.metrics_collector]["spec"]["alloy"]["clustering"]["enabled"] is True
    assert alloys[NAMES.collector("alloy-logs")]["spec"]["alloy"]["mounts"]["varlog"] is True


def test_receiver_ports(rendered: tuple[Rendered, list[dict[str, Any]]]) -> None:
    _, manifests = rendered
    receiver = _of_kind(manifests, "Alloy")[NAMES.receiver_service]["spec"]
    ports = {p["name"]: p["port"] for p in receiver["alloy"]["extraPorts"]}
    assert ports == {"otlp-grpc": 4317, "otlp-http": 4318}
    assert receiver["service"]["internalTrafficPolicy"] == "Local"
    config = _collector_config(manifests, "alloy-receiver")
    assert 'endpoint = "0.0.0.0:4317"' in config and 'endpoint = "0.0.0.0:4318"' in config


def test_the_receiver_sends_otlp_logs_to_loki(rendered: tuple[Rendered, list[dict[str, Any]]]) -> None:
    """applicationObservability alone sends logs: the collectors' access policy needs logs:write
    whenever it is on (builders.grafana_cloud.collector_scopes)."""
    _, manifests = rendered
    config = _collector_config(manifests, "alloy-receiver")
    assert "otelcol.exporter.loki.grafana_cloud_logs.input" in config  # the logs pipeline's output
    assert "forward_to = [loki.write.grafana_cloud_logs.receiver]" in config
    assert 'loki.write "grafana_cloud_logs"' in config


def test_what_the_pipeline_alerts_rely_on(rendered: tuple[Rendered, list[dict[str, Any]]]) -> None:
    """Facts builders/alerts.py and tools/pipeline_series.py rely on, in the rendered configs."""
    stack, manifests = rendered
    metrics = _collector_config(manifests, "alloy-metrics")
    labels = f'"cluster" = "{stack.cluster_name}",\n    "k8s_cluster_name" = "{stack.cluster_name}",'
    for collector in ("alloy-metrics", "alloy-receiver"):
        config = _collector_config(manifests, collector)
        # Every series carries `cluster` (TelemetryPipelineSilent selects on it) ...
        assert f"external_labels = {{\n    {labels}" in config, collector
        # ... and 429s are retried, not counted as failed samples (AlloyRemoteWriteFailing).
        assert "retry_on_http_429 = true" in config
    # The services' OTLP metrics carry `cluster` too (the rules and the dashboard select on it): the
    # receiver's application_observability sends them to otelcol.exporter.prometheus, which turns no
    # resource attribute into a label and forwards to the remote write whose external labels add it.
    receiver = _collector_config(manifests, "alloy-receiver")
    assert (
        "metrics_destinations = [\n    otelcol.exporter.prometheus.grafana_cloud_metrics.input,\n  ]"
        in receiver
    )
    exporter = _block(receiver, 'otelcol.exporter.prometheus "grafana_cloud_metrics"')
    assert "resource_to_telemetry_conversion = false" in exporter
    assert "forward_to = [prometheus.remote_write.grafana_cloud_metrics.receiver]" in exporter
    remote_write = _block(receiver, 'prometheus.remote_write "grafana_cloud_metrics"')
    assert f"external_labels = {{\n    {labels}" in remote_write
    # The pod logs too (the LLM Judge dashboard's log panels select `cluster`).
    pod_logs = _block(_collector_config(manifests, "alloy-logs"), 'loki.write "grafana_cloud_logs"')
    assert f"external_labels = {{\n    {labels}" in pod_logs
    # Only Running and ready collector pods are scraped: a Pending one has no `up` at all.
    assert 'regex = coalesce(argument.port_name.value, "metrics") + "@Running@true@false"' in metrics
    assert 'job_label = "integrations/alloy"' in metrics


def _block(config: str, component: str) -> str:
    """The body of one Alloy component block (the chart closes each with `} // <component>`)."""
    return config.split(f"{component} {{", 1)[1].split(f"}} // {component}", 1)[0]


def _secret_blocks(config: str) -> dict[str, str]:
    """Alloy component label -> body of each remote.kubernetes.secret block."""
    pattern = r'remote\.kubernetes\.secret "(\w+)" \{(.*?)\}'
    return dict(re.findall(pattern, config, flags=re.DOTALL))


def test_destinations_read_our_secret_and_keys(rendered: tuple[Rendered, list[dict[str, Any]]]) -> None:
    _, manifests = rendered
    user_keys = {
        "grafana_cloud_metrics": KEYS.prometheus_user,
        "grafana_cloud_logs": KEYS.loki_user,
        "grafana_cloud_traces": KEYS.instance_id,
    }
    config = _collector_config(manifests, "alloy-receiver")  # the receiver uses all three
    blocks = _secret_blocks(config)
    assert set(blocks) == set(user_keys)
    for label, user_key in user_keys.items():
        assert f'name      = "{SECRET_NAME}"' in blocks[label]
        assert f'namespace = "{NAMESPACE}"' in blocks[label]
        assert f'remote.kubernetes.secret.{label}.data["{user_key}"]' in config
        assert f'remote.kubernetes.secret.{label}.data["{KEYS.token}"]' in config
    assert not [s for s in manifests if s["kind"] == "Secret"], "the chart must not create credential Secrets"


def test_opencost_reads_grafana_cloud_with_its_own_token(
    rendered: tuple[Rendered, list[dict[str, Any]]],
) -> None:
    """The chart accepts `metricsSource: custom` and wires OpenCost's own key, not the collectors'."""
    spec, manifests = rendered
    (deployment,) = [d for name, d in _of_kind(manifests, "Deployment").items() if name.endswith("-opencost")]
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PROMETHEUS_SERVER_ENDPOINT"]["value"] == prometheus_query_url(spec.prometheus_url)
    assert env["CLUSTER_ID"]["value"] == spec.cluster_name
    for variable, key in (
        ("DB_BASIC_AUTH_USERNAME", KEYS.prometheus_user),
        ("DB_BASIC_AUTH_PW", KEYS.opencost_token),
    ):
        assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": SECRET_NAME, "key": key}
    # Read at start only, so the pod template carries the token's version: a rotation rolls it.
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    version = spec.values["telemetryServices"]["opencost"]["podAnnotations"][OPENCOST_CREDENTIALS_ANNOTATION]
    assert version and annotations[OPENCOST_CREDENTIALS_ANNOTATION] == version
    # No other workload of the release is handed OpenCost's token.
    holders = {
        m["metadata"]["name"]
        for m in manifests
        if m["kind"] in WORKLOAD_KINDS and KEYS.opencost_token in json.dumps(m)
    }
    assert holders == {deployment["metadata"]["name"]}


def _has_requests_and_limits(resources: dict[str, Any] | None) -> bool:
    resources = resources or {}
    return all({"cpu", "memory"} <= set(resources.get(kind) or {}) for kind in ("requests", "limits"))


def test_every_container_has_requests_and_limits(
    rendered: tuple[Rendered, list[dict[str, Any]]],
) -> None:
    _, manifests = rendered
    missing = []
    for manifest in manifests:
        if manifest["kind"] in WORKLOAD_KINDS:
            pod = manifest["spec"]["template"]["spec"]
            for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
                if not _has_requests_and_limits(container.get("resources")):
                    missing.append(f"{manifest['kind']}/{manifest['metadata']['name']}/{container['name']}")
        elif manifest["kind"] == "Alloy":
            spec = manifest["spec"]
            for part in ("alloy", "configReloader"):
                if not _has_requests_and_limits(spec.get(part, {}).get("resources")):
                    missing.append(f"Alloy/{manifest['metadata']['name']}/{part}")
    assert missing == []


def test_profile_specifics(rendered: tuple[Rendered, list[dict[str, Any]]]) -> None:
    spec, manifests = rendered
    alloys = _of_kind(manifests, "Alloy")
    metrics = alloys[NAMES.metrics_collector]["spec"]
    (node_exporter,) = _of_kind(manifests, "DaemonSet").values()
    tolerations = node_exporter["spec"]["template"]["spec"].get("tolerations")
    if spec.platform == "eks":
        for collector in ("alloy-logs", "alloy-receiver"):
            assert alloys[NAMES.collector(collector)]["spec"]["controller"]["tolerations"] == [
                {"operator": "Exists"}
            ]
        assert tolerations == [{"operator": "Exists"}]
        role_arn = spec.values["collectors"]["alloy-metrics"]["serviceAccount"]["annotations"]
        assert metrics["serviceAccount"]["annotations"] == role_arn
        assert role_arn["eks.amazonaws.com/role-arn"].endswith(":role/llm-judge-eks-prod-alloy-metrics")
        config = _collector_config(manifests, "alloy-metrics")
        assert 'prometheus.exporter.cloudwatch "sqs"' in config
        # The extra config forwards to a component the chart really defines.
        assert "forward_to      = [prometheus.remote_write.grafana_cloud_metrics.receiver]" in config
        assert 'prometheus.remote_write "grafana_cloud_metrics"' in config
    else:
        assert "annotations" not in (metrics.get("serviceAccount") or {})
    # Off unless asked for (features.apiServerMetrics): about 20,000 series nothing here reads.
    assert "kube-apiserver" not in _collector_config(manifests, "alloy-metrics")


@pytest.fixture(scope="module")
def eks_widened() -> list[dict[str, Any]]:
    """The eks stack with what the defaults leave out: the API servers' metrics, every namespace's pod
    logs (features.apiServerMetrics: true, podLogsNamespaces: ["*"]). One render for both."""
    values = stack_values("eks")
    widened = build_values(
        dataclasses.replace(
            _spec(), pod_logs_namespaces=("*",), features=FeatureToggles(api_server_metrics=True)
        )
    )
    values["clusterMetrics"]["apiServer"] = widened["clusterMetrics"]["apiServer"]
    values["podLogsViaLoki"] = widened["podLogsViaLoki"]
    return rendered_values(values)


def test_api_server_metrics_when_asked_for_are_scraped_without_an_allow_list(
    eks_widened: list[dict[str, Any]],
) -> None:
    config = collector_config(eks_widened, "alloy-metrics")
    assert 'job_name = "integrations/kubernetes/kube-apiserver"' in config


def test_node_exporter_mounts_the_host_root_as_every_local_cluster_accepts(
    rendered: tuple[Rendered, list[dict[str, Any]]],
) -> None:
    """Docker Desktop and k3d refuse `mountPropagation: HostToContainer` on the host's / (not a
    shared or slave mount there; prometheus-community/helm-charts #467, #1726): on local the mount
    carries no propagation, which is "None", accepted everywhere. EKS keeps the chart's default."""
    spec, manifests = rendered
    (node_exporter,) = _of_kind(manifests, "DaemonSet").values()
    pod = node_exporter["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "node-exporter"]
    (root,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/host/root"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == root["name"]]
    assert volume["hostPath"]["path"] == "/"
    assert root["readOnly"] is True
    assert "--path.rootfs=/host/root" in container["args"]
    if spec.platform == "local":
        assert "mountPropagation" not in root
    else:
        assert root["mountPropagation"] == "HostToContainer"


def test_annotation_autodiscovery_discovers_only_the_services_namespace(
    rendered: tuple[Rendered, list[dict[str, Any]]],
) -> None:
    """kube-dns and anything else annotated outside the namespace is never discovered, so never scraped."""
    _, manifests = rendered
    root = parse_alloy(_collector_config(manifests, "alloy-metrics"))
    (feature,) = [b for b in root.children if b.kind == "declare" and b.label == "annotation_autodiscovery"]
    discoveries = {b.label: b for b in feature.walk() if b.kind == "discovery.kubernetes"}
    assert {d.attributes["role"] for d in discoveries.values()} == {'"pod"', '"service"'}
    for discovery in discoveries.values():
        namespaces = [c for c in discovery.children if c.kind == "namespaces"]
        assert namespaces, f"discovery.kubernetes {discovery.label!r} watches every namespace"
        assert string_list(namespaces[0].attributes["names"]) == [NAMESPACE], discovery.label


def _pod_log_namespaces(manifests: list[dict[str, Any]]) -> list[str] | None:
    """The namespaces the pod-logs collector discovers pods in; None: every namespace."""
    root = parse_alloy(_collector_config(manifests, "alloy-logs"))
    (feature,) = [b for b in root.children if b.kind == "declare" and b.label == "pod_logs_via_loki"]
    (discovery,) = [b for b in feature.walk() if b.kind == "discovery.kubernetes"]
    assert discovery.attributes["role"] == '"pod"'
    namespaces = [c for c in discovery.children if c.kind == "namespaces"]
    return string_list(namespaces[0].attributes["names"]) if namespaces else None


def test_pod_logs_come_only_from_the_services_namespace(
    rendered: tuple[Rendered, list[dict[str, Any]]],
) -> None:
    """On a shared cluster other teams' pod logs stay theirs: not shipped to this Grafana Cloud stack."""
    _, manifests = rendered
    assert _pod_log_namespaces(manifests) == [NAMESPACE]


def test_pod_logs_of_every_namespace_when_asked_for(eks_widened: list[dict[str, Any]]) -> None:
    assert _pod_log_namespaces(eks_widened) is None  # podLogsNamespaces: ["*"], the chart's `[]`


def _spec() -> MonitoringSpec:
    return MonitoringSpec(
        cluster_name="c",
        namespace=NAMESPACE,
        release_name=RELEASE,
        platform="eks",
        prometheus_url="https://prometheus.example/api/prom/push",
        loki_url="https://logs.example/loki/api/v1/push",
        otlp_url="https://otlp.example/otlp",
    )


# The Alloy chart's `controller.type` values and the workload each becomes (the operator installs
# the Alloy chart with the `Alloy` resource's spec as values).
CONTROLLER_KINDS = {"daemonset": "DaemonSet", "statefulset": "StatefulSet", "deployment": "Deployment"}


@pytest.mark.parametrize("stack", ["local", "eks"])
def test_the_footprint_model_is_what_the_chart_runs(stack: str) -> None:
    """`workloads` (the footprint `node_requests` sums, the collector kinds tools.verify looks up)
    against the render: each workload's kind, pods counted (one per node for a DaemonSet) and its
    containers' resources in order; the operator's removal hooks, Helm hook Jobs run one at a
    time, as one Job of their resources."""
    model = {w.name: w for w in workloads(stack_values(stack))}
    rendered: dict[str, tuple[str, int, list[Any]]] = {}
    jobs: list[list[Any]] = []
    for m in rendered_manifests(stack):
        name = m["metadata"]["name"].removeprefix(f"{RELEASE}-")
        if m["kind"] == "Alloy":
            controller, spec = m["spec"]["controller"], m["spec"]
            resources = [spec["alloy"]["resources"], spec["configReloader"]["resources"]]
            rendered[name] = (
                CONTROLLER_KINDS[controller["type"]],
                controller.get("replicas") or 1,
                resources,
            )
        elif m["kind"] in WORKLOAD_KINDS:
            pod = m["spec"]["template"]["spec"]
            resources = [c["resources"] for c in pod["containers"]]
            if m["kind"] == "Job":
                jobs.append(resources)
            else:
                rendered[name] = (m["kind"], m["spec"].get("replicas") or 1, resources)
    hook = model.pop("alloy-removal-hook")
    assert {n: (w.kind, w.replicas, list(w.containers.values())) for n, w in model.items()} == rendered
    assert (hook.kind, hook.replicas) == ("Job", 1)
    assert jobs and all(resources == list(hook.containers.values()) for resources in jobs)
