"""The alert rules under Prometheus' own rule evaluator: Grafana's model translated, run by `promtool`.

Test-time only (it needs promtool; runtime code never imports it). Two parts:

1. Translation. `prometheus_rule(rule)` reads what the program sends Grafana for one rule
   (`builders.alerts.grafana_rule_data`: instant query A, reduce B = `last` of A, threshold C on B,
   condition C; the rule's `for_`, labels, annotations and no-data state) and writes the equivalent
   Prometheus alerting rule:

       Grafana                                   Prometheus
       A (instant PromQL), B = last(A)           the expression A (an instant vector has one sample
                                                  per series: `last` of it is that sample)
       C: B gt X / B lt X                         (A) > X / (A) < X
       for_                                       for
       noDataState Alerting                       ... or absent(A)   (fires when A returns no series;
                                                  absent() of an aggregate carries no labels, like
                                                  Grafana's no-data instance: only the rule's labels)
       noDataState OK / NoData                    nothing added: no series, no alert
       labels (severity included), title          labels, alert (Prometheus adds alertname = title)
       annotations: {{ $values.B.Value }}         {{ $value }} (the value of A = B)
       evaluation every 60 s                      group interval 1m (`rule_file`)

   What it cannot express, hence what these tests do not prove:
   - execErrState (a failing query: Grafana's DatasourceError) and noDataState NoData's separate
     `DatasourceNoData` alert; promtool has no failing or separate data source.
   - Grafana's extra labels (`grafana_folder`, `__alert_rule_uid__`) and its resolution of an instance
     whose series vanished (Grafana: after two evaluation intervals; Prometheus: at once).
   - Scheduling: Grafana spreads evaluations within the interval; promtool evaluates at 0, 1m, 2m, ...
   - Reduce modes other than the default strict `last`, other evaluator types (within_range, ...),
     recovery thresholds, range queries, several queries, `$values` of other refIds: any of these in
     the model raises `UntranslatableRuleError` naming it, rather than translating approximately.

2. Scenarios. A `Scenario` is promtool's input series and the alerts expected at given times:

       from tools.prom_rules import Alert, Check, Scenario, run_scenarios
       from tools.pipeline_series import Cluster

       local, eks = Cluster("llm-judge-local"), Cluster("llm-judge-eks-prod")   # several clusters
       scenario = Scenario(
           name="remote write refused, no drop ever recorded",
           series=(*local.alloy_up("alloy-metrics", "1x40"),
                   *local.remote_write_counters("alloy-metrics", failed="0+600x40"),
                   *eks.healthy(minutes=40)),                  # series of several clusters just concatenate
           checks=(
               Check("10m", "AlloyRemoteWriteFailing"),         # nothing fires yet (pending)
               Check("11m", "AlloyRemoteWriteFailing", (Alert({"severity": "critical", ...}),)),
           ),
       )
       promtool = tests.support.prometheus_binary("promtool")   # missing: the test fails, never skips
       result = run_scenarios(rules, [scenario], promtool)      # rules: builders.alerts.AlertRule
       assert result.ok, result.output                          # the report names every failed check
       result.failed_checks()   # [FailedCheck(scenario, alertname, at, nothing_fired)], to assert a failure

   `Alert.labels` are the alert's complete labels except `alertname` (promtool adds it); give
   `Alert.annotations` on every expected alert of a run to check the rendered annotations too, or on
   none (the rules are then translated without annotations). Series come from
   `tools.pipeline_series`, which shapes them as this pipeline delivers them; one `Cluster` per cluster
   (its `cluster` label), so rules that must keep clusters apart are tested by concatenating several.
   Timing, as promtool evaluates: a sample at minute m is seen until m + 5 (the 5-minute lookback),
   a `rate` has a value from the second sample, an alert fires `for` after its condition first holds.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builders.alerts import CONDITION_REF_ID, EVALUATION_INTERVAL_SECONDS, AlertRule, grafana_rule_data

_DATASOURCE = "translation"  # any uid: the translation reads the model, not the data source
_DURATION = re.compile(r"^([0-9]+[smhdwy])+$")
_VALUE_OF_B = re.compile(r"\$values\.B\.Value\b")


class UntranslatableRuleError(ValueError):
    """The rule's Grafana model uses something the translation does not express."""


