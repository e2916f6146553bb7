"""AppInstrumentation: OpenTelemetry wiring of the services, patched onto what the user runs.

The program never owns the services' Deployments or their ConfigMap: it reads them (a missing
one stops the run, naming it) and applies server-side-apply patches that carry only our
fields, under a field manager of our own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_kubernetes as k8s

from builders.app_instrumentation import (
    AppConfigError,
    ReceiverEndpoint,
    ServiceSpec,
    app_config_entries,
    deployment_patch_spec,
    merge_app_config,
    otel_env,
    scrape_annotations,
)

FIELD_MANAGER = "llm-judge-observability"
# Pulumi's patch annotations: our own field manager instead of a random one, and force, so the
# OTEL_* variables a manifest may already set (the plan's phase 4.3) become ours instead of
# failing on a conflict. Force takes over only the fields this patch sends.
# https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
PATCH_ANNOTATIONS = {
    "pulumi.com/patchFieldManager": FIELD_MANAGER,
    "pulumi.com/patchForce": "true",
}


@dataclass
class AppInstrumentationArgs:
    namespace: pulumi.Input[str]
    services: Sequence[ServiceSpec]
    receiver_host: pulumi.Input[str]
    otlp_grpc_port: pulumi.Input[int]
    otlp_http_port: pulumi.Input[int]
    deployment_environment: str
    cluster_name: str
    trace_sample_rate: float
    export_logs_to_loki: bool
    # App config `observability.metrics.enabled`: the services send OTLP metrics (to the receiver).
    send_otlp_metrics: bool
    # The prometheus.io/scrape|port|path pod annotations, for annotation autodiscovery.
    scrape_annotations: bool
    app_config_map: str
    app_config_key: str
    k8s_provider: k8s.Provider


class AppInstrumentation(pulumi.ComponentResource):
    otlp_endpoint: pulumi.Output[str]
    traces_endpoint: pulumi.Output[str]
    patched_deployments: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: AppInstrumentationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:AppInstrumentation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        receiver = pulumi.Output.all(args.receiver_host, args.otlp_grpc_port, args.otlp_http_port).apply(
            lambda r: ReceiverEndpoint(host=r[0], grpc_port=int(r[1]), http_port=int(r[2]))
        )
        namespace = pulumi.Output.from_input(args.namespace)

        self._patch_app_config(name, args, namespace, receiver, child)
        for service in args.services:
            self._patch_deployment(name, args, service, namespace, receiver, child)

        self.otlp_endpoint = receiver.apply(lambda r: r.otlp_http_url)
        self.traces_endpoint = receiver.apply(lambda r: r.traces_url)
        self.patched_deployments = pulumi.Output.from_input([s.name for s in args.services])
        self.register_outputs(
            {
                "otlp_endpoint": self.otlp_endpoint,
                "traces_endpoint": self.traces_endpoint,
                "patched_deployments": self.patched_deployments,
            }
        )

    def _patch_app_config(
        self,
        name: str,
        args: AppInstrumentationArgs,
        namespace: pulumi.Output[str],
        receiver: pulumi.Output[ReceiverEndpoint],
        child: pulumi.ResourceOptions,
    ) -> None:
        existing = k8s.core.v1.ConfigMap.get(
            f"{name}-app-config-existing",
            namespace.apply(lambda ns: f"{ns}/{args.app_config_map}"),
            opts=child,
        )

        def merged(resolved: list) -> str:
            data, endpoint, ns = resolved
            source = f"ConfigMap {ns}/{args.app_config_map} key {args.app_config_key}"
            if args.app_config_key not in (data or {}):
                raise AppConfigError(f"{source} does not exist; keys there: {sorted(data or {})}")
            entries = app_config_entries(
                endpoint, args.trace_sample_rate, args.export_logs_to_loki, args.send_otlp_metrics
            )
            return merge_app_config(data[args.app_config_key], entries, source)

        k8s.core.v1.ConfigMapPatch(
            f"{name}-app-config",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=args.app_config_map, namespace=namespace, annotations=PATCH_ANNOTATIONS
            ),
            data={args.app_config_key: pulumi.Output.all(existing.data, receiver, namespace).apply(merged)},
            # A ConfigMap key is one field for server-side apply: releasing it on destroy would
            # delete the services' whole app config. Destroy leaves the merged config in place.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True)),
        )

    def _patch_deployment(
        self,
        name: str,
        args: AppInstrumentationArgs,
        service: ServiceSpec,
        namespace: pulumi.Output[str],
        receiver: pulumi.Output[ReceiverEndpoint],
        child: pulumi.ResourceOptions,
    ) -> None:
        # Read first: a patch of a missing Deployment would try to create a broken one.
        existing = k8s.apps.v1.Deployment.get(
            f"{name}-{service.name}-existing",
            namespace.apply(lambda ns: f"{ns}/{service.name}"),
            opts=child,
        )

        def spec(resolved: list) -> k8s.apps.v1.DeploymentSpecPatchArgsDict:
            endpoint, ns = resolved
            env = otel_env(service, endpoint, args.deployment_environment, args.cluster_name, ns)
            annotations = scrape_annotations(service) if args.scrape_annotations else {}
            return cast(
                k8s.apps.v1.DeploymentSpecPatchArgsDict, deployment_patch_spec(service, env, annotations)
            )

        # Changing the pod template rolls the Deployment: that is how the services pick up
        # the new environment.
        k8s.apps.v1.DeploymentPatch(
            f"{name}-{service.name}",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=service.name, namespace=namespace, annotations=PATCH_ANNOTATIONS
            ),
            spec=pulumi.Output.all(receiver, namespace).apply(spec),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[existing])),
        )
