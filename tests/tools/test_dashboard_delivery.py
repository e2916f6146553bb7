"""Every metric the five dashboards (and the alerts) query is delivered by the pipeline each stack deploys.

Judged from the real render: both stacks' Helm values, as the program builds them, rendered with the
packaged k8s-monitoring chart; the metrics collector's and the receiver's Alloy config read by
tools.rendered_pipeline (which scrape forwards through which keep/drop rules). The four grafana.com
dashboards are read at their pinned revisions from ../shared/dashboards (tests.support.pinned_dashboard
checks their hash against builders/grafana_com.py), never copied into the project; "LLM Judge" and
the alert rules are taken from what the program registers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from builders.grafana_com import PREBUILT_DASHBOARDS, dashboards_for_platform
from builders.k8s_monitoring import DASHBOARD_INCLUDES, NOT_DELIVERED
from builders.k8s_monitoring_names import METRICS, RECEIVER
from tests.support import (
    alert_expressions,
    collector_config,
    llm_judge_dashboard,
    pinned_dashboard,
    rendered_manifests,
    rendered_pipeline,
    stack_values,
)
from tools.metric_catalog import (
    ALLOY_INTEGRATION_ALLOW_LIST,
    FILTERED_SOURCES,
    SCRAPE_SERIES,
    allow_list,
    dashboard_metric_names,
    metric_names_in,
    otel_metric_names,
    source_keep_list,
)
from tools.rendered_pipeline import RenderedPipeline, producers_of

STACKS = ("local", "eks")


def dashboards(stack: str) -> dict[str, Mapping[str, Any]]:
    """All five dashboards the stack provisions, by name."""
    found: dict[str, Mapping[str, Any]] = {
        pin.describe(): pinned_dashboard(pin.gnet_id) for pin in dashboards_for_platform(stack)
    }
    found['"LLM Judge" (builders/dashboards.py)'] = llm_judge_dashboard(stack)
    assert len(found) == 5
    return found


def queried_metrics(stack: str) -> dict[str, set[str]]:
    """Metric name -> '<dashboard>: <panel or variable>' for every query of the five dashboards."""
    found: dict[str, set[str]] = {}
    for title, model in dashboards(stack).items():
        names = dashboard_metric_names(model)
        assert names, f"{title} queries no metric"
        for name, places in names.items():
            found.setdefault(name, set()).update(f"{title}: {place}" for place in places)
    return found


def undelivered(stack: str, names: Mapping[str, set[str]]) -> dict[str, set[str]]:
    otel = otel_metric_names()
    return {
        n: where
        for n, where in names.items()
        if not rendered_pipeline(stack).delivers(n, producers_of(n, otel))
    }


def _report(missing: Mapping[str, set[str]]) -> str:
    return "\n".join(f"  {name}: {'; '.join(sorted(where))}" for name, where in sorted(missing.items()))


# --- the dashboards ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gnet_id", [d.gnet_id for d in PREBUILT_DASHBOARDS])
def test_the_pinned_dashboards_are_read_at_their_pinned_revision(gnet_id: int) -> None:
    model = pinned_dashboard(gnet_id)  # fails unless its content_sha256 is the pin's
    (pin,) = [d for d in PREBUILT_DASHBOARDS if d.gnet_id == gnet_id]
    assert model["version"] == pin.revision and model["title"] == pin.title


@pytest.mark.parametrize("stack", STACKS)
def test_every_metric_the_dashboards_query_is_delivered(stack: str) -> None:
    """Panels and query variables of all five dashboards; only NOT_DELIVERED (documented) may be missing."""
    queried = queried_metrics(stack)
    missing = undelivered(stack, queried)
    unexpected = {n: w for n, w in missing.items() if n not in NOT_DELIVERED}
    assert not unexpected, f"the {stack} pipeline drops metrics the dashboards query:\n{_report(unexpected)}"
    assert set(missing) == set(NOT_DELIVERED), "NOT_DELIVERED lists a metric the pipeline does deliver"


@pytest.mark.parametrize("stack", STACKS)
def test_every_metric_the_alerts_query_is_delivered(stack: str) -> None:
    names: dict[str, set[str]] = {}
    for title, expr in alert_expressions(stack):
        for name in metric_names_in(expr):
            names.setdefault(name, set()).add(f"alert {title}")
    assert len(names) >= 5
    assert undelivered(stack, names) == {}


def test_not_delivered_metrics_are_queried_and_really_not_produced() -> None:
    queried = set().union(*(dashboard_metric_names(pinned_dashboard(d.gnet_id)) for d in PREBUILT_DASHBOARDS))
    assert set(NOT_DELIVERED) <= queried, "NOT_DELIVERED must only name metrics a dashboard queries"
    # kube_endpoint_info needs kube-state-metrics' `endpoints` collector; the chart's deploys without it.
    (ksm,) = [
        m
        for m in rendered_manifests("local")
        if m["kind"] == "Deployment" and m["metadata"]["name"].endswith("kube-state-metrics")
    ]
    args = " ".join(ksm["spec"]["template"]["spec"]["containers"][0]["args"])
    resources = re.search(r"--resources=(\S+)", args)
    assert resources, args
    assert "endpointslices" in resources.group(1).split(",")
    assert "endpoints" not in resources.group(1).split(",")


def test_the_check_finds_what_the_charts_default_lists_drop() -> None:
    """The same render with our includes cut out of its keep rules (the chart appends them last, as
    main's values before issue 12 rendered): the Nodes dashboard's $instance variable goes empty."""
    manifests = rendered_manifests("local")
    config = collector_config(manifests, METRICS)
    for names in DASHBOARD_INCLUDES.values():
        included = "|" + "|".join(names) + '"'
        assert included in config
        config = config.replace(included, '"')
    without = RenderedPipeline.parse(config, collector_config(manifests, RECEIVER))
    assert rendered_pipeline("local").delivers("node_uname_info", producers_of("node_uname_info"))
    for name in ("node_uname_info", "kube_pod_status_qos_class", "container_oom_events_total"):
        assert not without.delivers(name, producers_of(name)), name


# --- the includes: exactly what the dashboards need, per source --------------------------------------


def _pinned_queries() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for pin in PREBUILT_DASHBOARDS:
        for name, places in dashboard_metric_names(pinned_dashboard(pin.gnet_id)).items():
            found.setdefault(name, set()).update(f"{pin.gnet_id} {p}" for p in places)
    return found


@pytest.mark.parametrize("source", FILTERED_SOURCES, ids=lambda s: s.scrape)
def test_includes_are_exactly_what_the_dashboards_need_beyond_the_default_list(source: Any) -> None:
    default = allow_list(source.default_list)
    needed = {
        name
        for name in _pinned_queries()
        if name not in NOT_DELIVERED
        and source.scrape in producers_of(name, otel_metric_names())
        and not any(re.fullmatch(p, name) for p in default)
        # produced by another scrape whose default list keeps it (container CPU/memory: kubelet resource)
        and not any(
            re.fullmatch(p, name)
            for other in FILTERED_SOURCES
            if other.scrape in producers_of(name) and other is not source
            for p in allow_list(other.default_list)
        )
    }
    includes = DASHBOARD_INCLUDES.get(source.path, ())  # type: ignore[call-overload]
    assert len(set(includes)) == len(includes)
    assert set(includes) == needed


# --- the catalog (allow lists + our includes) agrees with the render ----------------------------------


def _alternatives(regex: str) -> list[str]:
    """The top-level alternatives of a regex: 'a|b(c|d)' -> ['a', 'b(c|d)']."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(regex):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(regex[start:i])
            start = i + 1
    return [*parts, regex[start:]]


@pytest.mark.parametrize("stack", STACKS)
def test_catalog_keep_lists_are_the_rendered_keep_rules(stack: str) -> None:
    rendered = rendered_pipeline(stack).scrapes
    for source in FILTERED_SOURCES:
        kept = source_keep_list(stack_values(stack), source)
        if kept is None:
            assert source.scrape not in rendered, source.scrape
            continue
        (keep,) = rendered[source.scrape].filter.keep
        assert _alternatives(keep) == list(kept), source.scrape
        assert rendered[source.scrape].filter.drop == ()
    (alloy_keep,) = rendered["alloy"].filter.keep
    assert _alternatives(alloy_keep) == [*SCRAPE_SERIES, *ALLOY_INTEGRATION_ALLOW_LIST]
