"""The Grafana -> Prometheus rule translation (tools.prom_rules) and its promtool runner.

The translation is checked twice: its text against expressions written out here, and its behaviour
under promtool against Grafana's documented semantics (threshold, pending period, no-data state).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from builders import alerts
from builders.alerts import AlertRule
from tests.support import prometheus_binary
from tools import prom_rules
from tools.pipeline_series import Cluster
from tools.prom_rules import (
    Alert,
    Check,
    Scenario,
    Series,
    UntranslatableRuleError,
    prometheus_rule,
    rule_file,
    run_scenarios,
    translated_expr,
)


def make_rule(**changes: Any) -> AlertRule:
    fields: dict[str, Any] = {
        "uid": "t-rule",
        "title": "TestRule",
        "group": "g",
        "expr": "sum(m)",
        "threshold": 5.0,
        "comparison": "gt",
        "for_": "2m",
        "severity": "warning",
        "summary": "value {{ $values.B.Value }}",
        "description": "of {{ $labels.job }}",
        "runbook_url": "https://r/x.md#t-rule",
        "no_data_state": "OK",
        "exec_err_state": "Error",
        "labels": {"team": "a"},
    }
    return AlertRule(**{**fields, **changes})


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "(sum(m)) > 5.0"),
        ({"comparison": "lt", "threshold": 0.05}, "(sum(m)) < 0.05"),
        ({"no_data_state": "NoData"}, "(sum(m)) > 5.0"),
        ({"no_data_state": "Alerting"}, "((sum(m)) > 5.0) or absent(sum(m))"),
        (
            {
                "expr": 'count by (cluster) (up{cluster="c"})',
                "comparison": "lt",
                "threshold": 1.0,
                "no_data_state": "Alerting",
            },
            '((count by (cluster) (up{cluster="c"})) < 1.0) or absent(count by (cluster) (up{cluster="c"}))',
        ),
    ],
)
def test_condition_and_no_data_state_become_the_expression(changes: dict[str, Any], expected: str) -> None:
    assert translated_expr(make_rule(**changes)) == expected


def test_rule_carries_title_pending_period_labels_and_annotations() -> None:
    assert prometheus_rule(make_rule()) == {
        "alert": "TestRule",
        "expr": "(sum(m)) > 5.0",
        "for": "2m",
        "labels": {"team": "a", "severity": "warning"},
        "annotations": {
            "summary": "value {{ $value }}",
            "description": "of {{ $labels.job }}",
            "runbook_url": "https://r/x.md#t-rule",
        },
    }
    assert "annotations" not in prometheus_rule(make_rule(), annotations=False)


def test_rule_file_groups_rules_and_evaluates_every_minute() -> None:
    document = rule_file([make_rule(), make_rule(uid="u2", title="Other", group="h")], annotations=False)
    assert [(g["name"], g["interval"], [r["alert"] for r in g["rules"]]) for g in document["groups"]] == [
        ("g", "60s", ["TestRule"]),
        ("h", "60s", ["Other"]),
    ]


def _patched_model(monkeypatch: pytest.MonkeyPatch, stage: int, change: dict[str, Any]) -> None:
    real = alerts.grafana_rule_data

    def patched(rule: AlertRule, datasource_uid: str) -> list[dict[str, Any]]:
        data = copy.deepcopy(real(rule, datasource_uid))
        data[stage]["model"].update(change)
        return data

    monkeypatch.setattr(prom_rules, "grafana_rule_data", patched)


@pytest.mark.parametrize(
    ("stage", "change", "culprit"),
    [
        (0, {"instant": False, "range": True}, "not an instant query"),
        (1, {"reducer": "mean"}, "not `last` of A"),
        (1, {"settings": {"mode": "dropNN"}}, "reduce mode"),
        (2, {"conditions": [{"evaluator": {"type": "within_range", "params": [1, 2]}}]}, "not gt/lt"),
        (
            2,
            {"conditions": [{"evaluator": {"type": "gt", "params": [1]}, "unloadEvaluator": {}}]},
            "one evaluator",
        ),
        (2, {"expression": "A"}, "not a threshold on B"),
    ],
)
def test_what_the_translation_cannot_express_is_refused(
    monkeypatch: pytest.MonkeyPatch, stage: int, change: dict[str, Any], culprit: str
) -> None:
    _patched_model(monkeypatch, stage, change)
    with pytest.raises(UntranslatableRuleError, match=culprit):
        translated_expr(make_rule())


def test_annotations_reading_other_values_are_refused() -> None:
    with pytest.raises(UntranslatableRuleError, match="other than B"):
        prometheus_rule(make_rule(summary="{{ $values.A.Value }}"))


# --- behaviour under promtool -----------------------------------------------------------------


def m(values: str) -> Series:
    return Series("m", {"job": "x"}, values)


FIRED = Alert({"severity": "warning", "team": "a"})


def test_gt_fires_after_the_pending_period_above_the_threshold_only() -> None:
    # 4 until minute 3, then 6: above 5 from minute 4, firing at 4 + 2 = 6 and not at 5.
    crossing = Scenario(
        "crossing", (m("4x3 6x10"),), (Check("5m", "TestRule"), Check("6m", "TestRule", (FIRED,)))
    )
    at_threshold = Scenario("equal", (m("5x10"),), (Check("10m", "TestRule"),))
    result = run_scenarios([make_rule()], [crossing, at_threshold], prometheus_binary("promtool"))
    assert result.ok, result.output


def test_lt_fires_below_the_threshold() -> None:
    rule = make_rule(comparison="lt")
    below = Scenario("below", (m("4x10"),), (Check("1m", "TestRule"), Check("2m", "TestRule", (FIRED,))))
    above = Scenario("above", (m("6x10"),), (Check("5m", "TestRule"),))
    result = run_scenarios([rule], [below, above], prometheus_binary("promtool"))
    assert result.ok, result.output


def test_no_data_alerting_fires_without_series_and_ok_does_not() -> None:
    nothing = (Series("other", {"job": "x"}, "1x10"),)
    alerting = make_rule(no_data_state="Alerting")
    fires = Scenario("no data", nothing, (Check("1m", "TestRule"), Check("2m", "TestRule", (FIRED,))))
    quiet_with_data = Scenario("data below", (m("1x10"),), (Check("5m", "TestRule"),))
    result = run_scenarios([alerting], [fires, quiet_with_data], prometheus_binary("promtool"))
    assert result.ok, result.output
    ok_rule = make_rule(no_data_state="OK")
    assert run_scenarios(
        [ok_rule], [Scenario("no data", nothing, (Check("5m", "TestRule"),))], prometheus_binary("promtool")
    ).ok


def test_annotations_are_rendered_with_the_value_of_b() -> None:
    fired = Alert(
        {"severity": "warning", "team": "a", "job": "x"},
        {"summary": "value 6", "description": "of x", "runbook_url": "https://r/x.md#t-rule"},
    )
    rule = make_rule(expr="max by (job) (m)")
    scenario = Scenario("rendered", (m("6x5"),), (Check("2m", "TestRule", (fired,)),))
    result = run_scenarios([rule], [scenario], prometheus_binary("promtool"))
    assert result.ok, result.output


def test_a_failed_check_is_reported_by_scenario_alert_and_time() -> None:
    wrong = Scenario("expects a fire that never comes", (m("1x5"),), (Check("3m", "TestRule", (FIRED,)),))
    result = run_scenarios([make_rule()], [wrong], prometheus_binary("promtool"))
    assert not result.ok
    assert [(f.scenario, f.alertname, f.at, f.nothing_fired) for f in result.failed_checks()] == [
        ("expects a fire that never comes", "TestRule", "3m", True)
    ]


def test_a_rule_promtool_cannot_load_fails_the_run() -> None:
    broken = make_rule(expr="sum(m")  # invalid PromQL: promtool refuses the rule file
    result = run_scenarios(
        [broken], [Scenario("s", (m("1"),), (Check("1m", "TestRule"),))], prometheus_binary("promtool")
    )
    assert not result.ok and "could not parse expression" in result.output


# --- scenario shape ---------------------------------------------------------------------------


def test_scenarios_refuse_duplicate_series_and_no_checks() -> None:
    with pytest.raises(ValueError, match="duplicate series"):
        Scenario("dup", (m("1"), m("2")), (Check("1m", "TestRule"),))
    with pytest.raises(ValueError, match="checks nothing"):
        Scenario("empty", (m("1"),), ())


def test_annotations_on_some_expected_alerts_only_are_refused() -> None:
    with_text = Alert({"severity": "warning"}, {"summary": "x"})
    scenario = Scenario("mixed", (m("1"),), (Check("1m", "TestRule", (FIRED, with_text)),))
    with pytest.raises(ValueError, match="every expected alert"):
        run_scenarios([make_rule()], [scenario], prometheus_binary("promtool"))


def test_series_of_several_clusters_differ_only_by_cluster() -> None:
    a, b = Cluster("cluster-a"), Cluster("cluster-b")
    (up_a,), (up_b,) = a.alloy_up("alloy-metrics", "1"), b.alloy_up("alloy-metrics", "1")
    assert (up_a.labels["cluster"], up_a.labels["k8s_cluster_name"]) == ("cluster-a", "cluster-a")
    assert (up_b.labels["cluster"], up_b.labels["k8s_cluster_name"]) == ("cluster-b", "cluster-b")
    scenario = Scenario("two clusters", (*a.healthy(5), *b.healthy(5)), (Check("1m", "TestRule"),))
    assert len(scenario.series) == 2 * len(a.healthy(5))
