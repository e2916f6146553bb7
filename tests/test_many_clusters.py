"""Several clusters' stacks against one Grafana Cloud stack: no Grafana object is declared twice.

The plan's path is one Grafana Cloud stack (the free tier has one), the local cluster, then EKS; more
clusters (staging, regions) join the same Grafana stack. Each cluster is one stack of this program,
run here exactly as the synth runs it: both default stack files as they are (both name
`grafanaCloudStackSlug: llmjudge`) and a third cluster, a staging EKS cluster from the eks stack file
with another clusterName. Every Grafana object any of them declares is reduced to what Grafana
identifies it by; none may be declared by two stacks (or twice by one), and none may be the
organisation's notification-policy singleton.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
import yaml

from builders.config import PROJECT
from tests.support import EKS_WITH_SERVICES, config_for
from tools.mocks import Registration, unwrap
from tools.program import ROOT, ProgramRun, run_to_completion

SLUG_KEY = f"{PROJECT}:grafanaCloudStackSlug"
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY_TREE = "grafana:alerting/notificationPolicy:NotificationPolicy"
ACCESS_POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
ACCESS_POLICY_TOKEN = "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken"
SERVICE_ACCOUNT = "grafana:cloud/stackServiceAccount:StackServiceAccount"
SERVICE_ACCOUNT_TOKEN = "grafana:cloud/stackServiceAccountRotatingToken:StackServiceAccountRotatingToken"

# (stack file, clusterName override): the local cluster, the EKS cluster, a staging EKS cluster. The
# EKS ones with their services instrumented (the README's second `up`), so each declares every rule.
CLUSTER_STACKS = (("local", None), ("eks", None), ("eks", "llm-judge-eks-staging"))


def grafana_identities(r: Registration) -> Iterator[tuple[str, ...]]:
    """What Grafana (or Grafana Cloud) tells this object apart by.

    Folders and dashboards share one uid space: Grafana's SQL store keeps a folder as a row of the
    dashboard table (builders/grafana_objects.py). A rule group is keyed by folder and name, each rule
    by its uid, a contact point by its name. The policy tree is one per organisation: any declaration
    of it is the singleton. Grafana Cloud's access policies are named per region of the org.
    """
    inputs = unwrap(r.inputs)
    if r.type == FOLDER:
        yield ("folder/dashboard uid", inputs["uid"])
    elif r.type == DASHBOARD:
        yield ("folder/dashboard uid", json.loads(inputs["configJson"])["uid"])
    elif r.type == RULE_GROUP:
        yield ("rule group", inputs["folderUid"], inputs["name"])
        for rule in inputs["rules"]:
            yield ("alert rule uid", rule["uid"])
    elif r.type == CONTACT_POINT:
        yield ("contact point", inputs["name"])
    elif r.type == POLICY_TREE:
        yield ("notification policy tree (one per organisation)",)
    elif r.type == ACCESS_POLICY:
        yield ("access policy", inputs["region"], inputs["name"])
    elif r.type == ACCESS_POLICY_TOKEN:
        yield ("access policy token", inputs["namePrefix"])
    elif r.type == SERVICE_ACCOUNT:
        yield ("stack service account", inputs["stackSlug"], inputs["name"])
    elif r.type == SERVICE_ACCOUNT_TOKEN:
        yield ("stack service account token", inputs["namePrefix"])
    else:
        raise AssertionError(f"{r.type} ({r.name}) is a Grafana object this test does not know: classify it")


def grafana_objects(run: ProgramRun) -> list[tuple[str, ...]]:
    return [
        identity
        for r in run.monitor.registrations
        if r.type.startswith("grafana:")
        for identity in grafana_identities(r)
    ]


@pytest.fixture(scope="module")
def declared() -> dict[str, list[tuple[str, ...]]]:
    """Cluster name -> the Grafana objects its stack declares (each stack run to completion)."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for stack, cluster_name in CLUSTER_STACKS:
        overrides: dict[str, str] = {} if cluster_name is None else {"clusterName": cluster_name}
        if stack == "eks":
            overrides["features"] = EKS_WITH_SERVICES
        config, secret_keys = config_for(stack, **overrides)
        assert config[SLUG_KEY] == "llmjudge"  # one Grafana Cloud stack for all of them
        found[config[f"{PROJECT}:clusterName"]] = grafana_objects(
            run_to_completion(stack, config, secret_keys)
        )
    return found


def test_both_default_stack_files_name_the_same_grafana_cloud_stack() -> None:
    slugs = {
        stack: yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"][SLUG_KEY]
        for stack in ("local", "eks")
    }
    assert slugs == {"local": "llmjudge", "eks": "llmjudge"}


def test_three_clusters_declare_their_grafana_objects(declared: dict[str, list[tuple[str, ...]]]) -> None:
    assert set(declared) == {"llm-judge-local", "llm-judge-eks-prod", "llm-judge-eks-staging"}
    for cluster, objects in declared.items():
        kinds = Counter(identity[0] for identity in objects)
        # Not a vacuous comparison: each stack has a folder, its 5 dashboards, rule groups, rules,
        # a contact point, its three access policies (collectors, OpenCost, verification) and the
        # automation service account.
        assert kinds["folder/dashboard uid"] == 6, cluster
        assert kinds["rule group"] >= 2 and kinds["alert rule uid"] >= 14, cluster
        assert kinds["contact point"] >= 1 and kinds["access policy"] == 3, cluster
        assert kinds["stack service account"] == 1, cluster


def test_no_grafana_object_is_declared_by_two_stacks(declared: dict[str, list[tuple[str, ...]]]) -> None:
    owners: dict[tuple[str, ...], list[str]] = {}
    for cluster, objects in declared.items():
        for identity in objects:
            owners.setdefault(identity, []).append(cluster)
    shared = {identity: clusters for identity, clusters in owners.items() if len(clusters) > 1}
    assert shared == {}


def test_no_stack_declares_the_notification_policy_singleton(
    declared: dict[str, list[tuple[str, ...]]],
) -> None:
    singleton = ("notification policy tree (one per organisation)",)
    assert {cluster: singleton in objects for cluster, objects in declared.items()} == dict.fromkeys(
        declared, False
    )
