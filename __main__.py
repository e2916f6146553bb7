"""LLM Judge observability: one program, two stacks (local, eks). This file only composes."""

from __future__ import annotations

import pulumi
import pulumiverse_grafana as grafana

from builders.grafana_cloud import collector_scopes
from components.alloy_monitoring import AlloyMonitoring, AlloyMonitoringArgs
from components.app_instrumentation import AppInstrumentation, AppInstrumentationArgs
from components.grafana_cloud_stack import GrafanaCloudStack, GrafanaCloudStackArgs
from platforms import eks_cluster, local_cluster
from stackconfig import load_stack_config


def main() -> dict[str, pulumi.Output]:
    config, secrets = load_stack_config()

    cloud_provider = grafana.Provider(
        "grafana-cloud", cloud_access_policy_token=secrets.grafana_cloud_api_token
    )
    cloud = GrafanaCloudStack(
        "grafana-cloud",
        GrafanaCloudStackArgs(
            stack_slug=config.grafana_cloud_stack_slug,
            cluster_name=config.cluster_name,
            scopes=collector_scopes(config.features),
            token_policy=config.collector_token,
            cloud_provider=cloud_provider,
        ),
    )

    # The one place the platforms differ: where the cluster comes from and how the
    # credentials reach it.
    cluster = local_cluster(config, cloud) if config.platform == "local" else eks_cluster(config, cloud)

    monitoring = AlloyMonitoring(
        "k8s-monitoring",
        AlloyMonitoringArgs(
            cluster_name=config.cluster_name,
            namespace=cluster.namespace.name,
            platform=config.platform,
            chart_version=config.chart_version,
            features=config.features,
            prometheus_url=cloud.prometheus_remote_write_endpoint,
            loki_url=cloud.loki_push_url,
            otlp_url=cloud.otlp_url,
            k8s_provider=cluster.k8s_provider,
            credentials=cluster.credentials,
            metrics_service_account_annotations=cluster.metrics_service_account_annotations,
            metrics_extra_config=cluster.metrics_extra_config,
        ),
    )
    cluster.after_monitoring(monitoring)

    AppInstrumentation(
        "llm-judge-services",
        AppInstrumentationArgs(
            namespace=cluster.namespace.name,
            services=config.services,
            receiver_host=monitoring.receiver_host,
            otlp_grpc_port=monitoring.otlp_grpc_port,
            otlp_http_port=monitoring.otlp_http_port,
            deployment_environment=config.deployment_environment,
            cluster_name=config.cluster_name,
            trace_sample_rate=config.trace_sample_rate,
            export_logs_to_loki=config.features.pod_logs,
            metrics_enabled=config.features.annotation_autodiscovery,
            app_config_map=config.app_config_map,
            app_config_key=config.app_config_key,
            k8s_provider=cluster.k8s_provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[monitoring]),
    )

    outputs: dict[str, pulumi.Output] = {
        "grafanaCloudStackId": cloud.stack_id,
        "grafanaUrl": cloud.grafana_url,
        "prometheusRemoteWriteEndpoint": cloud.prometheus_remote_write_endpoint,
        "lokiPushUrl": cloud.loki_push_url,
        "otlpUrl": cloud.otlp_url,
        "collectorTokenExpiresAt": cloud.collector_token_expires_at,
        "namespace": cluster.namespace.name,
        "k8sMonitoringRelease": monitoring.release_name,
        "otlpReceiverHost": monitoring.receiver_host,
        **cluster.outputs,
    }
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


if __name__ == "__main__":
    main()
