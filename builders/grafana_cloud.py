"""Grafana Cloud facts derived from config: the collectors' scopes and endpoint shapes."""

from __future__ import annotations

from builders.features import FeatureToggles

# Scopes the collectors may ever be given; anything else is outside this program's job.
ALLOWED_COLLECTOR_SCOPES = ("metrics:write", "logs:write", "traces:write")


def collector_scopes(features: FeatureToggles) -> tuple[str, ...]:
    """Write scopes for exactly the signals the enabled features send.

    Metrics are always sent (at least the collectors' own); logs when pod logs or cluster events
    are collected, or when the services' OTLP receiver is on: k8s-monitoring's applicationObservability
    forwards the OTLP logs it receives to the Loki destination (the alloy-receiver config has
    `otelcol.exporter.loki` -> `loki.write`; tests/tools/test_chart_render.py checks every combination);
    traces only when the OTLP receiver is on.
    """
    scopes = ["metrics:write"]
    if features.pod_logs or features.cluster_events or features.application_observability:
        scopes.append("logs:write")
    if features.application_observability:
        scopes.append("traces:write")
    return tuple(scopes)


def loki_push_url(logs_url: str) -> str:
    """The stack's `logsUrl` is Loki's base URL; clients push to its push API."""
    return logs_url.rstrip("/") + "/loki/api/v1/push"


def collector_policy_name(cluster_name: str) -> str:
    """Access-policy names are lowercase, digits and '-' and unique per org."""
    return f"{cluster_name}-alloy-collectors"


def stack_data_source_names(stack_slug: str) -> dict[str, str]:
    """The data sources Grafana Cloud provisions in every stack, by kind.

    Their uids differ between stacks, so the program looks them up by these names."""
    return {
        "prometheus": f"grafanacloud-{stack_slug}-prom",
        "loki": f"grafanacloud-{stack_slug}-logs",
        "tempo": f"grafanacloud-{stack_slug}-traces",
    }


def automation_service_account_name(cluster_name: str) -> str:
    return f"{cluster_name}-pulumi"


# The organization's Admin basic role, not Editor: the provider manages rule groups and contact
# points through the alerting provisioning API, and reads the data
# sources, and those permissions (fixed:alerting.provisioning:writer, fixed:datasources:reader)
# come with Admin only. It is not a Grafana server admin. https://grafana.com/docs/grafana/latest/administration/roles-and-permissions/access-control/rbac-fixed-basic-role-definitions/
AUTOMATION_ROLE = "Admin"
