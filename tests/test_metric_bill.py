"""The series bill's data (builders/metric_bill.py) against the real thing.

`QUERIED` is written out for the runtime; here all five dashboards and the alert rules are parsed
with the real PromQL parser and compared with it both ways, per consumer and stack. Its sources are
checked against the exporters that produce each metric and the real render that delivers it, and
the allow-list model (`FILTERED_SOURCES`, `keep_list`) against the chart's defaults.
"""

from __future__ import annotations

import copy

import pytest

from builders import metric_bill
from builders.alerts import SERVICES_GROUP
from builders.grafana_com import PREBUILT_DASHBOARDS
from builders.k8s_monitoring import DROPPED_OTLP_METRICS, NOT_DELIVERED
from builders.metric_bill import (
    ALERTS,
    ALLOY,
    API_SERVER,
    AUTODISCOVERY,
    FILTERED_SOURCES,
    LLM_JUDGE,
    QUERIED,
    SERVICE_ALERTS,
    SERVICES_OTLP,
    running_sources,
    series_bill,
)
from tests.support import (
    alert_expressions,
    collector_config,
    llm_judge_dashboard,
    pinned_dashboard,
    rendered_pipeline,
    rendered_values,
    stack_registrations,
    stack_values,
)
from tools.chart_check import load_chart_data
from tools.metric_catalog import (
    OTEL_HISTOGRAMS,
    allow_list,
    dashboard_metric_names,
    metric_names_in,
    otel_metric_names,
)
from tools.rendered_pipeline import ANY_SCRAPE, producers_of
from tools.synth import consumers

STACKS = ("local", "eks")
PINNED = {
    metric_bill.GLOBAL: 15757,
    metric_bill.NAMESPACES: 15758,
    metric_bill.NODES: 15759,
    metric_bill.PODS: 15760,
}


def parsed(stack: str, consumer: str) -> set[str]:
    """What the consumer really queries on this stack (minus what nothing here produces)."""
    if consumer in PINNED:
        names = set(dashboard_metric_names(pinned_dashboard(PINNED[consumer])))
    elif consumer == LLM_JUDGE:
        names = set(dashboard_metric_names(llm_judge_dashboard(stack)))
    else:
        services = consumer == SERVICE_ALERTS
        rules = alert_expressions(stack, lambda group: (group == SERVICES_GROUP) is services)
        names = set().union(*(metric_names_in(expr) for _, expr in rules))
    return names - set(NOT_DELIVERED)


def written(stack: str, consumer: str) -> set[str]:
    """What the bill says the consumer queries on this stack: nothing where the stack does not provision
    it (tools.synth.consumers, e.g. no service rules on eks before appInstrumentation)."""
    if consumer not in consumers(list(stack_registrations(stack))):
        return set()
    running = running_sources(stack_values(stack))
    return {m for s in running for m, users in QUERIED.get(s, {}).items() if consumer in users}


def test_the_pinned_consumers_are_the_pinned_dashboards() -> None:
    assert {d.title: d.gnet_id for d in PREBUILT_DASHBOARDS} == PINNED


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("consumer", [*PINNED, LLM_JUDGE, ALERTS, SERVICE_ALERTS])
def test_queried_is_what_each_dashboard_and_the_alerts_query(stack: str, consumer: str) -> None:
    assert written(stack, consumer) == parsed(stack, consumer)


def test_queried_names_no_metric_twice_and_nothing_undelivered() -> None:
    seen = [m for metrics in QUERIED.values() for m in metrics]
    assert len(seen) == len(set(seen))
    assert not set(seen) & set(NOT_DELIVERED)


@pytest.mark.parametrize("stack", STACKS)
def test_each_metric_comes_from_its_source_in_the_real_render(stack: str) -> None:
    pipeline, otel = rendered_pipeline(stack), otel_metric_names()
    running = running_sources(stack_values(stack))
    for source, metrics in QUERIED.items():
        for name in metrics:
            producers = producers_of(name, otel)
            assert source in producers or (producers == (ANY_SCRAPE,) and source == ALLOY), (name, source)
            if source in running:
                assert pipeline.delivers(name, (source,)), f"{source} does not deliver {name} on {stack}"


@pytest.mark.parametrize("stack", STACKS)
def test_running_sources_are_the_rendered_ones(stack: str) -> None:
    pipeline = rendered_pipeline(stack)
    running = set(running_sources(stack_values(stack)))
    autodiscovery = {s for s in pipeline.scrapes if s.startswith(AUTODISCOVERY)}
    assert autodiscovery == {f"{AUTODISCOVERY}_http", f"{AUTODISCOVERY}_https"}
    assert running - {SERVICES_OTLP, AUTODISCOVERY} == set(pipeline.scrapes) - autodiscovery
    assert (SERVICES_OTLP in running) is pipeline.otlp_metrics is True


