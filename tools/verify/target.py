"""What tools.verify checks, from the stack's settings file and its outputs.

The settings (Pulumi.<stack>.yaml, parsed by the program's own `parse_config`) say which features
run, which services exist and, on `local`, the kube context; the outputs say where the data is
(`verifyEndpoints`), with what to read it (`verifyToken`), the namespace, the Helm release and, on
`eks`, the cluster's `kubeconfig`. The collectors are derived exactly as the program derives them:
`build_values` + `workloads` (builders/k8s_monitoring.py) and their names from
builders/k8s_monitoring_names.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builders import cloudwatch
from builders.app_instrumentation import ServiceSpec
from builders.config import ConfigError, StackConfig, parse_config
from builders.features import FeatureToggles
from builders.k8s_monitoring import METRICS_RECEIVER, MonitoringSpec, build_values, workloads
from builders.k8s_monitoring_names import COLLECTORS, collector_fullname
from builders.verification import ENDPOINT_KEYS
from tools.program import stack_file_config

# The plan's request flow (DESIGN.md "The platform being observed"): Gateway -> Inference -> Judge.
REQUEST_FLOW: tuple[str, ...] = ("gateway-service", "inference-service", "judge-service")
REQUIRED_OUTPUTS = (
    "namespace",
    "k8sMonitoringRelease",
    "prometheusRemoteWriteEndpoint",
    "lokiPushUrl",
    "otlpUrl",
    "verifyEndpoints",
    "verifyToken",
)


class TargetError(Exception):
    """The stack's settings or outputs do not say what to verify; the message says what is missing."""


@dataclass(frozen=True)
class Collector:
    name: str  # the chart's collector key, e.g. alloy-metrics: the `app` label of its own metrics
    workload: str  # its StatefulSet/DaemonSet/Deployment, e.g. grafana-k8s-monitoring-alloy-metrics
    kind: str  # StatefulSet, DaemonSet or Deployment


@dataclass(frozen=True)
class Target:
    stack: str
    platform: str
    cluster_name: str
    namespace: str
    release: str
    collectors: tuple[Collector, ...]
    services: tuple[ServiceSpec, ...]
    features: FeatureToggles
    trace_sample_rate: float
    runbooks: str  # docs/runbooks.md as the alerts link it (runbookBaseUrl)
    kube_context: str | None

    def runbook(self, anchor: str) -> str:
        return f"{self.runbooks}#{anchor}"


def stack_file_name(stack: str) -> str:
    """`org/project/eks` and `org/eks` are stack `eks`: the CLI reads Pulumi.eks.yaml for them."""
    return stack.rsplit("/", 1)[-1]


def load_config(stack: str, stack_file: Path | None) -> StackConfig:
    name = stack_file_name(stack)
    try:
        raw, secret_keys = stack_file_config(name, stack_file)
    except FileNotFoundError as err:
        raise TargetError(f"no settings file for stack {name!r}: {err.filename}") from None
    try:
        return parse_config(raw, secret_keys, name)
    except ConfigError as err:
        raise TargetError(str(err)) from None


def check_outputs(outputs: Mapping[str, Any]) -> None:
    missing = [key for key in REQUIRED_OUTPUTS if outputs.get(key) in (None, "")]
    endpoints = outputs.get("verifyEndpoints")
    if isinstance(endpoints, Mapping):
        missing += [f"verifyEndpoints.{key}" for key in ENDPOINT_KEYS if not endpoints.get(key)]
    if missing:
        raise TargetError(
            f"the stack outputs lack {', '.join(missing)}: "
            "run `pulumi up` with this version of the program first"
        )


def collectors(config: StackConfig, outputs: Mapping[str, Any]) -> tuple[Collector, ...]:
    """The collectors the release runs, as the program builds its values."""
    extra = ""
    if config.eks is not None:  # platforms.eks_cluster adds the CloudWatch config to alloy-metrics
        extra = cloudwatch.alloy_config(config.eks.region, config.eks.sqs_queues, METRICS_RECEIVER)
    spec = MonitoringSpec(
        cluster_name=config.cluster_name,
        namespace=str(outputs["namespace"]),
        release_name=str(outputs["k8sMonitoringRelease"]),
        platform=config.platform,
        prometheus_url=str(outputs["prometheusRemoteWriteEndpoint"]),
        loki_url=str(outputs["lokiPushUrl"]),
        otlp_url=str(outputs["otlpUrl"]),
        features=config.features,
        metrics_extra_config=extra,
    )
    release = spec.release_name
    return tuple(
        Collector(w.name, collector_fullname(release, w.name), w.kind)
        for w in workloads(build_values(spec))
        if w.name in COLLECTORS
    )


def target(stack: str, config: StackConfig, outputs: Mapping[str, Any]) -> Target:
    check_outputs(outputs)
    return Target(
        stack=stack,
        platform=config.platform,
        cluster_name=config.cluster_name,
        namespace=str(outputs["namespace"]),
        release=str(outputs["k8sMonitoringRelease"]),
        collectors=collectors(config, outputs),
        services=config.services,
        features=config.features,
        trace_sample_rate=config.trace_sample_rate,
        runbooks=config.runbook_base_url,
        kube_context=config.kube_context,
    )
