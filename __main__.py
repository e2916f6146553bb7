"""LLM Judge observability: one program, two stacks (local, eks). This file only composes."""

from __future__ import annotations

import pulumi
import pulumiverse_grafana as grafana

from builders.cloudwatch import DEFAULT_INFERENCE_QUEUE
from builders.config import StackConfig, epoch_seconds
from builders.grafana_cloud import collector_scopes
from builders.grafana_com import dashboards_for_platform
from components.alert_rules import AlertRules, AlertRulesArgs
from components.alloy_monitoring import AlloyMonitoring, AlloyMonitoringArgs
from components.app_instrumentation import AppInstrumentation, AppInstrumentationArgs
from components.dashboards import Dashboards, DashboardsArgs
from components.grafana_cloud_stack import GrafanaCloudStack, GrafanaCloudStackArgs
from components.stack_grafana import StackGrafana, StackGrafanaArgs
from components.verification_access import VerificationAccess, VerificationAccessArgs
from platforms import Cluster, deferred, eks_cluster, local_cluster, settles_deferred_outputs
from stackconfig import StackSecrets, load_stack_config


@settles_deferred_outputs
def main() -> dict[str, pulumi.Output]:
    config, secrets = load_stack_config()

    # Nothing changes before the cluster preflight has passed (dynamic/cluster_preflight.py): this
    # provider, and so every Grafana Cloud lookup and resource, waits for it. The platform declares
    # the preflight below; the deferred Output lets this provider wait for it from here.
    preflight, resolve_preflight = deferred("cluster preflight")
    cloud_provider = grafana.Provider(
        "grafana-cloud",
        cloud_access_policy_token=secrets.grafana_cloud_api_token,
        opts=pulumi.ResourceOptions(depends_on=preflight),
    )
    cloud = GrafanaCloudStack(
        "grafana-cloud",
        GrafanaCloudStackArgs(
            stack_slug=config.grafana_cloud_stack_slug,
            cluster_name=config.cluster_name,
            scopes=collector_scopes(config.features),
            token_policy=config.collector_token,
            cloud_provider=cloud_provider,
            manage_grafana=config.features.alerting or config.features.dashboards,
            opencost_reader=config.features.cost_metrics,
        ),
    )

    # The one place the platforms differ: where the cluster comes from and how the
    # credentials reach it.
    cluster = local_cluster(config, cloud) if config.platform == "local" else eks_cluster(config, cloud)
    resolve_preflight(pulumi.Output.from_input([cluster.preflight]))

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
            opencost_credentials_version=cloud.opencost_token_expires_at or "",
            pod_logs_namespaces=config.pod_logs_namespaces,
        ),
    )
    cluster.after_monitoring(monitoring)

    if config.features.app_instrumentation:
        instrument_services(config, cluster, monitoring)

    if cloud.grafana_token is not None:
        stack_grafana_content(config, secrets, cloud)

    # Read-only access for `python -m tools.verify` (README "Verify").
    verification = VerificationAccess(
        "verify",
        VerificationAccessArgs(
            cluster_name=config.cluster_name,
            stack_id=cloud.stack_id,
            region=cloud.region,
            token_policy=config.collector_token,
            cloud_provider=cloud_provider,
        ),
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
        "verifyEndpoints": cloud.query_endpoints,
        "verifyToken": verification.token,  # secret
        "verifyTokenExpiresAt": verification.token_expires_at,
        **cluster.outputs,
    }
    if cloud.opencost_token_expires_at is not None:
        outputs["opencostTokenExpiresAt"] = cloud.opencost_token_expires_at
    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def instrument_services(config: StackConfig, cluster: Cluster, monitoring: AlloyMonitoring) -> None:
    """OpenTelemetry settings of the services that already run in the namespace."""
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
            # The services' OTLP metrics go through the receiver: every service alert and the LLM Judge
            # dashboard read them. Annotation autodiscovery scrapes their /metrics, a source apart.
            send_otlp_metrics=config.features.application_observability,
            scrape_annotations=config.features.annotation_autodiscovery,
            app_config_map=config.app_config_map,
            app_config_key=config.app_config_key,
            k8s_provider=cluster.k8s_provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[monitoring]),
    )


def stack_grafana_content(config: StackConfig, secrets: StackSecrets, cloud: GrafanaCloudStack) -> None:
    """This cluster's folder, alert rules, contact points and dashboards in the stack's Grafana, through
    its own provider. Each is the cluster's own (builders/grafana_objects.py): other clusters' stacks
    share the Grafana stack, never an object in it."""
    assert cloud.grafana_token is not None
    grafana_stack = grafana.Provider("grafana-stack", url=cloud.grafana_url, auth=cloud.grafana_token)
    stack_grafana = StackGrafana(
        "stack-grafana",
        StackGrafanaArgs(
            stack_slug=config.grafana_cloud_stack_slug,
            cluster_name=config.cluster_name,
            grafana_provider=grafana_stack,
            provider_credentials=[cloud.grafana_token_resource] if cloud.grafana_token_resource else [],
        ),
    )
    queues = config.eks.sqs_queues if config.eks else ()
    services = [service.name for service in config.services]
    if config.features.alerting:
        AlertRules(
            "alerts",
            AlertRulesArgs(
                folder_uid=stack_grafana.folder_uid,
                namespace=config.namespace,
                cluster_name=config.cluster_name,
                features=config.features,
                services=services,
                sqs_queues=queues,
                runbook_base_url=config.runbook_base_url,
                # The first of the cluster's tokens to expire (the collectors', OpenCost's).
                earliest_token_expiry_epoch=cloud.cluster_tokens_expire_at.apply(
                    lambda expiries: min(epoch_seconds(e) for e in expiries)
                ),
                prometheus_uid=stack_grafana.data_sources.apply(lambda ds: ds.prometheus_uid),
                email_addresses=config.alert_email_addresses,
                slack_webhook_url=secrets.slack_webhook_url,
                pagerduty_integration_key=secrets.pagerduty_integration_key,
                grafana_provider=grafana_stack,
                inference_queue=config.eks.inference_queue if config.eks else DEFAULT_INFERENCE_QUEUE,
            ),
        )
    if config.features.dashboards:
        Dashboards(
            "dashboards",
            DashboardsArgs(
                folder_uid=stack_grafana.folder_uid,
                data_sources=stack_grafana.data_sources,
                services=services,
                namespace=config.namespace,
                sqs_queues=queues,
                prebuilt=dashboards_for_platform(config.platform),
                grafana_provider=grafana_stack,
                cluster_name=config.cluster_name,
                roles=config.service_roles,
            ),
        )


if __name__ == "__main__":
    main()
