"""The pipeline's metric catalog and the PromQL name extraction (pure)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from builders import cloudwatch
from builders.features import FeatureToggles
from tests.support import chart_path
from tools.chart_check import DATA_ENV, data_dir
from tools.chart_data import chart_file
from tools.metric_catalog import (
    ALLOY_INTEGRATION_ALLOW_LIST,
    FILTERED_SOURCES,
    CatalogEntry,
    MetricCatalog,
    allow_list,
    dashboard_metric_names,
    dashboard_queries,
    default_values,
    grafana_promql,
    metric_names_in,
    otel_label_problems,
    otel_metric_names,
    pipeline_catalog,
    source_keep_list,
)

# The lists the default values keep: kubelet, its resource endpoint, cAdvisor, kube-state-metrics
# (clusterMetrics), node-exporter (hostMetrics) and OpenCost (costMetrics); kubelet probes are off.
DEFAULT_LISTS = ("kubelet", "kubelet_resource", "cadvisor", "kube-state-metrics", "node-exporter", "opencost")


@pytest.fixture(params=[False, True], ids=["local", "eks"])
def catalog(request: pytest.FixtureRequest) -> MetricCatalog:
    return pipeline_catalog(sqs=request.param)


# --- contents -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", DEFAULT_LISTS)
def test_every_allow_list_entry_is_in_the_catalog(source: str, catalog: MetricCatalog) -> None:
    raw = yaml.safe_load((data_dir() / "allowLists" / f"{source}.yaml").read_text())
    assert raw, source
    for entry in raw:
        if entry.replace("_", "").isalnum():
            assert catalog.contains(entry), entry


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kube_job_status_failed", True),  # kube_job.*
        ("kube_node_status_condition", True),  # kube_node.*
        ("node_cpu_seconds_total", True),  # node_cpu.*
        ("kube_pod_container_status_waiting_reason", True),
        ("kube_pod_container_status_restarts_total", True),
        ("container_cpu_usage_seconds_total", True),
        ("node_cpu_hourly_cost", True),  # opencost
        ("node_cpu_usage_seconds_total", True),  # kubelet_resource
        ("xkube_job_status_failed", False),  # patterns are anchored
        ("kube_pod_labels", False),
        ("kube_pod_status_qos_class", True),  # our includeMetrics (a dashboard needs it)
        ("node_uname_info", True),  # our includeMetrics for node-exporter
        ("node_arp_entries", False),  # only in the integration allow list, which is not used
        ("prober_probe_total", False),  # kubelet_probes is off by default
        ("kepler_container_joules_total", False),  # kepler is not enabled
        ("apiserver_request_total", False),  # API server: no allow list, not catalogued
    ],
)
def test_allow_list_regexes_match_whole_names(name: str, expected: bool, catalog: MetricCatalog) -> None:
    assert catalog.contains(name) is expected


def test_service_metrics_are_the_stable_semconv_prometheus_names(catalog: MetricCatalog) -> None:
    for suffix in ("bucket", "count", "sum"):
        assert catalog.contains(f"http_server_request_duration_seconds_{suffix}")
        assert catalog.contains(f"http_client_request_duration_seconds_{suffix}")
    assert catalog.contains("target_info")
    # Old semconv (ms) and the plan's invented counter are not produced.
    assert not catalog.contains("http_server_duration_milliseconds_bucket")
    assert not catalog.contains("http_server_requests_total")


def test_collector_self_metrics_and_up(catalog: MetricCatalog) -> None:
    for name in (
        "up",
        "scrape_samples_scraped",
        "alloy_build_info",
        "prometheus_remote_storage_samples_failed_total",
        "prometheus_remote_storage_samples_dropped_total",
    ):
        assert catalog.contains(name), name
    assert catalog.source_of("alloy_build_info") == "integrations.alloy allow list"


def test_sqs_names_only_when_the_stack_collects_sqs() -> None:
    with_sqs, without = pipeline_catalog(sqs=True), pipeline_catalog(sqs=False)
    for name in cloudwatch.metric_names():
        assert with_sqs.contains(name)
        assert not without.contains(name)


def test_missing_lists_unknown_names_sorted(catalog: MetricCatalog) -> None:
    assert catalog.missing(["zz_unknown", "up", "aa_unknown", "up"]) == ["aa_unknown", "zz_unknown"]


def test_catalog_entries_know_regex_from_name() -> None:
    assert CatalogEntry("kube_job.*", "x").is_regex
    assert not CatalogEntry("kube_pod_info", "x").is_regex
    assert CatalogEntry("kube_job.*", "x").matches("kube_job_info")


def test_data_directory_comes_from_the_shared_resolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(data_dir(), tmp_path, dirs_exist_ok=True)
    for name in DEFAULT_LISTS:
        (tmp_path / "allowLists" / f"{name}.yaml").write_text(f"- only_in_{name.replace('-', '_')}\n")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    catalog = pipeline_catalog(sqs=False)
    assert catalog.contains("only_in_kube_state_metrics")
    assert not catalog.contains("kube_pod_info")
    assert allow_list("opencost") == ("only_in_opencost",)


# --- the catalog follows the values ---------------------------------------------------------


def _values(platform: str = "local", **features: bool) -> dict:
    from builders.k8s_monitoring import MonitoringSpec, build_values

    return build_values(
        MonitoringSpec(
            cluster_name="c",
            namespace="llm-judge",
            release_name="grafana-k8s-monitoring",
            platform=platform,  # type: ignore[arg-type]
            prometheus_url="https://p.example/api/prom/push",
            loki_url="https://l.example/loki/api/v1/push",
            otlp_url="https://o.example/otlp",
            features=FeatureToggles(**features),
        )
    )


def test_catalog_follows_the_include_lists_in_the_values() -> None:
    without_dashboards = pipeline_catalog(sqs=False, values=_values(dashboards=False))
    assert not without_dashboards.contains("node_uname_info")
    assert not without_dashboards.contains("kube_pod_status_qos_class")
    assert pipeline_catalog(sqs=False, values=_values()).contains("node_uname_info")


def test_catalog_reads_the_tuning_switches_of_the_values() -> None:
    values = _values()
    values["hostMetrics"]["linuxHosts"]["metricsTuning"]["useIntegrationAllowList"] = True
    values["clusterMetrics"]["cadvisor"]["metricsTuning"]["useDefaultAllowList"] = False
    catalog = pipeline_catalog(sqs=False, values=values)
    assert catalog.contains("node_arp_entries")  # integration list
    assert catalog.contains("machine_cpu_cores")  # our include stays
    assert not catalog.contains("container_fs_reads_total")  # cAdvisor's default list is off


def test_a_feature_turned_off_takes_its_sources_out() -> None:
    catalog = pipeline_catalog(sqs=False, values=_values(cluster_metrics=False))
    assert not catalog.contains("kube_pod_info")
    assert not catalog.contains("node_cpu_seconds_total")
    assert catalog.contains("node_cpu_hourly_cost")  # OpenCost is costMetrics


def test_keep_list_is_what_the_chart_template_builds() -> None:
    cadvisor = next(s for s in FILTERED_SOURCES if s.scrape == "cadvisor")
    kept = source_keep_list(default_values("local"), cadvisor)
    assert kept is not None
    assert kept[:2] == ("up", "scrape_samples_scraped")  # prepended once, then de-duplicated
    assert kept.count("up") == 1
    assert kept[-1] == "machine_cpu_cores"  # includes after the default list
    probes = next(s for s in FILTERED_SOURCES if s.scrape == "kubelet_probes")
    assert source_keep_list(default_values("local"), probes) is None  # off by default


def test_exclude_lists_are_refused() -> None:
    values = _values()
    values["clusterMetrics"]["cadvisor"]["metricsTuning"]["excludeMetrics"] = ["x"]
    with pytest.raises(ValueError, match="excludeMetrics"):
        pipeline_catalog(sqs=False, values=values)


def test_malformed_allow_list_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "allowLists").mkdir()
    (tmp_path / "allowLists" / "kubelet.yaml").write_text("kubelet: [a]\n")
    with pytest.raises(ValueError, match=r"kubelet\.yaml"):
        allow_list("kubelet", tmp_path)


def test_alloy_allow_list_is_the_charts() -> None:
    data = chart_file(chart_path(), "charts/feature-integrations/default-allow-lists/alloy.yaml")
    assert data is not None, "the chart has no alloy integration allow list"
    assert tuple(yaml.safe_load(data)) == ALLOY_INTEGRATION_ALLOW_LIST


def test_alloy_allow_list_has_no_duplicates() -> None:
    assert len(set(ALLOY_INTEGRATION_ALLOW_LIST)) == len(ALLOY_INTEGRATION_ALLOW_LIST)


# --- PromQL names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('sum by (job) (rate(a_total{job="x"}[5m])) / sum(rate(b_total[5m]))', {"a_total", "b_total"}),
        ("histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", {"h_bucket"}),
        ('{__name__="by_name", job="x"}', {"by_name"}),
        ('{__name__=~"one|two"}', {"one", "two"}),
        ("max_over_time(g[10m:1m] offset 5m)", {"g"}),
        ("absent(m) or vector(0)", {"m"}),
        ("vector(1700000000) - time()", set()),
        ('c{a="1" or b="2"}', {"c"}),
    ],
)
def test_metric_names_in(expr: str, names: set[str]) -> None:
    assert metric_names_in(expr) == names


def test_syntax_error_carries_the_parsers_message() -> None:
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        metric_names_in("sum(rate(up[5m])")


@pytest.mark.parametrize("expr", ['{job="x"}', '{__name__=~"kube_.*"}', '{__name__!="up", job="x"}'])
def test_selectors_whose_names_cannot_be_enumerated_are_rejected(expr: str) -> None:
    with pytest.raises(ValueError, match=r"cannot check|names no metric"):
        metric_names_in(expr)


# --- labels on service metrics --------------------------------------------------------------


def test_otel_label_problems_flags_labels_otlp_conversion_never_sets() -> None:
    problems = otel_label_problems(
        "histogram_quantile(0.95, sum(rate(http_server_request_duration_seconds_bucket"
        '{namespace="llm-judge"}[5m])) by (le, service))'
    )
    assert any("'namespace'" in p for p in problems)
    assert any("'service'" in p for p in problems)


def test_otel_label_problems_accepts_job_and_semconv_attributes() -> None:
    expr = (
        'sum by (job, http_route) (rate(http_server_request_duration_seconds_count{job="llm-judge/a", '
        'http_response_status_code=~"5.."}[5m]))'
    )
    assert otel_label_problems(expr) == []


def test_otel_label_problems_ignores_other_metrics() -> None:
    assert otel_label_problems('sum by (pod) (kube_pod_info{namespace="llm-judge"})') == []


def test_otel_names_include_histogram_series() -> None:
    assert {"http_server_request_duration_seconds_bucket", "target_info"} <= otel_metric_names()


# --- Grafana dashboards: queries and variables --------------------------------------------------


def _dashboard(panels: list, variables: list) -> dict:
    return {"panels": panels, "templating": {"list": variables}}


def test_grafana_variables_are_substituted_before_parsing() -> None:
    variables = {"cluster": "placeholder", "__rate_interval": "5m", "resolution": "5m"}
    expr = (
        'sum(rate(a_total{cluster="$cluster", node=~"${cluster:regex}", x="[[cluster]]"}[$__rate_interval]))'
    )
    assert grafana_promql(expr, variables) == (
        'sum(rate(a_total{cluster="placeholder", node=~"placeholder", x="placeholder"}[5m]))'
    )
    # Not a variable of the dashboard: left alone (label_replace's "$1").
    assert grafana_promql('label_replace(up, "a", "$1", "b", "(.*)")', variables).count("$1") == 1


def test_queries_come_from_every_panel_row_and_query_variable() -> None:
    model = _dashboard(
        panels=[
            {
                "type": "timeseries",
                "title": "top",
                "targets": [{"refId": "A", "expr": "rate(a_total[$__rate_interval])"}],
            },
            {
                "type": "row",
                "collapsed": True,
                "panels": [{"title": "nested", "targets": [{"refId": "B", "expr": 'b{n="$node"}'}]}],
            },
            {"title": "logs", "datasource": {"type": "loki", "uid": "l"}, "targets": [{"expr": '{job="x"}'}]},
        ],
        variables=[
            {
                "name": "node",
                "type": "query",
                "query": {"query": 'label_values(c{cluster="$cluster"}, node)'},
            },
            {"name": "cluster", "type": "query", "definition": "", "query": "label_values(d, cluster)"},
            {"name": "top", "type": "query", "query": "query_result(topk(5, e))"},
            {"name": "interval", "type": "interval", "options": [{"value": "1m"}]},
            {"name": "ds", "type": "datasource", "query": "prometheus"},
        ],
    )
    names = dashboard_metric_names(model)
    assert set(names) == {"a_total", "b", "c", "d", "e"}  # not the Loki query
    assert names["b"] == {"panel 'nested' target B"}
    assert names["c"] == {"variable $node"}


@pytest.mark.parametrize("query", ["label_values(node)", "metrics(kube_.*)", "label_names()"])
def test_variable_queries_whose_metrics_cannot_be_told_are_refused(query: str) -> None:
    model = _dashboard([], [{"name": "v", "type": "query", "query": query}])
    with pytest.raises(ValueError, match=r"\$v"):
        dashboard_queries(model)


def test_duration_variables_get_a_duration() -> None:
    model = _dashboard(
        [{"title": "p", "targets": [{"expr": "rate(a_total[$resolution])"}]}],
        [{"name": "resolution", "type": "custom", "options": [{"value": "1s"}, {"value": "5m"}]}],
    )
    assert dashboard_queries(model)[0].promql == "rate(a_total[5m])"
