from __future__ import annotations

import pytest

from builders.features import FeatureToggles
from builders.grafana_cloud import (
    ALLOWED_COLLECTOR_SCOPES,
    AUTOMATION_ROLE,
    OPENCOST_SCOPES,
    allowed_scopes,
    collector_scopes,
    loki_push_url,
    stack_data_source_names,
)
from builders.grafana_objects import collector_policy_name, opencost_policy_name, verify_policy_name
from builders.verification import VERIFY_SCOPES


def test_all_features_need_exactly_the_three_write_scopes():
    assert collector_scopes(FeatureToggles()) == ("metrics:write", "logs:write", "traces:write")


# (podLogs, clusterEvents, applicationObservability) -> scopes: every combination, written out.
# Pod logs and cluster events go to Loki; the OTLP receiver sends traces to Tempo, metrics to Mimir
# and the services' OTLP logs to Loki (tests/tools/test_chart_render.py shows the receiver's loki.write).
SCOPES = {
    (False, False, False): ("metrics:write",),
    (True, False, False): ("metrics:write", "logs:write"),
    (False, True, False): ("metrics:write", "logs:write"),
    (True, True, False): ("metrics:write", "logs:write"),
    (False, False, True): ("metrics:write", "logs:write", "traces:write"),
    (True, False, True): ("metrics:write", "logs:write", "traces:write"),
    (False, True, True): ("metrics:write", "logs:write", "traces:write"),
    (True, True, True): ("metrics:write", "logs:write", "traces:write"),
}
# Toggles that send no logs or traces; they must not change the scopes either way.
OTHERS = ("cluster_metrics", "cost_metrics", "annotation_autodiscovery", "collector_self_metrics")


@pytest.mark.parametrize("others_on", [True, False], ids=["others-on", "others-off"])
@pytest.mark.parametrize(("toggles", "expected"), SCOPES.items(), ids=str)
def test_scopes_for_every_combination_of_the_log_and_trace_features(toggles, expected, others_on):
    pod_logs, cluster_events, application_observability = toggles
    features = FeatureToggles(
        pod_logs=pod_logs,
        cluster_events=cluster_events,
        application_observability=application_observability,
        **dict.fromkeys(OTHERS, others_on),
    )
    assert collector_scopes(features) == expected


def test_scopes_never_leave_the_allowed_set():
    for toggles in (FeatureToggles(), FeatureToggles(cost_metrics=False, pod_logs=False)):
        assert set(collector_scopes(toggles)) <= set(ALLOWED_COLLECTOR_SCOPES)


def test_loki_push_url_from_base_url():
    assert (
        loki_push_url("https://logs-prod-006.grafana.net")
        == "https://logs-prod-006.grafana.net/loki/api/v1/push"
    )
    assert (
        loki_push_url("https://logs-prod-006.grafana.net/")
        == "https://logs-prod-006.grafana.net/loki/api/v1/push"
    )


def test_each_policy_is_told_apart_by_name() -> None:
    assert allowed_scopes(opencost_policy_name("c1")) == OPENCOST_SCOPES == ("metrics:read",)
    assert allowed_scopes(collector_policy_name("c1")) == ALLOWED_COLLECTOR_SCOPES
    assert allowed_scopes(verify_policy_name("c1")) == VERIFY_SCOPES
    # Any other name is no policy of this program: no scopes are its own (the policy pack refuses it).
    for other in ("anything-else", "-alloy-collectors", "c1-alloy-collector", "c1-opencost-token", ""):
        assert allowed_scopes(other) is None, other


def test_the_data_sources_grafana_cloud_provisions_and_the_automation_role():
    # Every Grafana Cloud stack comes with grafanacloud-<slug>-prom, -logs and -traces data sources;
    # the program's service account is an organization Admin (alerting provisioning, data sources).
    assert stack_data_source_names("llmjudge") == {
        "prometheus": "grafanacloud-llmjudge-prom",
        "loki": "grafanacloud-llmjudge-logs",
        "tempo": "grafanacloud-llmjudge-traces",
    }
    assert AUTOMATION_ROLE == "Admin"
