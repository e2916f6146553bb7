"""Grafana Cloud facts derived from config: the collectors' scopes and endpoint shapes."""

from __future__ import annotations

from builders.features import FeatureToggles
from builders.grafana_objects import COLLECTOR_POLICY_SUFFIX, OPENCOST_POLICY_SUFFIX, VERIFY_POLICY_SUFFIX
from builders.verification import VERIFY_SCOPES

# Scopes the collectors may ever be given; anything else is outside this program's job.
ALLOWED_COLLECTOR_SCOPES = ("metrics:write", "logs:write", "traces:write")
# OpenCost reads its cost inputs back from the stack's Mimir, which takes `metrics:read`
# (https://grafana.com/docs/grafana-cloud/security-and-account-management/authentication-and-permissions/access-policies/#scopes).
# It gets a policy and token of its own holding only that scope, so the collectors' token never
# reads and OpenCost's never writes (README "The two Grafana Cloud credentials in the cluster").
OPENCOST_SCOPES = ("metrics:read",)


# The label k8s-monitoring stamps on every series and log stream this cluster's collectors send
# (chart 4.4.0 destinations/prometheus-values.yaml and loki-values.yaml `clusterLabels: [cluster,
# k8s.cluster.name]`, written as `external_labels` by templates/destinations/_destination_prometheus.tpl
# and _destination_loki.tpl); the value is `cluster.name`, i.e. clusterName.
CLUSTER_LABEL = "cluster"


def cluster_selector(cluster_name: str) -> str:
    """The label selector of a read policy that may see this cluster's metrics and logs only.

    Grafana Cloud applies an access policy's label selectors to metrics and logs reads, the
    selectors in Prometheus syntax ("Use label-based access control (LBAC) with access policies",
    https://grafana.com/docs/grafana-cloud/security-and-account-management/authentication-and-permissions/access-policies/label-access-policies/);
    traces have no such selectors at the access-policy level (grafana/grafana#127192), so a
    `traces:read` scope still reads every cluster's traces of the stack."""
    return f'{{{CLUSTER_LABEL}="{cluster_name}"}}'


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


def allowed_scopes(policy_name: str) -> tuple[str, ...] | None:
    """The most an access policy of this program may grant, told apart by its name
    (builders.grafana_objects): the collectors' only write telemetry, OpenCost's reads metrics, the
    verification policy reads this stack's telemetry. None: the name is none of the three, and the
    policy pack refuses the policy."""
    kinds = (
        (COLLECTOR_POLICY_SUFFIX, ALLOWED_COLLECTOR_SCOPES),
        (OPENCOST_POLICY_SUFFIX, OPENCOST_SCOPES),
        (VERIFY_POLICY_SUFFIX, VERIFY_SCOPES),
    )
    for suffix, scopes in kinds:
        if policy_name.endswith(suffix) and len(policy_name) > len(suffix):
            return scopes
    return None


def stack_data_source_names(stack_slug: str) -> dict[str, str]:
    """The data sources Grafana Cloud provisions in every stack, by kind.

    Their uids differ between stacks, so the program looks them up by these names."""
    return {
        "prometheus": f"grafanacloud-{stack_slug}-prom",
        "loki": f"grafanacloud-{stack_slug}-logs",
        "tempo": f"grafanacloud-{stack_slug}-traces",
    }


# The organization's Admin basic role, not Editor: the provider manages rule groups and contact
# points through the alerting provisioning API, and reads the data
# sources, and those permissions (fixed:alerting.provisioning:writer, fixed:datasources:reader)
# come with Admin only. It is not a Grafana server admin. https://grafana.com/docs/grafana/latest/administration/roles-and-permissions/access-control/rbac-fixed-basic-role-definitions/
AUTOMATION_ROLE = "Admin"
