"""Shared test helpers: stack config as the CLI would pass it, and program runs under mocks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime.stack import wait_for_rpcs

from builders.config import PROJECT
from builders.features import FeatureToggles
from components.alloy_monitoring import AlloyMonitoring, AlloyMonitoringArgs
from tools import prometheus_bin
from tools.chart_data import CHART_ENV, chart_location
from tools.mocks import Registration
from tools.program import ProgramRun, prepare, stack_file_config

DELETE = object()  # marks a config key to remove


def config_for(stack: str, **overrides: Any) -> tuple[dict[str, str], list[str]]:
    """Pulumi.<stack>.yaml's config with overrides (camelCase keys of our namespace)."""
    config, secret_keys = stack_file_config(stack)
    for key, value in overrides.items():
        full = f"{PROJECT}:{key}"
        if value is DELETE:
            config.pop(full, None)
        else:
            config[full] = value
    return config, secret_keys


def prepared(stack: str = "local", **overrides: Any) -> ProgramRun:
    config, secret_keys = config_for(stack, **overrides)
    return prepare(stack, config, secret_keys)


def by_type(run: ProgramRun, type_: str) -> list[Registration]:
    return [r for r in run.monitor.registrations if r.type == type_]


def one(run: ProgramRun, type_: str) -> Registration:
    found = by_type(run, type_)
    assert len(found) == 1, f"expected one {type_}, found {[r.name for r in found]}"
    return found[0]


def named(run: ProgramRun, type_: str, name: str) -> Registration:
    """The one resource of `type_` with logical name `name` (for types the program declares twice)."""
    found = [r for r in by_type(run, type_) if r.name == name]
    assert len(found) == 1, f"expected one {type_} {name!r}, found {[r.name for r in by_type(run, type_)]}"
    return found[0]


def parent_of(run: ProgramRun, registration: Registration) -> Registration | None:
    return next((r for r in run.monitor.registrations if r.urn == registration.parent_urn), None)


def settled(run: ProgramRun, check: Callable[[ProgramRun], None]) -> Awaitable[None]:
    """Return from a `pulumi.runtime.test` test: runs `check(run)` once every registration the
    program started has completed (resolved outputs alone do not mean that: a resource whose
    inputs wait on a read registers after the stack outputs resolve)."""

    async def wait_then_check() -> None:
        await wait_for_rpcs(await_all_outstanding_tasks=False)
        await pulumi.Output.all(*run.outputs.values()).future()
        check(run)

    return wait_then_check()


def alloy_monitoring(release_name: str, namespace: str = "obs-ns") -> AlloyMonitoring:
    """An AlloyMonitoring of its own under fresh mocks, for component tests."""
    prepare("local", {}, [])
    return AlloyMonitoring(
        "mon",
        AlloyMonitoringArgs(
            cluster_name="c1",
            namespace=namespace,
            platform="local",
            chart_version="4.4.0",
            features=FeatureToggles(),
            prometheus_url="https://prometheus.example/api/prom/push",
            loki_url="https://logs.example/loki/api/v1/push",
            otlp_url="https://otlp.example/otlp",
            k8s_provider=k8s.Provider("k"),
            release_name=release_name,
        ),
    )


def chart_path() -> Path:
    """The k8s-monitoring chart to render with.

    K8S_MONITORING_CHART names it (CI sets it): then it must exist, and a wrong path fails.
    Unset, the packaged chart beside the checkout is used; only where that is truly absent do the
    render tests skip, saying so.
    """
    path, explicit = chart_location()
    if path.exists():
        return path
    if explicit:
        pytest.fail(f"{CHART_ENV}={path} does not exist")
    pytest.skip(f"no k8s-monitoring chart: {path} is absent and {CHART_ENV} is not set")


def prometheus_binary(name: str) -> Path:
    """promtool or prometheus (tools.prometheus_bin); a missing one fails the test saying how to get it."""
    try:
        return prometheus_bin.require(name)
    except prometheus_bin.MissingBinaryError as err:
        pytest.fail(str(err))
