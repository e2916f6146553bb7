"""Where alerts go, for every combination of configured destinations (builders.notification_routing)."""

from __future__ import annotations

import pytest

from builders.notification_routing import routing

# (email, slack, pagerduty) -> (critical, warning, default), as the README's routing table says.
EXPECTED = {
    (True, False, False): ("llm-judge-email", "llm-judge-email", "llm-judge-email"),
    (False, True, False): ("llm-judge-slack", "llm-judge-slack", "llm-judge-slack"),
    (False, False, True): ("llm-judge-pagerduty", "llm-judge-pagerduty", "llm-judge-pagerduty"),
    (True, True, False): ("llm-judge-email", "llm-judge-slack", "llm-judge-email"),
    (True, False, True): ("llm-judge-pagerduty", "llm-judge-email", "llm-judge-email"),
    (False, True, True): ("llm-judge-pagerduty", "llm-judge-slack", "llm-judge-slack"),
    (True, True, True): ("llm-judge-pagerduty", "llm-judge-slack", "llm-judge-email"),
}


@pytest.mark.parametrize(("destinations", "expected"), EXPECTED.items(), ids=str)
def test_each_severity_goes_to_its_preferred_configured_destination(
    destinations: tuple[bool, bool, bool], expected: tuple[str, str, str]
) -> None:
    email, slack, pagerduty = destinations
    plan = routing(has_email=email, has_slack=slack, has_pagerduty=pagerduty)
    routes = {route.severity: route.contact_point for route in plan.routes}
    assert (routes["critical"], routes["warning"], plan.default_contact_point) == expected
    assert plan.group_by == ("alertname", "job")
    # Never Grafana's built-in contact point, whose address is a placeholder.
    assert "grafana-default-email" not in plan.contact_points
    assert set(plan.contact_points) == set(expected)


def test_without_any_destination_there_is_no_routing() -> None:
    with pytest.raises(ValueError, match="no alert destination"):
        routing(has_email=False, has_slack=False, has_pagerduty=False)
