"""tools.chart_check against the chart's published data (schemas and defaults), no Helm needed."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders.k8s_monitoring import METRICS_DESTINATION, MonitoringSpec, build_values
from tools import chart_check

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def profile_values(platform: str) -> dict[str, Any]:
    spec = MonitoringSpec(
        cluster_name=f"llm-judge-{platform}",
        namespace="llm-judge",
        release_name="grafana-k8s-monitoring",
        platform=platform,  # type: ignore[arg-type]
        prometheus_url="https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push",
        loki_url="https://logs-prod-006.grafana.net/loki/api/v1/push",
        otlp_url="https://otlp-gateway-prod-us-east-0.grafana.net/otlp",
        metrics_service_account_annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"},
        metrics_extra_config='prometheus.exporter.cloudwatch "sqs" { }\n',
    )
    return build_values(spec)


def with_change(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of values with the dotted path set (missing maps created)."""
    changed = copy.deepcopy(values)
    *parents, last = path.split("|") if "|" in path else path.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return changed


@pytest.mark.parametrize("platform", ["local", "eks"])
def test_profiles_pass(platform: str) -> None:
    assert chart_check.check_values(profile_values(platform)) == []


def test_plan_1x_values_fail_naming_the_unknown_keys() -> None:
    values = yaml.safe_load((FIXTURES / "k8s-monitoring-values-1x.yaml").read_text())
    problems = "\n".join(chart_check.check_values(values))
    for key in (
        "externalServices",
        "metrics",
        "logs",
        "traces",
        "alloy-metrics",
        "alloy-logs",
        "alloy-receiver",
        "alloy-singleton",
    ):
        assert f"unknown key: {key} " in problems


@pytest.mark.parametrize(
    "path",
    [
        "clusterMetrics.kubelet.enabeld",  # subchart block
        "clusterMetrics.apiServr",
        "telemetryServices.opencost.opencost.prometheus.existingSecret",
        "telemetryServices.opencost.exporter",  # OpenCost's values sit under opencost.opencost
        "alloy-operator.waitForAlloyRemoval.resoures",
        "global.scrapeIntervall",
        "applicationObservability.receivers.otlp.grpcc",
        "annotationAutodiscovery.annotations.metricsPort",
    ],
)
def test_misspelt_or_misplaced_key_fails(path: str) -> None:
    problems = chart_check.check_values(with_change(profile_values("local"), path, {"x": 1}))
    assert any(path in p for p in problems), problems


def test_misspelt_destination_key_fails() -> None:
    values = with_change(profile_values("local"), f"destinations|{METRICS_DESTINATION}|auth|usernameKy", "k")
    assert any(
        f"destinations.{METRICS_DESTINATION}.auth.usernameKy" in p for p in chart_check.check_values(values)
    )


def test_unknown_destination_type_fails() -> None:
    values = with_change(profile_values("local"), f"destinations|{METRICS_DESTINATION}|type", "mimir")
    assert any("unknown destination type 'mimir'" in p for p in chart_check.check_values(values))


def test_free_form_maps_and_passthrough_keys_are_allowed() -> None:
    values = profile_values("local")
    values["collectors"]["alloy-metrics"]["anything"] = {"goes": True}  # Alloy chart values
    values["telemetryServices"]["kube-state-metrics"]["priorityClassName"] = "high"
    values["podLogsViaLoki"]["labelSelectors"] = {"app": "x"}
    assert chart_check.check_values(values) == []


def test_passthrough_blocks_still_reject_unknown_names() -> None:
    values = with_change(profile_values("local"), "telemetryServices.kube-state-metrics.resourcez", {})
    assert any(
        "telemetryServices.kube-state-metrics.resourcez" in p for p in chart_check.check_values(values)
    )


def test_parent_schema_violation_fails() -> None:
    values = with_change(profile_values("local"), "clusterMetrics.enabled", "yes")
    assert any(
        p.startswith("schema (k8s-monitoring): clusterMetrics.enabled")
        for p in chart_check.check_values(values)
    )


def test_subchart_schema_violation_fails() -> None:
    # the parent schema does not describe kubelet; only the feature subchart's schema does
    values = with_change(profile_values("local"), "clusterMetrics.kubelet.enabled", "yes")
    problems = chart_check.check_values(values)
    assert any(
        p.startswith("schema (feature-cluster-metrics): clusterMetrics.kubelet.enabled") for p in problems
    )


OPENCOST = "telemetryServices.opencost.opencost"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (f"{OPENCOST}.prometheus.username_key", "username", "username_key"),
        (f"{OPENCOST}.prometheus.password_key", "password", "password_key"),
        (f"{OPENCOST}.prometheus.existingSecretName", "other", "existingSecretName"),
        (f"{OPENCOST}.prometheus.external.url", "", "external.url"),
        (f"{OPENCOST}.prometheus.external.url", "https://elsewhere/api/prom", "external.url"),
        (f"{OPENCOST}.exporter.defaultClusterId", "default-cluster", "defaultClusterId"),
        ("telemetryServices.opencost.metricsSource", "nowhere", "metricsSource"),
    ],
)
def test_opencost_template_rules(path: str, value: Any, message: str) -> None:
    problems = chart_check.check_values(with_change(guided_opencost_values(), path, value))
    assert any(message in p for p in problems), problems


def guided_opencost_values() -> dict[str, Any]:
    """Our values switched to the chart's guided OpenCost setup, which these rules belong to."""
    values = with_change(
        profile_values("local"), "telemetryServices.opencost.metricsSource", METRICS_DESTINATION
    )
    password_key = values["destinations"][METRICS_DESTINATION]["auth"]["passwordKey"]
    values = with_change(values, f"{OPENCOST}.prometheus.password_key", password_key)
    assert chart_check.check_values(values) == []
    return values


def test_opencost_rules_follow_the_destination() -> None:
    values = guided_opencost_values()
    values["destinations"][METRICS_DESTINATION]["auth"]["usernameKey"] = "OTHER_USER"
    assert any("username_key must be 'OTHER_USER'" in p for p in chart_check.check_values(values))


def test_custom_opencost_setup_skips_the_link_rules_but_not_the_cluster_id() -> None:
    values = profile_values("local")
    assert values["telemetryServices"]["opencost"]["metricsSource"] == "custom"
    assert chart_check.check_values(with_change(values, f"{OPENCOST}.prometheus.password_key", "OWN")) == []
    problems = chart_check.check_values(with_change(values, f"{OPENCOST}.exporter.defaultClusterId", "x"))
    assert any("defaultClusterId" in p for p in problems)


def test_data_directory_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(chart_check.data_dir(), data)
    defaults = yaml.safe_load((data / "values.yaml").read_text())
    del defaults["cluster"]  # not behind an alias, so only the parent defines it
    (data / "values.yaml").write_text(yaml.safe_dump(defaults))
    monkeypatch.setenv(chart_check.DATA_ENV, str(data))
    assert chart_check.data_dir() == data
    assert any(
        p.startswith("unknown key: cluster ") for p in chart_check.check_values(profile_values("local"))
    )
