"""Names are matched in full: a trailing newline never passes a builder's check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from builders import cloudwatch
from builders.app_instrumentation import ServiceSpec
from builders.dashboards import DataSources, llm_judge_dashboard
from builders.k8s_monitoring_names import collector_fullname, monitoring_names
from builders.names import DNS1123_LABEL

BUILDERS = Path(__file__).resolve().parents[2] / "builders"
NOT_YET: set[str] = set()  # builders that may still use `.match` (none)


def _match_calls(path: Path) -> list[str]:
    """`<pattern>.match(...)` / `re.match(...)` calls: `$` in their patterns accepts "name\\n"."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "match":
            calls.append(f"{path.name}:{node.lineno}")
    return calls


def test_builders_match_names_in_full():
    found = [
        call
        for path in sorted(BUILDERS.glob("*.py"))
        if path.name not in NOT_YET
        for call in _match_calls(path)
    ]
    assert found == [], "use fullmatch: `$` also matches before a trailing newline"


def test_the_lint_sees_a_match_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import re\nNAME = re.compile(r'^a$')\nok = NAME.match('a\\n')\n")
    assert _match_calls(sample) == ["sample.py:3"]


@pytest.mark.parametrize(
    "check",
    [
        lambda: ServiceSpec("gateway-service\n", 8000),
        lambda: ServiceSpec("gateway-service", 8000, container="app\n"),
        lambda: cloudwatch.validate_queue_name("inference_queue\n"),
        lambda: cloudwatch.validate_region("us-east-1\n"),
        lambda: llm_judge_dashboard(
            DataSources("p", "l", "t"),
            ["gateway-service", "inference-service", "redis-service"],
            "ns\n",
            [],
            cluster="c1",
        ),
        lambda: llm_judge_dashboard(
            DataSources("p", "l", "t"),
            ["gateway-service", "inference-service", "redis-service"],
            "ns",
            [],
            cluster="c1\n",
        ),
    ],
)
def test_a_trailing_newline_is_refused(check):
    with pytest.raises(ValueError):
        check()


def test_the_shared_label_rule_refuses_a_trailing_newline_even_with_match():
    # builders/alerts.py still calls DNS1123_LABEL.match: the pattern itself ends in \Z.
    assert DNS1123_LABEL.match("llm-judge") and not DNS1123_LABEL.match("llm-judge\n")


def test_collector_names_and_the_receivers_otlp_endpoints():
    # The chart's collector.alloy.fullname: <release>-<collector>, or the release alone when it
    # already contains the collector's name; 63 characters at most, no trailing '-'.
    assert (
        collector_fullname("grafana-k8s-monitoring", "alloy-metrics")
        == "grafana-k8s-monitoring-alloy-metrics"
    )
    assert collector_fullname("my-alloy-metrics", "alloy-metrics") == "my-alloy-metrics"
    assert collector_fullname("r" * 60, "alloy-logs") == "r" * 60 + "-al"
    names = monitoring_names("grafana-k8s-monitoring", "llm-judge")
    host = "grafana-k8s-monitoring-alloy-receiver.llm-judge.svc.cluster.local"
    assert (names.otlp_grpc_endpoint, names.otlp_http_endpoint) == (
        f"http://{host}:4317",
        f"http://{host}:4318",
    )
