"""AlloyMonitoring: Grafana's k8s-monitoring Helm release, which runs every Alloy collector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from builders.config import Platform
from builders.features import FeatureToggles
from builders.k8s_monitoring import MonitoringSpec, build_values
from builders.k8s_monitoring_names import COLLECTORS, monitoring_names

CHART = "k8s-monitoring"
CHART_REPOSITORY = "https://grafana.github.io/helm-charts"
RELEASE_NAME = "grafana-k8s-monitoring"
# Helm waits for the operator, kube-state-metrics, node-exporter and OpenCost to be ready.
# On a fresh local cluster pulling their images takes a few minutes; ten leave room for that
# without hiding a crash-looping pod for long. (The collectors themselves are created by the
# Alloy Operator after Helm returns, from the Alloy resources of the release.)
READY_TIMEOUT_SECONDS = 600


@dataclass
class AlloyMonitoringArgs:
    cluster_name: str
    namespace: pulumi.Input[str]
    platform: Platform
    chart_version: str
    features: FeatureToggles
    prometheus_url: pulumi.Input[str]
    loki_url: pulumi.Input[str]
    otlp_url: pulumi.Input[str]
    k8s_provider: k8s.Provider
    # The credentials Secret (or whatever produces it) must exist before the collectors start.
    credentials: Sequence[pulumi.Resource] = ()
    release_name: str = RELEASE_NAME
    metrics_service_account_annotations: pulumi.Input[Mapping[str, str]] = field(default_factory=dict)
    metrics_extra_config: str = ""
    # Changes when OpenCost's token does (its expiry): rolls OpenCost's pod onto a rotated token.
    opencost_credentials_version: pulumi.Input[str] = ""
    # Config `podLogsNamespaces`: None, `namespace` alone; ("*",), every namespace.
    pod_logs_namespaces: tuple[str, ...] | None = None


class AlloyMonitoring(pulumi.ComponentResource):
    release_name: pulumi.Output[str]
    receiver_host: pulumi.Output[str]
    otlp_grpc_port: pulumi.Output[int]
    otlp_http_port: pulumi.Output[int]
    service_accounts: pulumi.Output[dict[str, str]]
    metrics_service_account: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlloyMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:AlloyMonitoring", name, None, opts)

        def values(resolved: list) -> dict:
            namespace, prometheus_url, loki_url, otlp_url, annotations, opencost_version = resolved
            return build_values(
                MonitoringSpec(
                    cluster_name=args.cluster_name,
                    namespace=namespace,
                    release_name=args.release_name,
                    platform=args.platform,
                    prometheus_url=prometheus_url,
                    loki_url=loki_url,
                    otlp_url=otlp_url,
                    features=args.features,
                    metrics_service_account_annotations=annotations,
                    metrics_extra_config=args.metrics_extra_config,
                    opencost_credentials_version=opencost_version,
                    pod_logs_namespaces=args.pod_logs_namespaces,
                )
            )

        release = k8s.helm.v3.Release(
            f"{name}-release",
            name=args.release_name,
            namespace=args.namespace,
            chart=CHART,
            version=args.chart_version,  # exact; validated by the stack config
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            values=pulumi.Output.all(
                args.namespace,
                args.prometheus_url,
                args.loki_url,
                args.otlp_url,
                args.metrics_service_account_annotations,
                args.opencost_credentials_version,
            ).apply(values),
            atomic=True,  # a failed install or upgrade is rolled back ...
            cleanup_on_fail=True,  # ... and what it created is deleted
            timeout=READY_TIMEOUT_SECONDS,
            create_namespace=False,
            max_history=10,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.k8s_provider, depends_on=list(args.credentials)
            ),
        )

        # Names come from the arguments, not from the release's outputs: the IRSA role of the
        # metrics collector needs its ServiceAccount name before the release (whose values carry
        # the role's ARN) can be declared. Components that need the collectors running depend
        # on this component instead.
        names = pulumi.Output.from_input(args.namespace).apply(
            lambda namespace: monitoring_names(args.release_name, namespace)
        )
        self.release_name = release.name.apply(str)
        self.receiver_host = names.apply(lambda n: n.receiver_host)
        self.otlp_grpc_port = names.apply(lambda n: n.otlp_grpc_port)
        self.otlp_http_port = names.apply(lambda n: n.otlp_http_port)
        self.service_accounts = names.apply(lambda n: {c: n.service_account(c) for c in COLLECTORS})
        self.metrics_service_account = names.apply(lambda n: n.metrics_service_account)
        self.register_outputs(
            {
                "release_name": self.release_name,
                "receiver_host": self.receiver_host,
                "otlp_grpc_port": self.otlp_grpc_port,
                "otlp_http_port": self.otlp_http_port,
                "service_accounts": self.service_accounts,
                "metrics_service_account": self.metrics_service_account,
            }
        )
