"""What each collector may read in the Kubernetes API, from the real chart's render on both stacks.

k8s-monitoring renders each collector as an `Alloy` resource; the Alloy Operator installs the Alloy
chart with its spec as values, over the chart's defaults (the upstream values k8s-monitoring ships,
collectors/upstream/alloy-values.yaml; a list in the spec replaces the default list). The Alloy
chart's RBAC template is modelled in `granted`: with `rbac.namespaces` empty, one ClusterRole of
`rbac.rules` + `rbac.clusterRules` bound to the collector's service account, named like the
resource (grafana/alloy-operator operator/helm-charts/alloy/templates/rbac.yaml, Alloy chart 1.11.0;
the model was checked by rendering that chart with these specs). Namespaced grants come from the
release itself (rendered Roles and RoleBindings).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from builders.credentials import SECRET_NAME
from tests.support import RENDER_NAMESPACE, chart_path, rendered_manifests
from tools.chart_data import chart_file

STACKS = ["local", "eks"]
UPSTREAM = "collectors/upstream/alloy-values.yaml"
# What reveals Secret or ConfigMap contents (a "*" resource or group includes them).
SENSITIVE = {"secrets", "configmaps", "*"}
SECRET_BLOCK = re.compile(r'^\s*remote\.kubernetes\.secret "[^"]*" \{(?P<body>[^}]*)\}', re.M)
ATTRIBUTE = re.compile(r'(?P<key>\w+)\s*=\s*"(?P<value>[^"]*)"')

Rule = dict[str, Any]
RBAC_V1 = "rbac.authorization.k8s.io/v1"


def _upstream_rbac() -> dict[str, Any]:
    raw = chart_file(chart_path(), UPSTREAM)
    assert raw is not None, f"{UPSTREAM} is in the chart"
    rbac: dict[str, Any] = yaml.safe_load(raw)["rbac"]
    return rbac


def _collectors(stack: str) -> dict[str, dict[str, Any]]:
    """Each collector's Alloy resource spec, by the resource's (and its service account's) name."""
    found = {m["metadata"]["name"]: m["spec"] for m in rendered_manifests(stack) if m["kind"] == "Alloy"}
    assert len(found) == 4, sorted(found)  # both stacks run all four collectors
    return found


def granted(spec: dict[str, Any], upstream: dict[str, Any]) -> list[tuple[str, str | None, list[Rule]]]:
    """(kind, namespace, rules) of the roles the Alloy chart creates for one collector."""
    rbac = {**upstream, **(spec.get("rbac") or {})}
    if not rbac["create"]:
        return []
    if rbac["namespaces"]:
        return [("Role", namespace, list(rbac["rules"] or [])) for namespace in rbac["namespaces"]]
    return [("ClusterRole", None, [*(rbac["rules"] or []), *(rbac["clusterRules"] or [])])]


def _sensitive(rule: Rule) -> bool:
    core = {"", "*"} & set(rule.get("apiGroups") or [])
    return bool(core) and bool(SENSITIVE & set(rule.get("resources") or []))


def _namespaced_grants(stack: str, service_account: str) -> set[tuple[str, str, str, str]]:
    """(namespace, resource, name or '*', verb) that Roles bound to the account grant in the core group."""
    manifests = [m for m in rendered_manifests(stack) if m["kind"] in ("Role", "RoleBinding")]
    # Objects of another API version are not RBAC objects; a binding's roleRef names the group and
    # kind of what it binds (https://kubernetes.io/docs/reference/access-authn-authz/rbac/).
    assert {m["apiVersion"] for m in manifests} <= {RBAC_V1}
    roles = {(m["metadata"]["namespace"], m["metadata"]["name"]): m for m in manifests if m["kind"] == "Role"}
    found = set()
    for binding in (m for m in manifests if m["kind"] == "RoleBinding"):
        namespace = binding["metadata"]["namespace"]
        subjects = binding.get("subjects") or []
        account = {"kind": "ServiceAccount", "name": service_account, "namespace": RENDER_NAMESPACE}
        if account not in subjects:
            continue
        ref = binding["roleRef"]
        assert (ref["apiGroup"], ref["kind"]) == ("rbac.authorization.k8s.io", "Role"), binding["metadata"]
        role = roles[(namespace, ref["name"])]
        for rule in role["rules"]:
            if "" not in rule.get("apiGroups", []):
                continue
            for resource in rule.get("resources", []):
                for name in rule.get("resourceNames") or ["*"]:
                    found |= {(namespace, resource, name, verb) for verb in rule["verbs"]}
    return found


def _secrets_read(config: str) -> set[tuple[str, str]]:
    """(namespace, name) of every Secret the config's remote.kubernetes.secret components read."""
    found = set()
    for block in SECRET_BLOCK.finditer(config):
        attributes = {m["key"]: m["value"] for m in ATTRIBUTE.finditer(block["body"])}
        found.add((attributes["namespace"], attributes["name"]))
    return found


def _config(stack: str, collector: str) -> str:
    (config_map,) = [
        m
        for m in rendered_manifests(stack)
        if m["kind"] == "ConfigMap" and m["metadata"]["name"] == collector
    ]
    text: str = config_map["data"]["config.alloy"]
    return text


@pytest.mark.parametrize("stack", STACKS)
def test_no_collector_may_read_secrets_or_configmaps_cluster_wide(stack: str) -> None:
    upstream = _upstream_rbac()
    # The chart's own default would: the reason for the override.
    assert any(_sensitive(r) for r in granted({}, upstream)[0][2])
    for collector, spec in _collectors(stack).items():
        roles = granted(spec, upstream)
        assert [(kind, namespace) for kind, namespace, _ in roles] == [("ClusterRole", None)], collector
        assert [r for r in roles[0][2] if _sensitive(r)] == [], collector


@pytest.mark.parametrize("stack", STACKS)
def test_discovery_keeps_every_other_rule_of_the_chart(stack: str) -> None:
    """Nothing the collectors discover or scrape with loses a permission: the chart's rules minus
    the Secret/ConfigMap one, its cluster rules (nodes, nodes/pods, nodes/metrics, /metrics) as they are."""
    upstream = _upstream_rbac()
    expected = [r for r in upstream["rules"] if not _sensitive(r)] + upstream["clusterRules"]
    assert len(expected) == len(upstream["rules"]) - 1 + len(upstream["clusterRules"])
    for collector, spec in _collectors(stack).items():
        assert granted(spec, upstream)[0][2] == expected, collector


@pytest.mark.parametrize("stack", STACKS)
def test_each_collector_may_get_exactly_the_secrets_its_config_reads(stack: str) -> None:
    for collector in _collectors(stack):
        config = _config(stack, collector)
        assert "remote.kubernetes.configmap" not in config  # nothing reads a ConfigMap through the API
        reads = _secrets_read(config)
        assert reads == {(RENDER_NAMESPACE, SECRET_NAME)}, collector  # every destination's credentials
        grants = _namespaced_grants(stack, collector)
        assert grants == {(RENDER_NAMESPACE, "secrets", SECRET_NAME, "get")}, collector
