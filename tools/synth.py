"""Offline synth: what a stack would deploy, without the Pulumi CLI, a cloud account or a cluster.

    python -m tools.synth --stack local --out synth-out/local

Runs the real program under mocks (tools/mocks.py) with the config of Pulumi.<stack>.yaml and
writes DIR/resources.json (every resource, secrets shown as "[secret]"), DIR/placeholders.json
(the lookups answered with placeholders) and, when the stack has the Helm release,
DIR/k8s-monitoring-values.yaml (its exact values).
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi
import yaml

import tools.chart_data as chart_data
from builders import metric_bill
from builders.alerts import SERVICES_GROUP
from builders.config import ConfigError
from builders.grafana_com import PREBUILT_DASHBOARDS
from builders.k8s_monitoring import DROPPED_OTLP_METRICS, NOT_DELIVERED, node_requests
from tools.mocks import Registration, placeholder_object, redact
from tools.program import ProgramRun, run_to_completion, stack_file_config, supplied_by_synth

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
VALUES_FILE = "k8s-monitoring-values.yaml"


def resource_records(registrations: list[Registration]) -> list[dict[str, Any]]:
    """One record per resource, parents and providers by logical name, secrets redacted."""
    names = {r.urn: r.name for r in registrations}
    return [
        {
            "type": r.type,
            "name": r.name,
            "parent": names.get(r.parent_urn),  # None for children of the stack itself
            "provider": r.provider_name,
            "dependsOn": depends_on(r, registrations),
            "inputs": _sorted(redact(r.inputs)),
        }
        for r in registrations
    ]


def depends_on(registration: Registration, registrations: list[Registration]) -> list[str]:
    """What this resource waits for before it is created, as `<type>::<name>` (logical names alone
    repeat across types): its dependencies (`depends_on` and the resources its inputs come from),
    those of every ancestor component, and those of its explicit provider, which it cannot use
    before they exist.

    Ancestors: the SDK registers a child only once its parent's URN has resolved (pulumi 3.272
    runtime/resource.py `prepare_resource`, "Wait for our parent to resolve"), and a parent
    registers only after its own `depends_on` have (same function, `_resolve_depends_on_urns`), so
    a child waits for whatever its parent component was told to wait for, although its own
    request lists none of it."""
    by_urn = {r.urn: r for r in registrations}
    urns = set(registration.dependencies)
    ancestor = by_urn.get(registration.parent_urn)
    while ancestor is not None:
        urns |= set(ancestor.dependencies)
        ancestor = by_urn.get(ancestor.parent_urn)
    if registration.provider_ref:
        # `<provider urn>::<provider id>`
        provider = by_urn.get(registration.provider_ref.rsplit("::", 1)[0])
        urns |= set(provider.dependencies) if provider else set()
    return sorted(f"{by_urn[u].type}::{by_urn[u].name}" if u in by_urn else u for u in urns)


def helm_values(registrations: list[Registration]) -> dict[str, Any] | None:
    """The release's values in the order the builder wrote them.

    The engine's wire format has only doubles, so integers arrive as 4317.0; they are
    written back as the integers the program gave.
    """
    releases = [
        r for r in registrations if r.type == HELM_RELEASE and r.inputs.get("chart") == "k8s-monitoring"
    ]
    return _integers(redact(releases[0].inputs.get("values", {}))) if releases else None


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings (extra Alloy config) as literal blocks, readable in a review."""


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_ReadableDumper.add_representer(str, _str_presenter)


def _integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


def summary(registrations: list[Registration]) -> list[str]:
    """Resources per top-level component (or standalone resource), counting the component."""
    by_urn = {r.urn: r for r in registrations}

    def top(registration: Registration) -> Registration:
        while registration.parent_urn in by_urn:
            registration = by_urn[registration.parent_urn]
        return registration

    counts = Counter(top(r).urn for r in registrations)
    lines = []
    for urn, count in sorted(counts.items(), key=lambda item: by_urn[item[0]].name):
        owner = by_urn[urn]
        lines.append(f"  {count:3d}  {owner.type.rsplit(':', 1)[-1]} {owner.name}")
    return lines


# Sources that send whatever they scrape: no allow list stands between them and Grafana Cloud.
_UNFILTERED = {
    metric_bill.SERVICES_OTLP: "every OTLP metric the services send but "
    + ", ".join(DROPPED_OTLP_METRICS)
    + " (dropped in the receiver: queried by nothing)",
    metric_bill.AUTODISCOVERY: "every series the services' /metrics expose",
    metric_bill.API_SERVER: "every series the Kubernetes API server exposes",
    metric_bill.CLOUDWATCH_SQS: "the SQS metrics builders/cloudwatch.py asks for",
}


