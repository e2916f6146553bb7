"""Where alerts go: critical to PagerDuty, warning to Slack, the configured email otherwise.

Every route ends at a destination the stack configured. Never at Grafana's built-in
`grafana-default-email`: its address is the placeholder `<example@email.com>` (Grafana's default
Alertmanager configuration; grafana/grafana PR #113341, "configured with a placeholder email
address"), so whatever it receives reaches nobody. The config check (builders.config) refuses a
stack with alerting on and no destination; `routing` refuses it too, should anything else call it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Grafana's own contact point, named here only so that tests can prove nothing routes to it.
GRAFANA_PLACEHOLDER_CONTACT_POINT = "grafana-default-email"
EMAIL_CONTACT_POINT = "llm-judge-email"
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
    default_contact_point: str  # the policy tree's root: alerts no severity route matches
    group_by: tuple[str, ...]
    routes: tuple[Route, ...]

    @property
    def contact_points(self) -> tuple[str, ...]:
        """Every contact point the tree sends to, sorted."""
        return tuple(sorted({self.default_contact_point, *(r.contact_point for r in self.routes)}))


def routing(has_email: bool, has_slack: bool, has_pagerduty: bool) -> Routing:
    """The notification policy tree for the destinations a stack configured.

    Preference per severity (first configured wins):
      critical  PagerDuty, email, Slack   (page someone; else the team's inbox; else the channel)
      warning   Slack, email, PagerDuty   (a warning pages only when PagerDuty is all there is)
      default   email, Slack, PagerDuty   (the root: alerts without a `severity` label)
    """
    configured = {
        EMAIL_CONTACT_POINT: has_email,
        SLACK_CONTACT_POINT: has_slack,
        PAGERDUTY_CONTACT_POINT: has_pagerduty,
    }

    def first(*preference: str) -> str:
        for contact_point in preference:
            if configured[contact_point]:
                return contact_point
        raise ValueError(
            "no alert destination: configure an email list, Slack or PagerDuty "
            f"(never Grafana's {GRAFANA_PLACEHOLDER_CONTACT_POINT}, which mails a placeholder address)"
        )

    return Routing(
        default_contact_point=first(EMAIL_CONTACT_POINT, SLACK_CONTACT_POINT, PAGERDUTY_CONTACT_POINT),
        group_by=GROUP_BY,
        routes=(
            Route("critical", first(PAGERDUTY_CONTACT_POINT, EMAIL_CONTACT_POINT, SLACK_CONTACT_POINT)),
            Route("warning", first(SLACK_CONTACT_POINT, EMAIL_CONTACT_POINT, PAGERDUTY_CONTACT_POINT)),
        ),
    )
