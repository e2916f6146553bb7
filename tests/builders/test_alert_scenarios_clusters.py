"""Several clusters in one Grafana Cloud stack, under Prometheus' own evaluator (`promtool test rules`):
an incident in one cluster fires exactly one alert, labelled with that cluster, whatever the others do.

Three clusters share the Grafana stack, as the plan's path and its growth have it: the local cluster,
the production EKS cluster and a staging EKS cluster. Each cluster's stack declares its own rules
(builders.alerts for its clusterName), so Grafana evaluates all three rule sets over all three clusters'
series: that is what every scenario here loads (tools.prom_rules), with series shaped as each cluster
delivers them (tools.pipeline_series, one `Cluster` each: its `cluster` label). For every rule, an
incident in each cluster in turn beside the two healthy others: promtool checks that the alerts of
that rule's name at the firing moment are exactly the one expected (complete labels), so a second
alert (another stack's copy of the rule, or the same incident counted again) fails as surely as none.
Expected labels are written out by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from builders.alerts import AlertRule, alert_catalog
from tests.builders.test_alert_scenarios import NS, QUEUES, SERVICES, THIRTY_DAYS, overlay, spec
from tests.support import prometheus_binary
from tools.pipeline_series import Cluster
from tools.prom_rules import Alert, Check, Scenario, Series, run_scenarios

LOCAL = Cluster("llm-judge-local")
EKS = Cluster("llm-judge-eks-prod")
STAGING = Cluster("llm-judge-eks-staging")
QUEUES_OF = {LOCAL: (), EKS: QUEUES, STAGING: QUEUES}
MINUTES = 32
GATEWAY = "gateway-service"
JUDGE_POD = "judge-service-7d9f8b6c5-x2x9q"


def rules_of(cluster: Cluster, token_epoch: int = THIRTY_DAYS) -> tuple[AlertRule, ...]:
    return alert_catalog(spec(cluster, QUEUES_OF[cluster], token_epoch))


ALL_RULES = tuple(rule for cluster in QUEUES_OF for rule in rules_of(cluster))


def healthy(cluster: Cluster, minutes: int = MINUTES) -> tuple[Series, ...]:
    return cluster.healthy(minutes, services=SERVICES, queues=QUEUES_OF[cluster])


def others_healthy(incident_in: Cluster) -> tuple[Series, ...]:
    return tuple(s for c in QUEUES_OF if c != incident_in for s in healthy(c))


@dataclass(frozen=True)
class Incident:
    """A failure in one cluster, the rule that must report it, when, and with which labels."""

    title: str
    at: str
    series: Callable[[Cluster], tuple[Series, ...]]  # the cluster's series with the failure
    labels: Callable[[Cluster], dict[str, str]]  # the one alert's complete labels (without alertname)
    clusters: tuple[Cluster, ...] = (LOCAL, EKS, STAGING)  # where the rule exists


INCIDENTS = (
    Incident(
        f"HighErrorRate {GATEWAY}",
        "6m",
        # 6 % of 600 requests a minute answered 500, beside healthy clusters with as much traffic:
        # an aggregation over all clusters would read 2 % and stay quiet.
        lambda c: overlay(healthy(c), *c.requests(GATEWAY, {"200": "0+564x32", "500": "0+36x32"})),
        lambda c: {
            "severity": "critical",
            "service": GATEWAY,
            "namespace": NS,
            "cluster": c.name,
            "job": f"{NS}/{GATEWAY}",
        },
    ),
    Incident(
        f"HighLatency {GATEWAY}",
        "6m",
        lambda c: overlay(healthy(c), *c.latency(GATEWAY, 600, "7.5", MINUTES)),
        lambda c: {
            "severity": "warning",
            "service": GATEWAY,
            "namespace": NS,
            "cluster": c.name,
            "job": f"{NS}/{GATEWAY}",
        },
    ),
    Incident(
        "InferenceQueueBacklog",
        "10m",
        # Each EKS cluster reads its own inference_queue; the queue names are the same.
        lambda c: overlay(healthy(c), c.sqs_visible("inference_queue", "150x32")),
        lambda c: {
            "severity": "warning",
            "queue": "inference_queue",
            "cluster": c.name,
            "dimension_QueueName": "inference_queue",
        },
        clusters=(EKS, STAGING),
    ),
    Incident(
        "AlloyCollectorNotReady",
        "10m",
        lambda c: overlay(healthy(c), *c.collector_readiness("alloy-logs", desired="3x32", ready="2x32")),
        lambda c: {
            "severity": "critical",
            "namespace": NS,
            "cluster": c.name,
            "workload": "grafana-k8s-monitoring-alloy-logs",
        },
    ),
    Incident(
        "AlloyRemoteWriteFailing",
        "11m",
        lambda c: overlay(healthy(c), *c.remote_write_counters("alloy-metrics", failed="0+600x32")),
        lambda c: {
            "severity": "critical",
            "namespace": NS,
            "cluster": c.name,
            "app": "alloy-metrics",
            "pod": "grafana-k8s-monitoring-alloy-metrics-0",
        },
    ),
    Incident(
        "TelemetryPipelineSilent",
        "31m",
        # Nothing of this cluster arrives after minute 20 (token revoked); the others keep sending.
        lambda c: healthy(c, 20),
        lambda c: {"severity": "critical", "namespace": NS, "cluster": c.name},
    ),
    Incident(
        "PodCrashLooping",
        "15m",
        lambda c: (*healthy(c), c.crash_looping(JUDGE_POD, "judge-service", "1x32")),
        lambda c: {
            "severity": "warning",
            "namespace": NS,
            "cluster": c.name,
            "pod": JUDGE_POD,
            "container": "judge-service",
        },
    ),
)


def promtool_ok(rules: Sequence[AlertRule], scenarios: Sequence[Scenario]) -> None:
    result = run_scenarios(rules, scenarios, prometheus_binary("promtool"))
    assert result.ok, result.output


def test_every_rule_of_a_cluster_is_covered_here() -> None:
    covered = {incident.title for incident in INCIDENTS} | {"CollectorTokenExpiring"}
    # Only one service's pair of rules is exercised: the other services' rules differ in `job` alone.
    expected = {r.title for r in ALL_RULES if not r.title.startswith(("HighErrorRate", "HighLatency"))}
    assert covered - {f"HighErrorRate {GATEWAY}", f"HighLatency {GATEWAY}"} == expected
    assert len(ALL_RULES) == 3 * 15 + 2  # three clusters' rule sets; two of them with the queue rule


@pytest.mark.parametrize("incident", INCIDENTS, ids=lambda i: i.title)
def test_an_incident_in_one_cluster_fires_once_for_that_cluster(incident: Incident) -> None:
    scenarios = [
        Scenario(
            f"{incident.title}: incident in {c.name}",
            (*incident.series(c), *others_healthy(c)),
            (
                Check(incident.at, incident.title, (Alert(incident.labels(c)),)),
                Check("32m", incident.title, (Alert(incident.labels(c)),)),
            ),
        )
        for c in incident.clusters
    ]
    promtool_ok(ALL_RULES, scenarios)


def test_all_healthy_fires_nothing_in_any_cluster() -> None:
    series = tuple(s for c in QUEUES_OF for s in healthy(c))
    titles = sorted({r.title for r in ALL_RULES})
    promtool_ok(
        ALL_RULES,
        [
            Scenario(
                "three healthy clusters", series, tuple(Check(at, t) for t in titles for at in ("11m", "32m"))
            )
        ],
    )


@pytest.mark.parametrize("expiring", list(QUEUES_OF), ids=lambda c: c.name)
def test_one_clusters_token_expiring_fires_once_for_that_cluster(expiring: Cluster) -> None:
    soon = 14 * 24 * 3600 + 600  # 14 days after minute 10
    rules = tuple(r for c in QUEUES_OF for r in rules_of(c, soon if c == expiring else THIRTY_DAYS))
    series = tuple(s for c in QUEUES_OF for s in healthy(c))
    fired = Alert({"severity": "warning", "namespace": NS, "cluster": expiring.name})
    scenario = Scenario(
        f"token of {expiring.name} expiring",
        series,
        (Check("10m", "CollectorTokenExpiring"), Check("11m", "CollectorTokenExpiring", (fired,))),
    )
    promtool_ok(rules, [scenario])


# --- the rules as they were: diluted by the healthy cluster, or counted once per stack ---------

# main before this change (392be04 to a12213d, builders/alerts.py), verbatim: the gateway's error-rate
# rule aggregated over all clusters, and AlloyCollectorNotReady, which kept `cluster` but selected
# every cluster's series.
_OLD_SEL = f'job="{NS}/{GATEWAY}"'
_OLD_TOTAL = f"sum by (job) (rate(http_server_request_duration_seconds_count{{{_OLD_SEL}}}[5m]))"
OLD_ERROR_RATE = AlertRule(
    uid="llmj-5xx-gateway-service",
    title=f"HighErrorRate {GATEWAY}",
    group="llm-judge-services",
    expr=(
        "(sum by (job) (rate(http_server_request_duration_seconds_count"
        f'{{{_OLD_SEL}, http_response_status_code=~"5.."}}[5m])) / {_OLD_TOTAL}) or ({_OLD_TOTAL} * 0)'
    ),
    threshold=0.05,
    comparison="gt",
    for_="5m",
    severity="critical",
    summary="s",
    description="d",
    runbook_url="https://example.invalid/runbooks.md#llmj-5xx-gateway-service",
    no_data_state="OK",
    exec_err_state="Error",
    labels={"service": GATEWAY, "namespace": NS},
)


def old_not_ready(cluster: Cluster) -> AlertRule:
    """main's AlloyCollectorNotReady as `cluster`'s stack declared it: today's expression without the
    cluster matcher (the note of issue 15 shows it equal to main's), main's uid and labels."""
    rule = next(r for r in rules_of(cluster) if r.title == "AlloyCollectorNotReady")
    return AlertRule(
        uid="llmj-collector-not-ready",
        title=rule.title,
        group=rule.group,
        expr=rule.expr.replace(f'cluster="{cluster.name}", ', ""),
        threshold=rule.threshold,
        comparison=rule.comparison,
        for_=rule.for_,
        severity=rule.severity,
        summary="s",
        description="d",
        runbook_url="https://example.invalid/runbooks.md#llmj-collector-not-ready",
        no_data_state=rule.no_data_state,
        exec_err_state=rule.exec_err_state,
        labels={"namespace": NS},
    )


def test_the_old_rules_miss_or_double_count_an_incident_in_one_of_two_clusters() -> None:
    """Each of two stacks (local, eks) declares main's rules; an incident in local beside a healthy eks.
    The expected single alert for local is what promtool reports missing (error rate: 6 % of one
    cluster's requests are 3 % of both) or doubled (not ready: both stacks' copies see local)."""
    incident = {i.title: i for i in INCIDENTS}
    error_rate, not_ready = incident[f"HighErrorRate {GATEWAY}"], incident["AlloyCollectorNotReady"]
    old_rules = (OLD_ERROR_RATE, OLD_ERROR_RATE, old_not_ready(LOCAL), old_not_ready(EKS))
    scenarios = [
        Scenario(
            "old error rate, 6 % in local",
            (*error_rate.series(LOCAL), *healthy(EKS)),
            (Check("6m", error_rate.title, (Alert(error_rate.labels(LOCAL)),)),),
        ),
        Scenario(
            "old not ready, alloy-logs Pending in local",
            (*not_ready.series(LOCAL), *healthy(EKS)),
            (Check("10m", not_ready.title, (Alert({**not_ready.labels(LOCAL), "severity": "critical"}),)),),
        ),
    ]
    result = run_scenarios(old_rules, scenarios, prometheus_binary("promtool"))
    assert not result.ok
    assert {(f.scenario, f.alertname, f.at, f.nothing_fired) for f in result.failed_checks()} == {
        ("old error rate, 6 % in local", error_rate.title, "6m", True),
        ("old not ready, alloy-logs Pending in local", not_ready.title, "10m", False),
    }, result.output
