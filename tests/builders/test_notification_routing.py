"""Where a cluster's alerts go, for each combination of destinations (builders.notification_routing)."""

from __future__ import annotations

import pytest

from builders.notification_routing import routing

CLUSTER = "llm-judge-local"
EMAIL, SLACK, PAGERDUTY = (f"llm-judge-{CLUSTER}-{d}" for d in ("email", "slack", "pagerduty"))
# (email, slack, pagerduty) -> (critical, warning), as the README's routing table says.
EXPECTED = {
    (True, False, False): (EMAIL, EMAIL),
    (False, True, False): (SLACK, SLACK),
    (False, False, True): (PAGERDUTY, PAGERDUTY),
    (True, True, False): (EMAIL, SLACK),
    (True, False, True): (PAGERDUTY, EMAIL),
    (False, True, True): (PAGERDUTY, SLACK),
    (True, True, True): (PAGERDUTY, SLACK),
}


@pytest.mark.parametrize(("destinations", "expected"), EXPECTED.items(), ids=str)
def test_each_severity_goes_to_its_preferred_configured_destination(
    destinations: tuple[bool, bool, bool], expected: tuple[str, str]
) -> None:
    email, slack, pagerduty = destinations
    plan = routing(CLUSTER, has_email=email, has_slack=slack, has_pagerduty=pagerduty)
    assert (plan.contact_point_for("critical"), plan.contact_point_for("warning")) == expected
    # Grafana requires alertname and grafana_folder in a rule's group_by; cluster names the cluster.
    assert plan.group_by == ("alertname", "grafana_folder", "cluster", "job")
    # Never Grafana's built-in contact point, whose address is a placeholder.
    assert "grafana-default-email" not in plan.contact_points
    assert set(plan.contact_points) == set(expected)


def test_each_cluster_routes_to_its_own_contact_points() -> None:
    local = routing("llm-judge-local", has_email=True, has_slack=False, has_pagerduty=False)
    eks = routing("llm-judge-eks-prod", has_email=True, has_slack=True, has_pagerduty=True)
    assert local.contact_points == ("llm-judge-llm-judge-local-email",)
    assert eks.contact_points == (
        "llm-judge-llm-judge-eks-prod-pagerduty",
        "llm-judge-llm-judge-eks-prod-slack",
    )


def test_without_any_destination_there_is_no_routing() -> None:
    with pytest.raises(ValueError, match="no alert destination"):
        routing(CLUSTER, has_email=False, has_slack=False, has_pagerduty=False)


def test_a_severity_without_a_route_is_an_error() -> None:
    plan = routing(CLUSTER, has_email=True, has_slack=False, has_pagerduty=False)
    with pytest.raises(ValueError, match="no route for severity 'info'"):
        plan.contact_point_for("info")
