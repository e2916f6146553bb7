"""Every alert rule under Prometheus' own evaluator (`promtool test rules`), over series shaped as the
pipeline delivers them (tools.pipeline_series): when each rule fires, with which labels and text, and
when it stays quiet. The rules are the program's (builders.alerts), translated from their Grafana
model by tools.prom_rules. Expected labels, moments and texts are written out here by hand.

Moments: input samples every minute from 0 (the chart scrapes every 60 s), rules evaluated every
minute as Grafana does. A `rate(...[w])` has a value from the second sample (1m); a condition true
from minute t fires at t + `for` and not one evaluation earlier. Prometheus looks back 5 minutes
for the latest sample, so a series last seen at minute m is still visible at m + 5 and gone at m + 6.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from builders.alerts import AlertRule, AlertSpec, alert_catalog
from builders.features import FeatureToggles
from tests.support import prometheus_binary
from tools.pipeline_series import Cluster
from tools.prom_rules import Alert, Check, Scenario, Series, run_scenarios

RUNBOOKS = "https://github.com/example/llm-judge/blob/main/docs/runbooks.md"
SERVICES = ("gateway-service", "redis-service", "persistence-service", "inference-service", "judge-service")
QUEUES = ("inference_queue", "judge_queue")
THIRTY_DAYS = 30 * 24 * 3600  # promtool's clock starts at 0: a token expiring then is far off
LOCAL = Cluster("llm-judge-local")
EKS = Cluster("llm-judge-eks-prod")
NS = "llm-judge"
RELEASE = "grafana-k8s-monitoring"


def spec(cluster: Cluster, queues: tuple[str, ...] = (), token_epoch: int = THIRTY_DAYS) -> AlertSpec:
    return AlertSpec(
        namespace=NS,
        services=SERVICES,
        sqs_queues=queues,
        earliest_token_expiry_epoch=token_epoch,
        runbook_base_url=RUNBOOKS,
        cluster=cluster.name,
        release_name=RELEASE,
        features=FeatureToggles(),
    )


LOCAL_RULES = alert_catalog(spec(LOCAL))
EKS_RULES = alert_catalog(spec(EKS, QUEUES))

# Every rule of each stack, by title, as the README's alert table lists them.
PIPELINE_TITLES = {
    "AlloyCollectorNotReady",
    "AlloyRemoteWriteFailing",
    "TelemetryPipelineSilent",
    "PodCrashLooping",
    "CollectorTokenExpiring",
}
SERVICE_TITLES = {f"{kind} {s}" for s in SERVICES for kind in ("HighErrorRate", "HighLatency")}
LOCAL_TITLES = SERVICE_TITLES | PIPELINE_TITLES
EKS_TITLES = LOCAL_TITLES | {"InferenceQueueBacklog"}


def promtool_ok(rules: Sequence[AlertRule], *scenarios: Scenario) -> None:
    result = run_scenarios(rules, scenarios, prometheus_binary("promtool"))
    assert result.ok, result.output


def overlay(base: Sequence[Series], *changes: Series, without: Sequence[Series] = ()) -> tuple[Series, ...]:
    """`base` with each change replacing the series of the same name and labels, `without` removed."""
    replaced = {s.selector() for s in (*changes, *without)}
    return (*(s for s in base if s.selector() not in replaced), *changes)


def quiet(*titles: str, at: Sequence[str]) -> tuple[Check, ...]:
    return tuple(Check(t, title) for title in titles for t in at)


def test_the_catalogs_hold_exactly_the_rules_these_scenarios_cover() -> None:
    assert {r.title for r in LOCAL_RULES} == LOCAL_TITLES
    assert {r.title for r in EKS_RULES} == EKS_TITLES


# --- a healthy platform: nothing fires --------------------------------------------------------


def test_healthy_local_platform_fires_nothing() -> None:
    series = LOCAL.healthy(60, services=SERVICES)
    promtool_ok(
        LOCAL_RULES, Scenario("healthy local", series, quiet(*LOCAL_TITLES, at=("0m", "6m", "20m", "60m")))
    )


def test_healthy_eks_platform_fires_nothing() -> None:
    series = EKS.healthy(60, services=SERVICES, queues=QUEUES)
    promtool_ok(
        EKS_RULES, Scenario("healthy eks", series, quiet(*EKS_TITLES, at=("0m", "11m", "20m", "60m")))
    )


def test_idle_services_and_a_cluster_without_traffic_fire_nothing() -> None:
    # No request series at all (services idle or not instrumented yet): no data, which is not an error.
    series = LOCAL.healthy(30)
    promtool_ok(LOCAL_RULES, Scenario("no traffic", series, quiet(*LOCAL_TITLES, at=("6m", "30m"))))


# --- HighErrorRate <service> (critical, > 5 % for 5m) ------------------------------------------


def error_rate(service: str, percent: int) -> tuple[Series, ...]:
    """600 requests a minute, `percent` of them answered 500 (from minute 0)."""
    failing = 6 * percent
    return overlay(
        LOCAL.healthy(20, services=SERVICES),
        *LOCAL.requests(service, {"200": f"0+{600 - failing}x20", "500": f"0+{failing}x20"}),
    )


@pytest.mark.parametrize("service", SERVICES)
def test_error_rate_fires_for_that_service_after_5_minutes_above_5_percent(service: str) -> None:
    fired = Alert(
        {
            "severity": "critical",
            "service": service,
            "namespace": NS,
            "cluster": LOCAL.name,
            "job": f"llm-judge/{service}",
        },
        {
            "summary": f"More than 5% of llm-judge/{service} requests fail with 5xx "
            "in cluster llm-judge-local",
            "description": f"llm-judge/{service} answered 6% of its HTTP requests with a 5xx status "
            "over the last 5 minutes (threshold 5%) in cluster llm-judge-local.",
            "runbook_url": f"{RUNBOOKS}#llmj-5xx-{service}",
        },
    )
    others = [f"HighErrorRate {s}" for s in SERVICES if s != service]
    scenario = Scenario(
        f"6% 5xx on {service}",
        error_rate(service, 6),
        (
            Check("5m", f"HighErrorRate {service}"),  # true since 1m: still pending
            Check("6m", f"HighErrorRate {service}", (fired,)),
            Check("20m", f"HighErrorRate {service}", (fired,)),
            *quiet(*others, at=("6m", "20m")),
        ),
    )
    promtool_ok(LOCAL_RULES, scenario)


def test_error_rate_stays_quiet_at_4_percent() -> None:
    scenario = Scenario(
        "4% 5xx", error_rate("judge-service", 4), quiet("HighErrorRate judge-service", at=("6m", "20m"))
    )
    promtool_ok(LOCAL_RULES, scenario)


# --- HighLatency <service> (warning, p95 > 5 s for 5m) -----------------------------------------


def slow(service: str, slowest_bucket: str) -> tuple[Series, ...]:
    healthy = LOCAL.healthy(20, services=SERVICES)
    slow_series = LOCAL.latency(service, 600, slowest_bucket, 20)
    return overlay(healthy, *slow_series)


@pytest.mark.parametrize("service", SERVICES)
def test_latency_fires_after_5_minutes_of_p95_above_5_seconds(service: str) -> None:
    # Every request between 5 and 7.5 s: p95 = 5 + 0.95 * 2.5 = 7.375 s (linear within the bucket).
    fired = Alert(
        {
            "severity": "warning",
            "service": service,
            "namespace": NS,
            "cluster": LOCAL.name,
            "job": f"llm-judge/{service}",
        },
        {
            "summary": f"p95 latency of llm-judge/{service} above 5 s in cluster llm-judge-local",
            "description": f"The 95th percentile of llm-judge/{service}'s HTTP server request duration "
            "was 7.375s over the last 5 minutes (threshold 5 s) in cluster llm-judge-local.",
            "runbook_url": f"{RUNBOOKS}#llmj-p95-{service}",
        },
    )
    scenario = Scenario(
        f"{service} slow",
        slow(service, "7.5"),
        (
            Check("5m", f"HighLatency {service}"),
            Check("6m", f"HighLatency {service}", (fired,)),
            *quiet(*(f"HighLatency {s}" for s in SERVICES if s != service), at=("6m",)),
        ),
    )
    promtool_ok(LOCAL_RULES, scenario)


def test_latency_stays_quiet_just_below_5_seconds() -> None:
    # Every request between 2.5 and 5 s: p95 = 4.875 s.
    scenario = Scenario(
        "p95 4.875 s", slow("gateway-service", "5"), quiet("HighLatency gateway-service", at=("6m", "20m"))
    )
    promtool_ok(LOCAL_RULES, scenario)


# --- InferenceQueueBacklog (eks, warning, > 100 visible for 10m) -------------------------------


def test_backlog_fires_after_10_minutes_above_100_messages_on_the_inference_queue_only() -> None:
    fired = Alert(
        {
            "severity": "warning",
            "queue": "inference_queue",
            "cluster": EKS.name,
            "dimension_QueueName": "inference_queue",
        },
        {
            "summary": "Inference queue backlog above 100 messages in cluster llm-judge-eks-prod",
            "description": "inference_queue holds 150 visible messages (CloudWatch "
            "ApproximateNumberOfMessagesVisible, maximum over 5 min) for 10 minutes, as cluster "
            "llm-judge-eks-prod collects it.",
            "runbook_url": f"{RUNBOOKS}#llmj-sqs-backlog-inference_queue",
        },
    )
    series = overlay(
        EKS.healthy(20, services=SERVICES, queues=QUEUES),
        EKS.sqs_visible("inference_queue", "150x20"),
        EKS.sqs_visible("judge_queue", "5000x20"),  # another queue's backlog is not this rule's
    )
    scenario = Scenario(
        "inference queue backlog",
        series,
        (Check("9m", "InferenceQueueBacklog"), Check("10m", "InferenceQueueBacklog", (fired,))),
    )
    promtool_ok(EKS_RULES, scenario)


def test_backlog_of_exactly_100_or_no_cloudwatch_data_stays_quiet() -> None:
    healthy = EKS.healthy(20, services=SERVICES, queues=QUEUES)
    at_threshold = overlay(healthy, EKS.sqs_visible("inference_queue", "100x20"))
    # CloudWatch not collected (yet): no series. Grafana's own DatasourceNoData alert would say so;
    # the translation cannot express that (tools.prom_rules), the rule itself stays quiet.
    no_cloudwatch = tuple(
        s for s in healthy if s.name != "aws_sqs_approximate_number_of_messages_visible_maximum"
    )
    promtool_ok(
        EKS_RULES,
        Scenario("backlog 100", at_threshold, quiet("InferenceQueueBacklog", at=("10m", "20m"))),
        Scenario("no CloudWatch series", no_cloudwatch, quiet("InferenceQueueBacklog", at=("10m", "20m"))),
    )


# --- AlloyCollectorNotReady (critical, desired - ready > 0 for 10m) ----------------------------


def not_ready(workload: str, missing: int) -> Alert:
    return Alert(
        {"severity": "critical", "namespace": NS, "cluster": LOCAL.name, "workload": workload},
        {
            "summary": f"Collector {workload} has pods scheduled but not ready in cluster llm-judge-local",
            "description": f"kube-state-metrics reports {missing} fewer ready pods than desired for "
            f"{workload} in llm-judge of cluster llm-judge-local for 10 minutes (Pending, crash-looping "
            "or failing its readiness "
            "probe): its part of the telemetry is not collected. This rule reads kube-state-metrics "
            "through alloy-metrics, so it cannot see alloy-metrics itself stopping; "
            "TelemetryPipelineSilent does.",
            "runbook_url": f"{RUNBOOKS}#llmj-collector-not-ready",
        },
    )


def pending_logs_collector() -> tuple[Series, ...]:
    """alloy-logs wants 3 pods (3 nodes) and 2 are ready: the third is Pending, so it is never
    scraped and has no `up` series at all; the two ready ones are scraped as up."""
    return overlay(
        LOCAL.healthy(20),
        *LOCAL.collector_readiness("alloy-logs", desired="3x20", ready="2x20"),
    )


def test_a_pending_daemonset_collector_fires_after_10_minutes() -> None:
    series = pending_logs_collector()
    up = [s for s in series if s.name == "up" and s.labels.get("app") == "alloy-logs"]
    assert len(up) == 2  # the Pending pod is never scraped
    fired = not_ready(f"{RELEASE}-alloy-logs", 1)
    scenario = Scenario(
        "Pending alloy-logs pod",
        series,
        (Check("9m", "AlloyCollectorNotReady"), Check("10m", "AlloyCollectorNotReady", (fired,))),
    )
    promtool_ok(LOCAL_RULES, scenario)


@pytest.mark.parametrize(
    ("collector", "desired"),
    [("alloy-metrics", "1x20"), ("alloy-receiver", "2x20"), ("alloy-singleton", "1x20")],
)
def test_each_kind_of_collector_workload_not_ready_fires(collector: str, desired: str) -> None:
    # StatefulSet, DaemonSet and Deployment: no pod ready at all.
    unscraped = [s for s in LOCAL.healthy(20) if s.name == "up" and s.labels.get("app") == collector]
    series = overlay(
        LOCAL.healthy(20),
        *LOCAL.collector_readiness(collector, desired=desired, ready="0x20"),
        without=unscraped,
    )
    fired = not_ready(f"{RELEASE}-{collector}", int(desired[0]))
    scenario = Scenario(f"{collector} not ready", series, (Check("10m", "AlloyCollectorNotReady", (fired,)),))
    promtool_ok(LOCAL_RULES, scenario)


def test_collector_readiness_of_another_cluster_or_no_kube_state_metrics_stays_quiet() -> None:
    # A rolling restart shorter than 10 minutes, and kube-state-metrics not (yet) delivered.
    restart = overlay(LOCAL.healthy(20), *LOCAL.collector_readiness("alloy-logs", "2x20", "1x8 2x12"))
    no_ksm = tuple(
        s for s in LOCAL.healthy(20) if s.labels.get("job") != "integrations/kubernetes/kube-state-metrics"
    )
    promtool_ok(
        LOCAL_RULES,
        Scenario("restart for 8 minutes", restart, quiet("AlloyCollectorNotReady", at=("9m", "10m", "20m"))),
        Scenario("no kube-state-metrics", no_ksm, quiet("AlloyCollectorNotReady", at=("10m", "20m"))),
    )


# --- AlloyRemoteWriteFailing (critical, failed + dropped > 0/s for 10m) ------------------------


def remote_write_alert(pod: str, app: str, per_second: str) -> Alert:
    return Alert(
        {"severity": "critical", "namespace": NS, "cluster": LOCAL.name, "app": app, "pod": pod},
        {
            "summary": f"{pod} in cluster llm-judge-local loses samples on remote write to Grafana Cloud",
            "description": f"For 10 minutes {pod} ({app}, cluster llm-judge-local) has had samples "
            "refused with a non-retryable "
            "error (4xx other than 429: invalid, out-of-order or too-old samples, series limits) or "
            f"dropped before sending: {per_second} samples/s over the last 5 minutes, while its own "
            "metrics still reach Grafana Cloud. A write refused as a whole (token expired or revoked) "
            "leaves nothing to see here: TelemetryPipelineSilent fires for that.",
            "runbook_url": f"{RUNBOOKS}#llmj-remote-write-failing",
        },
    )


def test_remote_write_failures_fire_though_no_drop_was_ever_recorded() -> None:
    # 600 samples a minute refused (10/s); samples_dropped_total has no series: nothing was dropped.
    series = overlay(LOCAL.healthy(30), *LOCAL.remote_write_counters("alloy-metrics", failed="0+600x30"))
    assert not [s for s in series if s.name == "prometheus_remote_storage_samples_dropped_total"]
    pod = LOCAL.collector_pod("alloy-metrics")
    scenario = Scenario(
        "failed samples, no drops",
        series,
        (
            Check("10m", "AlloyRemoteWriteFailing"),  # rate > 0 since 1m: pending
            Check("11m", "AlloyRemoteWriteFailing", (remote_write_alert(pod, "alloy-metrics", "10"),)),
        ),
    )
    promtool_ok(LOCAL_RULES, scenario)


def test_remote_write_drops_alone_and_with_failures_fire() -> None:
    receiver = LOCAL.collector_pod("alloy-receiver")
    drops_only = overlay(
        LOCAL.healthy(30),
        *LOCAL.remote_write_counters("alloy-receiver", failed="0x30", dropped={"too_old": "0+60x30"}),
    )
    both = overlay(
        LOCAL.healthy(30),
        *LOCAL.remote_write_counters(
            "alloy-receiver", failed="0+60x30", dropped={"too_old": "0+30x30", "dropped_series": "0+30x30"}
        ),
    )
    promtool_ok(
        LOCAL_RULES,
        Scenario(
            "drops only",
            drops_only,
            (
                Check(
                    "11m", "AlloyRemoteWriteFailing", (remote_write_alert(receiver, "alloy-receiver", "1"),)
                ),
            ),
        ),
        Scenario(
            "failures and drops of two reasons",
            both,
            (
                Check(
                    "11m", "AlloyRemoteWriteFailing", (remote_write_alert(receiver, "alloy-receiver", "2"),)
                ),
            ),
        ),
    )


def test_remote_write_healthy_or_brief_failures_stay_quiet() -> None:
    # Counters at 0 and no dropped series; or 3 minutes of failures that stop: the 5m rate is above 0
    # from 1m to 8m, 7 minutes, short of the 10-minute pending period.
    brief = overlay(LOCAL.healthy(30), *LOCAL.remote_write_counters("alloy-metrics", failed="0+100x3 300x27"))
    promtool_ok(
        LOCAL_RULES,
        Scenario("healthy", LOCAL.healthy(30), quiet("AlloyRemoteWriteFailing", at=("11m", "30m"))),
        Scenario(
            "3 minutes of failures", brief, quiet("AlloyRemoteWriteFailing", at=("11m", "12m", "14m", "30m"))
        ),
    )


# --- TelemetryPipelineSilent (critical, fires on no data after 5m) -----------------------------

SILENT = Alert(
    {"severity": "critical", "namespace": NS, "cluster": LOCAL.name},
    {
        "summary": "No metrics from cluster llm-judge-local reach Grafana Cloud",
        "description": "No scrape result (`up`) of cluster llm-judge-local has reached Grafana Cloud "
        "for about 10 minutes (5 minutes of query lookback, then 5 minutes pending): the collectors' "
        "remote write is refused (token expired or revoked: run `pulumi up`), alloy-metrics is not "
        "running, or the cluster is gone. Every other alert on this cluster's metrics is blind until "
        "it clears.",
        "runbook_url": f"{RUNBOOKS}#llmj-pipeline-silent",
    },
)


def test_pipeline_gone_silent_fires_though_another_cluster_still_sends() -> None:
    # The token is revoked at minute 20: from then on nothing of this cluster arrives, every query
    # about it is empty. The eks cluster in the same Grafana Cloud stack keeps sending.
    series = (*LOCAL.healthy(20, services=SERVICES), *EKS.healthy(60, services=SERVICES, queues=QUEUES))
    scenario = Scenario(
        "local goes silent at 20m",
        series,
        (
            Check("25m", "TelemetryPipelineSilent"),  # last samples still within the 5m lookback
            Check("30m", "TelemetryPipelineSilent"),  # no data since 26m: pending
            Check("31m", "TelemetryPipelineSilent", (SILENT,)),
            Check("60m", "TelemetryPipelineSilent", (SILENT,)),
        ),
    )
    promtool_ok(LOCAL_RULES, scenario)


def test_pipeline_that_never_delivered_fires_after_5_minutes() -> None:
    # A first deploy whose token is refused from the start: not one series of this cluster, ever.
    scenario = Scenario(
        "never delivered",
        EKS.healthy(20),
        (Check("4m", "TelemetryPipelineSilent"), Check("5m", "TelemetryPipelineSilent", (SILENT,))),
    )
    promtool_ok(LOCAL_RULES, scenario)


def test_pipeline_with_a_gap_shorter_than_the_lookback_stays_quiet() -> None:
    # One missed minute of everything (a collector restart): still data within the 5m lookback.
    gap = tuple(
        Series(s.name, s.labels, s.values.replace("x30", "x10 _ 1x18") if s.name == "up" else s.values)
        for s in LOCAL.healthy(30)
    )
    promtool_ok(
        LOCAL_RULES,
        Scenario("one-minute gap", gap, quiet("TelemetryPipelineSilent", at=("11m", "12m", "17m", "30m"))),
    )


# --- PodCrashLooping (warning, waiting in CrashLoopBackOff for 15m) ----------------------------


def test_crash_looping_container_in_the_namespace_fires_after_15_minutes() -> None:
    pod = "judge-service-7d9f8b6c5-x2x9q"
    fired = Alert(
        {
            "severity": "warning",
            "namespace": NS,
            "cluster": LOCAL.name,
            "pod": pod,
            "container": "judge-service",
        },
        {
            "summary": f"{pod}/judge-service is crash-looping in cluster llm-judge-local",
            "description": f"Container judge-service of pod {pod} in llm-judge of cluster llm-judge-local "
            "has been waiting in "
            "CrashLoopBackOff for 15 minutes.",
            "runbook_url": f"{RUNBOOKS}#llmj-crashloop",
        },
    )
    series = (
        *LOCAL.healthy(30),
        LOCAL.crash_looping(pod, "judge-service", "1x30"),
        LOCAL.crash_looping("other-app-5c4d-abcde", "other", "1x30", namespace="other-team"),
    )
    scenario = Scenario(
        "crash loop",
        series,
        (Check("14m", "PodCrashLooping"), Check("15m", "PodCrashLooping", (fired,))),
    )
    promtool_ok(LOCAL_RULES, scenario)


# --- CollectorTokenExpiring (warning, less than 14 days left) ----------------------------------


def test_token_rule_fires_once_less_than_14_days_remain() -> None:
    expires = 14 * 24 * 3600 + 600  # 14 days after minute 10
    rules = alert_catalog(spec(LOCAL, token_epoch=expires))
    fired = Alert(
        {"severity": "warning", "namespace": NS, "cluster": LOCAL.name},
        {
            "summary": "A Grafana Cloud token of cluster llm-judge-local expires within 14 days",
            "description": "The first of the Grafana Cloud tokens in cluster llm-judge-local's "
            "credentials Secret (the Alloy collectors', OpenCost's) expires in 13d 23h 59m 0s. "
            "Run `pulumi up` to rotate them before then; with an expired token every collector's "
            "remote write, or OpenCost's queries, fail with 401.",
            "runbook_url": f"{RUNBOOKS}#llmj-token-expiring",
        },
    )
    scenario = Scenario(
        "token expiring",
        LOCAL.healthy(20),
        (Check("10m", "CollectorTokenExpiring"), Check("11m", "CollectorTokenExpiring", (fired,))),
    )
    promtool_ok(rules, scenario)


# --- the rules as they were: the same scenarios fail on them ----------------------------------

# The two pipeline rules of main at commit 40ff3f5 (builders/alerts.py), expressions verbatim.
_SELF = 'job="integrations/alloy", namespace="llm-judge"'
OLD_COLLECTOR_DOWN = AlertRule(
    uid="llmj-collector-down",
    title="AlloyCollectorDown",
    group="llm-judge-pipeline",
    expr=f"min by (app) (up{{{_SELF}}})",
    threshold=1.0,
    comparison="lt",
    for_="5m",
    severity="critical",
    summary="s",
    description="d",
    runbook_url=f"{RUNBOOKS}#llmj-collector-down",
    no_data_state="Alerting",
    exec_err_state="Error",
    labels={"namespace": NS},
)
OLD_REMOTE_WRITE = AlertRule(
    uid="llmj-remote-write-failing",
    title="AlloyRemoteWriteFailing",
    group="llm-judge-pipeline",
    expr=(
        f"sum by (app, pod) (rate(prometheus_remote_storage_samples_failed_total{{{_SELF}}}[10m])) + "
        f"sum by (app, pod) (rate(prometheus_remote_storage_samples_dropped_total{{{_SELF}}}[10m]))"
    ),
    threshold=0.0,
    comparison="gt",
    for_="10m",
    severity="critical",
    summary="s",
    description="d",
    runbook_url=f"{RUNBOOKS}#llmj-remote-write-failing",
    no_data_state="OK",
    exec_err_state="Error",
    labels={"namespace": NS},
)


def test_the_old_rules_stay_silent_in_both_failures() -> None:
    """The scenarios above, against main's rules: the remote write refusing samples with no drop ever
    recorded, and the Pending collector. Each old rule is expected to fire (with its own labels) and
    promtool reports that it did not: nothing fired at all."""
    pod = LOCAL.collector_pod("alloy-metrics")
    refused = overlay(LOCAL.healthy(30), *LOCAL.remote_write_counters("alloy-metrics", failed="0+600x30"))
    scenarios = (
        Scenario(
            "old remote-write rule, failures without drops",
            refused,
            (
                Check(
                    "11m",
                    "AlloyRemoteWriteFailing",
                    (Alert({"severity": "critical", "namespace": NS, "app": "alloy-metrics", "pod": pod}),),
                ),
            ),
        ),
        Scenario(
            "old collector rule, Pending alloy-logs pod",
            pending_logs_collector(),
            (
                Check(
                    "10m",
                    "AlloyCollectorDown",
                    (Alert({"severity": "critical", "namespace": NS, "app": "alloy-logs"}),),
                ),
            ),
        ),
    )
    # Control: with a drop recorded, the old remote-write rule does fire (the translation is not what fails).
    dropped = overlay(
        LOCAL.healthy(30),
        *LOCAL.remote_write_counters("alloy-metrics", failed="0+600x30", dropped={"too_old": "0+60x30"}),
    )
    control = Scenario(
        "old remote-write rule, failures and drops",
        dropped,
        (
            Check(
                "11m",
                "AlloyRemoteWriteFailing",
                (Alert({"severity": "critical", "namespace": NS, "app": "alloy-metrics", "pod": pod}),),
            ),
        ),
    )
    result = run_scenarios(
        (OLD_COLLECTOR_DOWN, OLD_REMOTE_WRITE), (*scenarios, control), prometheus_binary("promtool")
    )
    assert not result.ok
    assert {(f.scenario, f.alertname, f.at, f.nothing_fired) for f in result.failed_checks()} == {
        ("old remote-write rule, failures without drops", "AlloyRemoteWriteFailing", "11m", True),
        ("old collector rule, Pending alloy-logs pod", "AlloyCollectorDown", "10m", True),
    }, result.output
