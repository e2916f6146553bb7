from __future__ import annotations

from builders.features import FeatureToggles
from builders.grafana_cloud import (
    ALLOWED_COLLECTOR_SCOPES,
    OPENCOST_SCOPES,
    allowed_scopes,
    collector_policy_name,
    collector_scopes,
    loki_push_url,
    opencost_policy_name,
)


def test_all_features_need_exactly_the_three_write_scopes():
    assert collector_scopes(FeatureToggles()) == ("metrics:write", "logs:write", "traces:write")


def test_logs_scope_only_with_a_log_feature():
    assert "logs:write" in collector_scopes(FeatureToggles(pod_logs=False))
    assert "logs:write" in collector_scopes(FeatureToggles(cluster_events=False))
    assert "logs:write" not in collector_scopes(FeatureToggles(pod_logs=False, cluster_events=False))


def test_traces_scope_only_with_the_otlp_receiver():
    assert "traces:write" not in collector_scopes(FeatureToggles(application_observability=False))


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
    assert allowed_scopes("anything-else") == ALLOWED_COLLECTOR_SCOPES
