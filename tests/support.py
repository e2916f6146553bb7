"""Shared test helpers: stack config as the CLI would pass it, and program runs under mocks."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from pulumi.runtime.stack import wait_for_rpcs

from builders.config import PROJECT
from builders.features import FeatureToggles
from components.alloy_monitoring import AlloyMonitoring, AlloyMonitoringArgs
from tools import prometheus_bin
from tools.chart_data import CHART_ENV, chart_location
from tools.mocks import Registration
from tools.program import ProgramRun, prepare, run_to_completion, stack_file_config

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


# Pulumi.eks.yaml's features with the services instrumented (the README's second `up` on eks),
# so that an eks run declares every rule, the per-service ones included.
EKS_WITH_SERVICES = json.dumps(
    {
        **yaml.safe_load((Path(__file__).parent.parent / "Pulumi.eks.yaml").read_text())["config"][
            f"{PROJECT}:features"
        ],
        "appInstrumentation": True,
    }
)


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


RELEASE = "grafana-k8s-monitoring"
RENDER_NAMESPACE = "llm-judge"


@functools.cache
def stack_registrations(stack: str) -> tuple[Registration, ...]:
    """What the program registers for Pulumi.<stack>.yaml, run once per test session (as synth does)."""
    return tuple(run_to_completion(stack, *stack_file_config(stack)).monitor.registrations)


def stack_values(stack: str) -> dict[str, Any]:
    """The stack's k8s-monitoring Helm values, as the program builds them."""
    from tools.synth import helm_values

    values = helm_values(list(stack_registrations(stack)))
    assert values is not None, f"stack {stack} has no k8s-monitoring release"
    return values


def rendered_manifests(stack: str) -> list[dict[str, Any]]:
    """The stack's values rendered with the real chart (once per session; skips without a chart)."""
    return list(_rendered(str(chart_path()), stack))


@functools.cache
def _rendered(chart: str, stack: str) -> tuple[dict[str, Any], ...]:
    return _render(chart, stack_values(stack))


def rendered_values(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Any values (a stack's, changed) rendered with the real chart; not cached."""
    return list(_render(str(chart_path()), values))


def _render(chart: str, values: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    import helm_python  # dev-only (requirements-dev.txt): a missing one is an error, not a skip
    import yaml

    files = helm_python.Chart.load(chart).render(values=values, name=RELEASE, namespace=RENDER_NAMESPACE)
    return tuple(
        doc
        for path, text in files.items()
        if path.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    )


def collector_config(manifests: list[dict[str, Any]], collector: str) -> str:
    """The rendered `config.alloy` of one collector (its ConfigMap is named like the collector)."""
    from builders.k8s_monitoring_names import collector_fullname

    name = collector_fullname(RELEASE, collector)
    (config_map,) = [m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"] == name]
    text: str = config_map["data"]["config.alloy"]
    return text


DASHBOARDS_ENV = "PINNED_DASHBOARDS_DIR"
# The pinned grafana.com dashboards beside the checkout (../shared/dashboards/README.md): test data,
# never copied into the project. CI downloads them by pinned revision (tools/pinned_dashboards.py).
DEFAULT_DASHBOARDS = Path(__file__).resolve().parent.parent.parent / "shared" / "dashboards"


def pinned_dashboard(gnet_id: int) -> dict[str, Any]:
    """The model of a pinned grafana.com dashboard at exactly its pinned revision.

    Read from $PINNED_DASHBOARDS_DIR (must exist when set) or ../shared/dashboards, file
    `<gnet id>-*.json`; its content_sha256 must equal the pin in builders/grafana_com.py.
    """
    import json
    import os

    from builders.grafana_com import PREBUILT_DASHBOARDS, content_sha256

    (pin,) = [d for d in PREBUILT_DASHBOARDS if d.gnet_id == gnet_id]
    explicit = os.environ.get(DASHBOARDS_ENV)
    directory = Path(explicit) if explicit else DEFAULT_DASHBOARDS
    if not directory.is_dir():
        if explicit:
            pytest.fail(f"{DASHBOARDS_ENV}={directory} does not exist")
        pytest.skip(f"no pinned dashboards: {directory} is absent and {DASHBOARDS_ENV} is not set")
    files = sorted(directory.glob(f"{gnet_id}-*.json"))
    assert len(files) == 1, f"expected one {gnet_id}-*.json in {directory}, found {files}"
    raw = files[0].read_bytes()
    assert content_sha256(raw) == pin.sha256, f"{files[0]} is not {pin.describe()}"
    model: dict[str, Any] = json.loads(raw)
    return model


def rendered_pipeline(stack: str) -> Any:
    """What the stack's rendered collectors send (tools.rendered_pipeline), from the real render."""
    return _pipeline(str(chart_path()), stack)


@functools.cache
def _pipeline(chart: str, stack: str) -> Any:
    from builders.k8s_monitoring_names import METRICS, RECEIVER
    from tools.rendered_pipeline import RenderedPipeline

    manifests = rendered_manifests(stack)
    return RenderedPipeline.parse(collector_config(manifests, METRICS), collector_config(manifests, RECEIVER))


def llm_judge_dashboard(stack: str) -> dict[str, Any]:
    """The LLM Judge dashboard's model exactly as the program hands it to Grafana."""
    import json

    (dashboard,) = [
        r
        for r in stack_registrations(stack)
        if r.type == "grafana:oss/dashboard:Dashboard" and r.name.endswith("-llm-judge")
    ]
    model: dict[str, Any] = json.loads(dashboard.inputs["configJson"])
    return model


def alert_expressions(stack: str, groups: Callable[[str], bool] = lambda _: True) -> list[tuple[str, str]]:
    """(rule title, PromQL) of every Prometheus query of the alert rules the program registers, in the
    rule groups `groups` accepts (by name)."""
    import json

    found = []
    for group in (
        r
        for r in stack_registrations(stack)
        if r.type == "grafana:alerting/ruleGroup:RuleGroup" and groups(r.inputs["name"])
    ):
        for rule in group.inputs["rules"]:
            for data in rule["datas"]:
                model = json.loads(data["model"])
                if model.get("datasource", {}).get("type") == "prometheus":
                    found.append((rule["name"], model["expr"]))
    return found
