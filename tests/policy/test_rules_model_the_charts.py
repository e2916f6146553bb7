"""The resources rule's model of k8s-monitoring matches what the real chart deploys.

The pack cannot render charts (it runs live, with the inputs only), so `CHART_WORKLOADS` says
where in the values each container takes its resources. Here each of those places gets its own
marker quantity, the real chart 4.4.0 renders both stacks' values (helm-python-sdk), and:
- every container the chart renders carries one of the markers: none takes its resources from a
  place the rule does not check (the config-reloader sidecars and the operator's hook Jobs did);
- every marker lands in some container: the rule checks no place that deploys nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import yaml

from policy.rules import CHART_WORKLOADS
from tests.support import chart_path
from tools.program import run_to_completion, stack_file_config
from tools.synth import helm_values

WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob")


def _marked(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The values with each checked resources block replaced by a unique marker; marker -> path."""
    marked = copy.deepcopy(values)
    markers: dict[str, str] = {}
    for index, (path, _) in enumerate(CHART_WORKLOADS["k8s-monitoring"](values)):
        marker = f"{9001 + index}m"  # no real request is that large
        markers[marker] = path
        node = marked
        keys = path.split(".")
        # Collector names and the `alloy-operator` key hold dots nowhere; paths are plain key paths.
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = {
            "requests": {"cpu": marker, "memory": "16Mi"},
            "limits": {"cpu": marker, "memory": "16Mi"},
        }
    return marked, markers


def _containers(manifests: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(where, resources) of every container the render deploys, the Alloy Operator's ones included."""
    for manifest in manifests:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        if kind in WORKLOAD_KINDS:
            spec = manifest["spec"]
            if kind == "CronJob":
                spec = spec["jobTemplate"]["spec"]
            pod = spec["template"]["spec"]
            for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
                yield f"{kind}/{name}/{container['name']}", container.get("resources")
        elif kind == "Alloy":  # the operator deploys it: the Alloy container and its config reloader
            spec = manifest["spec"]
            yield f"Alloy/{name}/alloy", spec.get("alloy", {}).get("resources")
            if spec.get("configReloader", {}).get("enabled", True):
                yield f"Alloy/{name}/config-reloader", spec.get("configReloader", {}).get("resources")


def _values(stack: str) -> dict[str, Any]:
    values = helm_values(run_to_completion(stack, *stack_file_config(stack)).monitor.registrations)
    assert values is not None
    return values


def test_both_stacks_deploy_the_same_workloads():
    """So one render (eks, below; about 8 s) covers both stacks' workloads."""
    local, eks = (_values(stack) for stack in ("local", "eks"))
    workloads = CHART_WORKLOADS["k8s-monitoring"]
    assert [path for path, _ in workloads(local)] == [path for path, _ in workloads(eks)]


def test_every_rendered_container_takes_its_resources_from_a_place_the_rule_checks() -> None:
    import helm_python  # dev-only (requirements-dev.txt)

    chart = helm_python.Chart.load(str(chart_path()))
    marked, markers = _marked(_values("eks"))
    files = chart.render(values=marked, name="grafana-k8s-monitoring", namespace="llm-judge")
    manifests = [
        doc
        for path, text in files.items()
        if path.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    containers = dict(_containers(manifests))
    assert containers, "the render deployed nothing"
    unchecked = {
        where: resources
        for where, resources in containers.items()
        if ((resources or {}).get("requests") or {}).get("cpu") not in markers
    }
    assert unchecked == {}, "containers whose resources the rule does not look at"
    used = {resources["requests"]["cpu"] for resources in containers.values() if resources}
    assert {markers[m] for m in set(markers) - used} == set(), "places the rule checks that deploy nothing"
