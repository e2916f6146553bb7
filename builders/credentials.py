"""The one definition of the Grafana Cloud credentials Secret: its name and its keys.

The local stack writes this Secret directly; the eks stack has External Secrets produce a
Secret with the same name and keys; the k8s-monitoring destinations read their usernames and
passwords from it by these key names. Nothing else spells them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

SECRET_NAME = "grafana-cloud-credentials"


@dataclass(frozen=True)
class CredentialKeys:
    """Key names inside the credentials Secret (the names the user's plan uses)."""

    instance_id: str = "GRAFANA_CLOUD_INSTANCE_ID"
    token: str = "GRAFANA_CLOUD_API_KEY"
    otlp_endpoint: str = "GRAFANA_CLOUD_OTLP_ENDPOINT"
    prometheus_endpoint: str = "GRAFANA_CLOUD_PROMETHEUS_ENDPOINT"
    prometheus_user: str = "GRAFANA_CLOUD_PROMETHEUS_USER"
    loki_endpoint: str = "GRAFANA_CLOUD_LOKI_ENDPOINT"
    loki_user: str = "GRAFANA_CLOUD_LOKI_USER"
    # OpenCost's own read-only token (metrics:read), present only while cost metrics are on; the
    # collectors' token (`token`) only writes. builders/k8s_monitoring.py `_opencost`.
    opencost_token: str = "GRAFANA_CLOUD_OPENCOST_API_KEY"

    def all(self) -> tuple[str, ...]:
        """The keys every stack's Secret holds (`opencost_token` only with cost metrics)."""
        return (
            self.instance_id,
            self.token,
            self.otlp_endpoint,
            self.prometheus_endpoint,
            self.prometheus_user,
            self.loki_endpoint,
            self.loki_user,
        )


KEYS = CredentialKeys()


def secret_entries(
    *,
    instance_id: T,
    token: T,
    otlp_endpoint: T,
    prometheus_endpoint: T,
    prometheus_user: T,
    loki_endpoint: T,
    loki_user: T,
    opencost_token: T | None = None,
) -> dict[str, T]:
    """The Secret's entries under their key names; works for plain values and Outputs alike.

    `opencost_token` (OpenCost's read-only token) is an entry only when there is one."""
    entries = {
        KEYS.instance_id: instance_id,
        KEYS.token: token,
        KEYS.otlp_endpoint: otlp_endpoint,
        KEYS.prometheus_endpoint: prometheus_endpoint,
        KEYS.prometheus_user: prometheus_user,
        KEYS.loki_endpoint: loki_endpoint,
        KEYS.loki_user: loki_user,
    }
    if opencost_token is not None:
        entries[KEYS.opencost_token] = opencost_token
    return entries
