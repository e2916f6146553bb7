"""Feature toggles of the monitoring pipeline, shared by the config parser and the builders."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class FeatureToggles:
    """Which parts of the pipeline a stack turns on. Config key: `features` (camelCase names)."""

    cluster_metrics: bool = True  # kubelet, cAdvisor, kube-state-metrics, node-exporter
    # eks: the Kubernetes API server's metrics. The chart has no allow list for them: every series
    # the API servers expose is sent, about 20,000 on EKS, twice the free tier's whole budget (README
    # "Series bill"), and no dashboard or alert here reads them. Off by default, unlike the other
    # features and DESIGN's eks profile; on for a paid stack that wants them.
    api_server_metrics: bool = False
    cost_metrics: bool = True  # OpenCost
    cluster_events: bool = True
    pod_logs: bool = True
    annotation_autodiscovery: bool = True  # prometheus.io/scrape|port|path
    application_observability: bool = True  # OTLP receiver for the services
    collector_self_metrics: bool = True  # the Alloy collectors' own metrics
    # Patch the services' Deployments and app config (they must already run in the namespace).
    app_instrumentation: bool = True
    alerting: bool = True  # this cluster's alert rules and contact points in the stack's Grafana
    dashboards: bool = True  # the LLM Judge dashboard and the Kubernetes ones

    @classmethod
    def config_names(cls) -> dict[str, str]:
        """camelCase config name -> field name."""
        return {_camel(f.name): f.name for f in fields(cls)}


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.capitalize() for word in rest)