def _stage(data: list[dict[str, Any]], ref_id: str, rule: AlertRule) -> dict[str, Any]:
    found = [d for d in data if d["refId"] == ref_id]
    if len(found) != 1:
        raise UntranslatableRuleError(f"{rule.uid}: expected one stage {ref_id}, found {len(found)}")
    return found[0]["model"]


def _number(value: float) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise UntranslatableRuleError(f"threshold {value!r} is not a number")
    return repr(float(value))


def translated_expr(rule: AlertRule) -> str:
    """The Prometheus expression equivalent to the rule's Grafana condition and no-data state."""
    data = grafana_rule_data(rule, _DATASOURCE)
    if {d["refId"] for d in data} != {"A", "B", CONDITION_REF_ID} or len(data) != 3:
        raise UntranslatableRuleError(f"{rule.uid}: stages {[d['refId'] for d in data]} are not A, B, C")
    query, reduce, threshold = (_stage(data, ref, rule) for ref in ("A", "B", CONDITION_REF_ID))
    if query.get("instant") is not True or query.get("range") is not False:
        raise UntranslatableRuleError(f"{rule.uid}: query A is not an instant query")
    if (reduce.get("type"), reduce.get("expression"), reduce.get("reducer")) != ("reduce", "A", "last"):
        raise UntranslatableRuleError(f"{rule.uid}: B is not `last` of A: {reduce}")
    if "settings" in reduce:
        raise UntranslatableRuleError(
            f"{rule.uid}: reduce mode {reduce['settings']} is not the default strict"
        )
    if (threshold.get("type"), threshold.get("expression")) != ("threshold", "B"):
        raise UntranslatableRuleError(f"{rule.uid}: C is not a threshold on B: {threshold}")
    conditions = threshold.get("conditions", [])
    if len(conditions) != 1 or set(conditions[0]) != {"evaluator"}:
        raise UntranslatableRuleError(f"{rule.uid}: C has conditions {conditions}, expected one evaluator")
    evaluator = conditions[0]["evaluator"]
    operators = {"gt": ">", "lt": "<"}
    if evaluator.get("type") not in operators or len(evaluator.get("params", [])) != 1:
        raise UntranslatableRuleError(f"{rule.uid}: evaluator {evaluator} is not gt/lt with one parameter")
    a = query["expr"]
    condition = f"({a}) {operators[evaluator['type']]} {_number(evaluator['params'][0])}"
    if rule.no_data_state == "Alerting":
        return f"({condition}) or absent({a})"
    if rule.no_data_state in ("OK", "NoData"):
        return condition
    raise UntranslatableRuleError(f"{rule.uid}: no-data state {rule.no_data_state!r}")


def _annotation(rule: AlertRule, text: str) -> str:
    translated = _VALUE_OF_B.sub("$value", text)
    if "$values" in translated:
        raise UntranslatableRuleError(f"{rule.uid}: annotation {text!r} reads a value other than B's")
    return translated


def prometheus_rule(rule: AlertRule, annotations: bool = True) -> dict[str, Any]:
    """One Prometheus alerting rule (as YAML-ready data) equivalent to the Grafana rule."""
    if not _DURATION.match(rule.for_):
        raise UntranslatableRuleError(f"{rule.uid}: pending period {rule.for_!r}")
    translated: dict[str, Any] = {
        "alert": rule.title,
        "expr": translated_expr(rule),
        "for": rule.for_,
        "labels": dict(rule.all_labels),
    }
    if annotations:
        translated["annotations"] = {k: _annotation(rule, v) for k, v in rule.annotations.items()}
    return translated


def rule_file(rules: Sequence[AlertRule], annotations: bool = True) -> dict[str, Any]:
    """A Prometheus rule file: one group per Grafana rule group, evaluated every 60 s like Grafana's."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        groups.setdefault(rule.group, []).append(prometheus_rule(rule, annotations))
    return {
        "groups": [
            {"name": name, "interval": f"{EVALUATION_INTERVAL_SECONDS}s", "rules": translated}
            for name, translated in groups.items()
        ]
    }


# --- scenarios ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One input series: metric name, labels, and values in promtool's expanding notation
    (`0+60x30`: 31 samples from 0 step 60; `1x10`: eleven 1s; `_x5`: five missing; one per interval)."""

    name: str
    labels: Mapping[str, str]
    values: str

    def selector(self) -> str:
        labels = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(self.labels.items()))
        return f"{self.name}{{{labels}}}"


