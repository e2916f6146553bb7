"""Where alerts go: critical to PagerDuty, warning to Slack, the stack's default otherwise."""

from __future__ import annotations

from dataclasses import dataclass

# Every Grafana stack has this contact point (email to the stack's admins); it receives
# whatever no configured integration takes, so a stack without Slack or PagerDuty still alerts.
DEFAULT_CONTACT_POINT = "grafana-default-email"
SLACK_CONTACT_POINT = "llm-judge-slack"
PAGERDUTY_CONTACT_POINT = "llm-judge-pagerduty"
# One notification per alert and service (`job` = "<namespace>/<service>" on the services'
# metrics); the pipeline alerts carry no job and group by name alone.
GROUP_BY = ("alertname", "job")


@dataclass(frozen=True)
class Route:
    severity: str
    contact_point: str


@dataclass(frozen=True)
class Routing:
    default_contact_point: str
    group_by: tuple[str, ...]
    routes: tuple[Route, ...]


def routing(has_pagerduty: bool, has_slack: bool) -> Routing:
    return Routing(
        default_contact_point=DEFAULT_CONTACT_POINT,
        group_by=GROUP_BY,
        routes=(
            Route("critical", PAGERDUTY_CONTACT_POINT if has_pagerduty else DEFAULT_CONTACT_POINT),
            Route("warning", SLACK_CONTACT_POINT if has_slack else DEFAULT_CONTACT_POINT),
        ),
    )
