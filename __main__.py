"""LLM Judge observability: one program, two stacks (local, eks). This file only composes."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pulumiverse_grafana as grafana

from builders.grafana_cloud import collector_scopes
from components.alloy_monitoring import AlloyMonitoring, AlloyMonitoringArgs
from components.app_instrumentation import AppInstrumentation, AppInstrumentationArgs
from components.credentials_secret import CredentialsSecret, CredentialsSecretArgs
from components.grafana_cloud_stack import GrafanaCloudStack, GrafanaCloudStackArgs
from components.namespace import AppNamespace, AppNamespaceArgs
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
    if config.platform == "local":
        k8s_provider = k8s.Provider("local-cluster", context=config.kube_context)
    else:
        raise pulumi.RunError(
            "platform eks: the EKS cluster, IRSA roles and External Secrets are not built yet"
        )

    namespace = AppNamespace("llm-judge", AppNamespaceArgs(name=config.namespace, k8s_provider=k8s_provider))
    credentials = CredentialsSecret(
        "grafana-cloud-credentials",
        CredentialsSecretArgs(
            namespace=namespace.name,
            instance_id=cloud.stack_id,
            token=cloud.collector_token,
            otlp_endpoint=cloud.otlp_url,
            prometheus_endpoint=cloud.prometheus_remote_write_endpoint,
            prometheus_user=cloud.prometheus_user_id,
            loki_endpoint=cloud.loki_push_url,
            loki_user=cloud.logs_user_id,
            k8s_provider=k8s_provider,
        ),
    )

    monitoring = AlloyMonitoring(
        "k8s-monitoring",
        AlloyMonitoringArgs(
            cluster_name=config.cluster_name,
            namespace=namespace.name,
            platform=config.platform,
            chart_version=config.chart_version,
            features=config.features,
            prometheus_url=cloud.prometheus_remote_write_endpoint,
            loki_url=cloud.loki_push_url,
            otlp_url=cloud.otlp_url,
            k8s_provider=k8s_provider,
            credentials=[credentials],
        ),
    )

    AppInstrumentation(
        "llm-judge-services",
        AppInstrumentationArgs(
            namespace=namespace.name,
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
            k8s_provider=k8s_provider,
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
        "namespace": namespace.name,
        "credentialsSecretName": credentials.secret_name,
        "k8sMonitoringRelease": monitoring.release_name,
        "otlpReceiverHost": monitoring.receiver_host,
    }
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


if __name__ == "__main__":
    main()
