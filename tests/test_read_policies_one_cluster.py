"""The two read policies (OpenCost's, tools.verify's) see this cluster's metrics and logs only, and
that hides nothing their readers need: checked against the real chart's render on both stacks.

- Every metrics and logs writer of every collector stamps `cluster = <the cluster's name>`
  (`external_labels`), so all this cluster sends matches the policies' selector.
- OpenCost reads with its cluster filter on, by that label and that value (its Deployment's env).
- The collectors' write policy has no label policy (Grafana Cloud applies them to reads only).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import rendered_manifests, stack_registrations, stack_values
from tools.mocks import Registration

POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
STACKS = ["local", "eks"]
# A top-level block of an Alloy config: `<component> "<label>" {` at the start of a line.
BLOCK = re.compile(r'^([a-z_]+(?:\.[a-z_]+)+) "[^"]*" \{', re.M)
WRITERS = ("prometheus.remote_write", "loki.write")
EXTERNAL_LABELS = re.compile(r"external_labels = \{(?P<body>[^}]*)\}")
PAIR = re.compile(r'"(?P<name>[^"]+)" = "(?P<value>[^"]*)"')


def _policies(stack: str) -> dict[str, Registration]:
    cluster = stack_values(stack)["cluster"]["name"]
    found = {
        r.inputs["name"].removeprefix(cluster): r for r in stack_registrations(stack) if r.type == POLICY
    }
    assert set(found) == {"-alloy-collectors", "-opencost", "-verify-read"}, found
    return found


def _selectors(policy: Registration) -> list[str]:
    (realm,) = policy.inputs["realms"]
    return [p["selector"] for p in realm.get("labelPolicies") or []]


def _alloy_configs(stack: str) -> dict[str, str]:
    configs = {
        m["metadata"]["name"]: m["data"]["config.alloy"]
        for m in rendered_manifests(stack)
        if m["kind"] == "ConfigMap" and "config.alloy" in (m.get("data") or {})
    }
    assert len(configs) == 4, sorted(configs)  # one per collector on both stacks
    return configs


def _writer_labels(config: str) -> list[tuple[str, dict[str, str]]]:
    """(component, external labels) of each metrics or logs writer block of an Alloy config."""
    starts = [(m.start(), m.group(1)) for m in BLOCK.finditer(config)]
    found = []
    for (start, component), (end, _) in zip(starts, [*starts[1:], (len(config), "")], strict=True):
        if component in WRITERS:
            labels = EXTERNAL_LABELS.search(config[start:end])
            pairs = PAIR.finditer(labels.group("body")) if labels else []
            found.append((component, {p["name"]: p["value"] for p in pairs}))
    return found


def _opencost_env(stack: str) -> dict[str, Any]:
    (deployment,) = [
        m
        for m in rendered_manifests(stack)
        if m["kind"] == "Deployment" and m["metadata"]["name"].endswith("opencost")
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for e in container["env"]}


@pytest.mark.parametrize("stack", STACKS)
def test_everything_the_cluster_sends_matches_the_read_policies_selector(stack: str) -> None:
    cluster = stack_values(stack)["cluster"]["name"]
    policies = _policies(stack)
    writers = [w for config in _alloy_configs(stack).values() for w in _writer_labels(config)]
    assert {component for component, _ in writers} == set(WRITERS)
    for component, labels in writers:
        assert labels.get("cluster") == cluster, (component, labels)
    # The selector matches exactly that label and value (Prometheus selector syntax).
    for suffix in ("-opencost", "-verify-read"):
        assert _selectors(policies[suffix]) == [f'{{cluster="{cluster}"}}'], suffix
    assert _selectors(policies["-alloy-collectors"]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_opencost_reads_only_what_its_selector_lets_it(stack: str) -> None:
    env = _opencost_env(stack)
    assert env["CURRENT_CLUSTER_ID_FILTER_ENABLED"] == "true"
    expected = f'{{{env["PROM_CLUSTER_ID_LABEL"]}="{env["CLUSTER_ID"]}"}}'
    assert _selectors(_policies(stack)["-opencost"]) == [expected]