@dataclass(frozen=True)
class Alert:
    """An alert that must be firing: its labels without `alertname`, optionally its annotations."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Check:
    """At `at` (a duration from the start), exactly `firing` alerts of `alertname` fire (none: quiet)."""

    at: str
    alertname: str
    firing: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    series: tuple[Series, ...]
    checks: tuple[Check, ...]
    interval: str = "1m"  # between two input samples (a scrape interval: the chart scrapes every 60 s)

    def __post_init__(self) -> None:
        if not self.checks:
            raise ValueError(f"scenario {self.name!r} checks nothing")
        selectors = [s.selector() for s in self.series]
        duplicates = sorted({s for s in selectors if selectors.count(s) > 1})
        if duplicates:
            raise ValueError(f"scenario {self.name!r} has duplicate series {duplicates}")


_FAILED_CHECK = re.compile(
    r"name: (?P<name>.*?),\s*alertname: (?P<alertname>.*?), time: (?P<at>[^,\s]+),\s*"
    r"exp:(?P<exp>.*?)got:(?P<got>\[\]|\[)",
    re.DOTALL,
)


@dataclass(frozen=True)
class FailedCheck:
    scenario: str
    alertname: str
    at: str
    nothing_fired: bool  # promtool got no alert at all where others were expected


@dataclass(frozen=True)
class PromtoolResult:
    ok: bool
    output: str  # promtool's report: every failed check with expected and actual alerts

    def failed_checks(self) -> list[FailedCheck]:
        """The failed checks in promtool's report (its `FAILED:` blocks)."""
        return [
            FailedCheck(m["name"], m["alertname"], m["at"], m["got"] == "[]")
            for m in _FAILED_CHECK.finditer(self.output)
        ]


def _with_annotations(scenarios: Sequence[Scenario]) -> bool:
    kinds = {alert.annotations is not None for s in scenarios for check in s.checks for alert in check.firing}
    if len(kinds) > 1:
        raise ValueError("give annotations on every expected alert of a run, or on none")
    return kinds == {True}


def promtool_test_file(
    scenarios: Sequence[Scenario], rule_file_name: str, annotations: bool
) -> dict[str, Any]:
    """promtool's unit-test file for the scenarios."""

    def alert(a: Alert) -> dict[str, Any]:
        expected: dict[str, Any] = {"exp_labels": dict(a.labels)}
        if annotations:
            expected["exp_annotations"] = dict(a.annotations or {})
        return expected

    return {
        "rule_files": [rule_file_name],
        "evaluation_interval": f"{EVALUATION_INTERVAL_SECONDS}s",
        "tests": [
            {
                "name": scenario.name,
                "interval": scenario.interval,
                "input_series": [{"series": s.selector(), "values": s.values} for s in scenario.series],
                "alert_rule_test": [
                    {
                        "eval_time": check.at,
                        "alertname": check.alertname,
                        "exp_alerts": [alert(a) for a in check.firing],
                    }
                    for check in scenario.checks
                ],
            }
            for scenario in scenarios
        ],
    }


def run_scenarios(
    rules: Sequence[AlertRule], scenarios: Sequence[Scenario], promtool: Path
) -> PromtoolResult:
    """`promtool test rules` over the translated rules and the scenarios; ok when every check holds."""
    if not rules or not scenarios:
        raise ValueError("nothing to run: give rules and scenarios")
    annotations = _with_annotations(scenarios)
    with tempfile.TemporaryDirectory(prefix="prom-rules-") as tmp:
        directory = Path(tmp)
        # JSON is YAML (promtool reads both files as YAML) and much faster to write than PyYAML's.
        (directory / "rules.yaml").write_text(json.dumps(rule_file(rules, annotations), indent=1))
        (directory / "tests.yaml").write_text(
            json.dumps(promtool_test_file(scenarios, "rules.yaml", annotations), indent=1)
        )
        done = subprocess.run(
            [str(promtool), "test", "rules", "tests.yaml"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=False,
        )
    return PromtoolResult(ok=done.returncode == 0, output=(done.stdout + done.stderr).strip())
