"""Nothing changes before the cluster preflight has passed: every resource the program creates in
AWS, Grafana Cloud, the stack's Grafana or Kubernetes either waits for the preflight or is something
the preflight itself needs (the EKS cluster it reads). Read from the synth's `dependsOn`, as a
reviewer reads resources.json, on local, eks, and eks on an existing cluster."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from tests.support import config_for, stack_registrations
from tools.mocks import Registration
from tools.program import run_to_completion
from tools.synth import resource_records

PREFLIGHT = "pulumi-python:dynamic/llmjudge:ClusterPreflight::cluster-preflight"
# What creates or changes something outside the program: providers only configure, components only group.
CHANGING = ("aws:", "grafana:", "kubernetes:", "eks:", "pulumi-python:dynamic")
# Downloads a pinned dashboard from grafana.com's public API into state; its delete is a no-op
# (dynamic/grafana_com_dashboard.py), so it changes nothing anywhere.
READ_ONLY = {"pulumi-python:dynamic/llmjudge:GrafanaComDashboard"}


def _key(record: Mapping[str, Any]) -> str:
    return f"{record['type']}::{record['name']}"


def _closure(start: Iterable[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, []))
    return seen


def independent_of_preflight(registrations: Sequence[Registration]) -> list[str]:
    records = resource_records(list(registrations))
    custom = {r.type for r in registrations if r.custom}
    edges = {_key(r): r["dependsOn"] for r in records}
    assert PREFLIGHT in edges, "the program declares the preflight"
    before_preflight = _closure(edges[PREFLIGHT], edges)
    changing = [
        _key(r)
        for r in records
        if r["type"].startswith(CHANGING)
        and r["type"] not in READ_ONLY
        and _key(r) != PREFLIGHT
        and r["type"] in custom
    ]
    assert len(changing) > 20, changing  # the stack's resources, not an empty list
    return sorted(
        key
        for key in changing
        if key not in before_preflight and PREFLIGHT not in _closure(edges[key], edges)
    )


@functools.cache
def _existing_cluster() -> tuple[Registration, ...]:
    return tuple(
        run_to_completion("eks", *config_for("eks", existingClusterName="shared-prod")).monitor.registrations
    )


@pytest.mark.parametrize("stack", ["local", "eks", "eks-existing-cluster"])
def test_every_change_waits_for_the_preflight(stack: str) -> None:
    registrations = _existing_cluster() if stack == "eks-existing-cluster" else stack_registrations(stack)
    assert independent_of_preflight(registrations) == []


def test_on_an_existing_cluster_the_preflight_waits_for_nothing_the_program_creates() -> None:
    records = resource_records(list(_existing_cluster()))
    edges = {_key(r): r["dependsOn"] for r in records}
    assert _closure(edges[PREFLIGHT], edges) == set()