def consumers(registrations: list[Registration]) -> list[str]:
    """The dashboards and alert rules the program provisions, named as builders.metric_bill names them."""
    names = {r.name for r in registrations if r.type == "grafana:oss/dashboard:Dashboard"}
    found = [d.title for d in PREBUILT_DASHBOARDS if f"dashboards-{d.gnet_id}" in names]
    found += [metric_bill.LLM_JUDGE] if any(n.endswith("-llm-judge") for n in names) else []
    groups = {r.inputs.get("name") for r in registrations if r.type == "grafana:alerting/ruleGroup:RuleGroup"}
    found += [metric_bill.ALERTS] if groups - {SERVICES_GROUP} else []
    found += [metric_bill.SERVICE_ALERTS] if SERVICES_GROUP in groups else []
    return found


def series_bill_lines(registrations: list[Registration], values: dict[str, Any]) -> list[str]:
    """The metrics the dashboards and alerts query per source, and what the allow lists keep on top."""
    try:
        lists = chart_data.allow_lists(chart_data.chart_location()[0])
        allow: metric_bill.AllowLists | None = lists.__getitem__
        where = ""
    except (OSError, tarfile.TarError, chart_data.ChartError) as err:
        allow, where = None, f" (allow lists unknown: {err}; set {chart_data.CHART_ENV})"
    users = consumers(registrations)
    bills = metric_bill.series_bill(values, users, metric_bill.running_sources(values), allow)
    lines = [f"series bill, per source: queried by {', '.join(users) or 'nothing'}{where}"]
    for bill in bills:
        lines.append(f"  {bill.source}: {len(bill.queried)} queried" + _names(bill.queried))
        if bill.source in _UNFILTERED:
            lines.append(f"    no allow list: {_UNFILTERED[bill.source]}")
        if bill.broader:
            lines.append(f"    patterns keeping those and more: {', '.join(bill.broader)}")
        if bill.on_top is not None:
            lines.append(f"    {len(bill.on_top)} more kept by the allow list" + _names(bill.on_top))
    if set(users) & {d.title for d in PREBUILT_DASHBOARDS}:
        lines.append(f"  queried, produced by nothing deployed: {', '.join(sorted(NOT_DELIVERED))}")
    return lines


def _names(names: tuple[str, ...]) -> str:
    """`: a, b, …`, wrapped under the line it ends (a source can keep a hundred names)."""
    text = ", ".join(names)
    wrapped = textwrap.fill(text, width=100, subsequent_indent=" " * 6, break_long_words=False)
    return (": " + wrapped) if names else ""


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def write_outputs(
    run: ProgramRun, out: Path, supplied_config: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    records = resource_records(run.monitor.registrations)
    (out / "resources.json").write_text(json.dumps(records, indent=2) + "\n")
    placeholders = {
        "note": "Offline synth: these lookups were answered with placeholders, not real data.",
        # Settings the stack file leaves to the user, given placeholder values for this run.
        "config": supplied_config or {},
        "lookups": [{"invoke": token, "answer": answer} for token, answer in run.mocks.answers],
        "cluster_reads": {
            f"{type_} {resource_id}": placeholder_object(type_, resource_id)
            for type_, resource_id in sorted(set(run.mocks.read))
        },
    }
    (out / "placeholders.json").write_text(json.dumps(placeholders, indent=2) + "\n")
    values = helm_values(run.monitor.registrations)
    if values is not None:
        (out / VALUES_FILE).write_text(yaml.dump(values, Dumper=_ReadableDumper, sort_keys=True))
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.synth", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True, choices=["local", "eks"])
    parser.add_argument("--out", required=True, type=Path, help="directory to write to")
    parser.add_argument(
        "--stack-file",
        type=Path,
        help="stack settings to use instead of Pulumi.<stack>.yaml (to try a change)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    try:
        config, secret_keys = stack_file_config(args.stack, args.stack_file)
        run = run_to_completion(args.stack, config, secret_keys)
    except (ConfigError, pulumi.RunError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    supplied = supplied_by_synth(config)
    records = write_outputs(run, args.out, supplied)
    values = helm_values(run.monitor.registrations)
    elapsed = time.perf_counter() - started

    print(f"stack {args.stack}: {len(records)} resources -> {args.out}/resources.json")
    print("\n".join(summary(run.monitor.registrations)))
    print("config a user must set, given placeholders here: " + (", ".join(supplied) or "none"))
    print("lookups answered with placeholders: " + (", ".join(sorted(set(run.mocks.invoked))) or "none"))
    print(f"cluster objects read (placeholders): {len(set(run.mocks.read))}")
    if values is not None:
        cpu, memory = node_requests(values)
        print(
            f"monitoring stack requests on one node: {cpu}m CPU, {memory // 2**20} MiB memory "
            f"-> {args.out}/{VALUES_FILE}"
        )
        print("\n".join(series_bill_lines(run.monitor.registrations, values)))
    print(f"synthesized in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