def test_the_api_servers_and_the_services_scrapes_count_when_they_run() -> None:
    """eks with `apiServerMetrics` on (about 20,000 series: README "Series bill"), autodiscovery off:
    the bill's sources follow the real render both ways."""
    from builders.k8s_monitoring_names import METRICS, RECEIVER
    from tools.rendered_pipeline import RenderedPipeline

    values = copy.deepcopy(stack_values("eks"))
    values["clusterMetrics"]["apiServer"] = {"enabled": True}
    del values["annotationAutodiscovery"]
    manifests = rendered_values(values)
    pipeline = RenderedPipeline.parse(
        collector_config(manifests, METRICS), collector_config(manifests, RECEIVER)
    )
    running = set(running_sources(values))
    assert API_SERVER in running and API_SERVER in pipeline.scrapes
    assert AUTODISCOVERY not in running
    assert not any(s.startswith(AUTODISCOVERY) for s in pipeline.scrapes)
    assert AUTODISCOVERY in running_sources(stack_values("eks"))


def test_allow_list_defaults_are_the_charts() -> None:
    defaults = load_chart_data().defaults
    for source in FILTERED_SOURCES:
        feature, block = source.path
        assert defaults[feature]["enabled"] is False, feature  # every feature is off until turned on
        chart_block = defaults[feature][block]
        assert chart_block.get("enabled", True) is source.enabled_by_default, source.scrape
        tuning = chart_block["metricsTuning"]
        assert tuning["useDefaultAllowList"] is True
        assert tuning.get("useIntegrationAllowList", False) is False
        assert (source.integration_list is not None) == ("useIntegrationAllowList" in tuning), source.scrape


def _lists(name: str) -> tuple[str, ...]:
    if name == metric_bill.ALLOY_LIST:
        from tools.metric_catalog import ALLOY_INTEGRATION_ALLOW_LIST

        return ALLOY_INTEGRATION_ALLOW_LIST
    return allow_list(name)


def test_bill_splits_each_sources_keep_list_into_queried_and_on_top() -> None:
    values = stack_values("local")
    bills = {
        b.source: b
        for b in series_bill(values, [*PINNED, LLM_JUDGE, ALERTS], running_sources(values), _lists)
    }
    cadvisor = bills["cadvisor"]
    assert "machine_cpu_cores" in cadvisor.queried and cadvisor.on_top is not None
    assert "container_fs_reads_total" in cadvisor.on_top and "machine_cpu_cores" not in cadvisor.on_top
    assert "node_cpu.*" in bills["node_exporter"].broader  # keeps node_cpu_seconds_total and more
    assert bills["node_exporter"].on_top is not None and "node_cpu.*" not in bills["node_exporter"].on_top
    assert "alloy_build_info" in (bills[ALLOY].on_top or ())
    assert bills["opencost"].queried == ()  # nothing here queries OpenCost; it reads its own metrics
    assert bills[SERVICES_OTLP].on_top is None  # no allow list: every OTLP metric is kept
    assert all(b.on_top is None for b in series_bill(values, [ALERTS], running_sources(values), None))


def test_bill_only_counts_the_consumers_the_stack_provisions() -> None:
    values = stack_values("local")
    bills = {b.source: b for b in series_bill(values, [ALERTS], running_sources(values), _lists)}
    assert bills["node_exporter"].queried == ()
    assert "node_uname_info" in (bills["node_exporter"].on_top or ())
    # PodCrashLooping and AlloyCollectorNotReady (desired vs ready of each collector workload kind).
    assert bills["kube_state_metrics"].queried == (
        "kube_daemonset_status_desired_number_scheduled",
        "kube_daemonset_status_number_ready",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_available",
        "kube_pod_container_status_waiting_reason",
        "kube_statefulset_replicas",
        "kube_statefulset_status_replicas_ready",
    )


@pytest.mark.parametrize("stack", STACKS)
def test_the_receiver_drops_the_body_size_histograms_and_nothing_queried(stack: str) -> None:
    # The free tier cannot afford them (about 1,440 series per cluster: README "Series bill") and
    # nothing here reads them: dropped in the receiver, as the real render shows.
    pipeline = rendered_pipeline(stack)
    assert pipeline.otlp_dropped == set(DROPPED_OTLP_METRICS)
    for otel, series in DROPPED_OTLP_METRICS.items():
        assert series in OTEL_HISTOGRAMS, otel  # the services do send it
        for suffix in ("_bucket", "_count", "_sum"):
            assert not pipeline.delivers(series + suffix, (SERVICES_OTLP,))
    queried = set(QUERIED[SERVICES_OTLP])
    assert queried and all(pipeline.delivers(name, (SERVICES_OTLP,)) for name in queried)
    assert "http_server_active_requests" in otel_metric_names()
    assert pipeline.delivers("http_server_active_requests", (SERVICES_OTLP,))  # the rest passes


def test_only_regex_entries_of_an_allow_list_can_keep_more_than_they_name() -> None:
    """Prometheus metric names are [a-zA-Z_:][a-zA-Z0-9_:]*: an entry of only those characters is
    one name; anything else in it is a regex (the chart's allow lists are regexes, fully matched)."""
    assert not metric_bill._is_pattern("kube_pod_info")
    assert not metric_bill._is_pattern("instance:node_cpu:ratio")
    assert metric_bill._is_pattern("kube_pod_container_status_.*")
    assert metric_bill._is_pattern("up|scrape_samples_scraped")
    values = stack_values("eks")
    for bill in series_bill(values, [*PINNED, LLM_JUDGE, ALERTS], running_sources(values), _lists):
        assert all(metric_bill._is_pattern(e) for e in bill.broader), bill.source
        assert not set(bill.broader) & set(bill.on_top or ()), bill.source
