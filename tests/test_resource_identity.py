"""Where every resource sits: its URN (type, name, parent) is its identity in the stack's state, so a
changed component type, a lost `parent=self` or a child named apart from its component replaces it.

The README's rules ("Layout"; the brief's component shape): every component is a
`ComponentResource` of type `llmjudge:observability:<ClassName>`; every child has its component
as parent and is named from the component's name; at the top level only the components, the
explicit providers and the cluster preflight.
"""

from __future__ import annotations

import inspect

import pulumi
import pytest

import components
from builders.config import PROJECT
from tools.program import run_to_completion, stack_file_config

TOP_LEVEL_NON_COMPONENTS = ("pulumi:providers:", "pulumi-python:dynamic/llmjudge:ClusterPreflight")


def _component_classes() -> set[str]:
    import importlib
    import pkgutil

    found = set()
    for module in pkgutil.iter_modules(components.__path__):
        loaded = importlib.import_module(f"components.{module.name}")
        for name, obj in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(obj, pulumi.ComponentResource) and obj.__module__ == loaded.__name__:
                found.add(name)
    return found


def _config(stack: str, destinations: bool) -> tuple[dict[str, str], list[str]]:
    config, secret_keys = stack_file_config(stack)
    if destinations:  # every contact point: Slack and PagerDuty besides the email list
        for key, value in (
            ("slackWebhookUrl", "https://hooks.example/T/B/x"),
            ("pagerdutyIntegrationKey", "k"),
        ):
            config[f"{PROJECT}:{key}"] = value
            secret_keys = [*secret_keys, f"{PROJECT}:{key}"]
    return config, secret_keys


@pytest.mark.parametrize(("stack", "destinations"), [("local", False), ("eks", False), ("local", True)])
def test_every_resource_sits_in_its_component_named_after_it(stack: str, destinations: bool) -> None:
    registrations = run_to_completion(stack, *_config(stack, destinations)).monitor.registrations
    by_urn = {r.urn: r for r in registrations}
    classes = _component_classes()
    declared = [r for r in registrations if r.type.startswith("llmjudge:")]
    assert len(declared) >= 9
    for component in declared:
        assert component.type.removeprefix("llmjudge:observability:") in classes, component.type
    children = 0
    for resource in registrations:
        parent = by_urn.get(resource.parent_urn)
        if parent is None or parent.type == "pulumi:pulumi:Stack":
            assert resource.type.startswith(("llmjudge:", *TOP_LEVEL_NON_COMPONENTS)), resource.type
            continue
        children += 1
        assert parent.type.startswith("llmjudge:observability:"), (resource.type, resource.name)
        assert resource.name.startswith(parent.name), (resource.name, parent.name)
    assert children > len(declared)
    contact_points = [r for r in registrations if r.type == "grafana:alerting/contactPoint:ContactPoint"]
    assert len(contact_points) == (3 if destinations else 1)
