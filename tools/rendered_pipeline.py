"""Which metric names the rendered collectors deliver, read from the Alloy config the real chart renders.

The chart keeps, per scrape, only the names its `prometheus.relabel` rules let through; what we set in
`metricsTuning` only matters as far as it lands there. So the checks of dashboards and alerts against
the pipeline judge from the render: `RenderedPipeline.parse(metrics_config, receiver_config)` reads

- every `prometheus.scrape` of the metrics collector and where it forwards to: a `prometheus.relabel`
  (followed to the end of a chain of them) or straight to a destination (unfiltered);
- in each relabel, the rules that decide on the metric name alone (`source_labels = ["__name__"]`,
  `action = "keep" | "drop"`). Rules over more labels (the chart drops cAdvisor series with an empty
  `container`, node-exporter series of tmpfs) remove series, never a whole metric, and are ignored;
- a regex the chart passes in as a module argument (`coalesce(argument.keep_metrics.value, ".*")`,
  the `alloy` integration) from the one block that sets that argument;
- whether the receiver turns the services' OTLP metrics into series, and which metric names its
  `otelcol.processor.filter` drops (conditions `name == "<OTel name>"` only; anything else is refused
  as not modelled). An OTel name becomes the Prometheus name with `.` read as `_`, its unit's suffix
  (`_bytes`, `_seconds`) and a histogram's `_bucket`/`_count`/`_sum`
  (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/).

Relabel regexes are RE2 and fully anchored (https://grafana.com/docs/alloy/latest/reference/components/prometheus/prometheus.relabel/);
the chart's are plain names, alternations and `.*`, which Python's `re.fullmatch` reads the same way.
Test-time only (tools/), like the catalog.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# --- a small reader for Alloy's configuration syntax --------------------------------------------


@dataclass
class Block:
    """One Alloy block: `kind "label" { attributes, child blocks }` (label may be empty)."""

    kind: str
    label: str
    attributes: dict[str, str] = field(default_factory=dict)  # name -> expression text
    children: list[Block] = field(default_factory=list)

    def walk(self) -> Iterator[Block]:
        yield self
        for child in self.children:
            yield from child.walk()


_HEADER = re.compile(r'^\s*(?P<kind>[A-Za-z_][\w.]*)\s*(?:"(?P<label>(?:[^"\\]|\\.)*)")?\s*$')
_ATTRIBUTE = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<value>.*?)\s*$", re.DOTALL)


def _strip_comments(text: str) -> str:
    """The text with `//` and `/* */` comments blanked, strings untouched."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in '"`':
            end = i + 1
            while end < n and text[end] != char:
                end += 2 if char == '"' and text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _statements(body: str) -> Iterator[tuple[str, str | None]]:
    """(text, block body or None) of each top-level statement: `a = expr` or `header { body }`."""
    i, n, start, depth = 0, len(body), 0, 0
    while i < n:
        char = body[i]
        if char in '"`':
            end = i + 1
            while end < n and body[end] != char:
                end += 2 if char == '"' and body[end] == "\\" else 1
            i = end + 1
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "{":
            head = body[start:i]
            if depth == 0 and "=" not in head:  # a block, not an object literal
                close = _matching_brace(body, i)
                yield head, body[i + 1 : close]
                i = start = close + 1
                continue
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "\n" and depth == 0:
            if body[start:i].strip():
                yield body[start:i], None
            start = i + 1
        i += 1
    if body[start:].strip():
        yield body[start:], None


def _matching_brace(text: str, open_at: int) -> int:
    depth, i = 0, open_at
    while i < len(text):
        char = text[i]
        if char in '"`':
            end = i + 1
            while end < len(text) and text[end] != char:
                end += 2 if char == '"' and text[end] == "\\" else 1
            i = end + 1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced braces after {text[open_at : open_at + 60]!r}")


def parse_alloy(text: str) -> Block:
    """The configuration as a tree of blocks under a root block of kind ''."""
    return _parse_body("", "", _strip_comments(text))


def _parse_body(kind: str, label: str, body: str) -> Block:
    block = Block(kind, label)
    for head, child in _statements(body):
        if child is not None:
            header = _HEADER.match(head)
            if not header:
                raise ValueError(f"cannot read the block header {head.strip()!r}")
            label_text = header.group("label")
            block.children.append(
                _parse_body(header.group("kind"), json.loads(f'"{label_text}"') if label_text else "", child)
            )
        elif attribute := _ATTRIBUTE.match(head):
            block.attributes[attribute.group("name")] = attribute.group("value")
    return block


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def string_value(expression: str) -> str:
    """The value of an Alloy string literal."""
    if not _STRING.fullmatch(expression.strip()):
        raise ValueError(f"not a string literal: {expression!r}")
    value: str = json.loads(expression.strip())
    return value


def string_list(expression: str) -> list[str]:
    """The strings of an Alloy list literal of strings (trailing commas allowed)."""
    return [json.loads(s) for s in _STRING.findall(expression)]


# --- the metrics pipeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class NameFilter:
    """The name-only keep and drop rules a series passes on its way to the destination."""

    keep: tuple[str, ...] = ()  # every keep regex must match the whole name
    drop: tuple[str, ...] = ()  # no drop regex may

    def passes(self, name: str) -> bool:
        return all(re.fullmatch(r, name) for r in self.keep) and not any(
            re.fullmatch(r, name) for r in self.drop
        )

    def then(self, other: NameFilter) -> NameFilter:
        return NameFilter(self.keep + other.keep, self.drop + other.drop)


@dataclass(frozen=True)
class Scrape:
    """One `prometheus.scrape` of the metrics collector and the name rules between it and a destination."""

    label: str
    job: str | None
    filter: NameFilter  # empty: everything it scrapes is sent

    @property
    def filtered(self) -> bool:
        return bool(self.filter.keep or self.filter.drop)


_ARGUMENT = re.compile(r'^coalesce\(argument\.(?P<name>\w+)\.value,\s*(?P<default>"(?:[^"\\]|\\.)*")\)$')
_RELABEL_RECEIVER = re.compile(r"^prometheus\.relabel\.(\w+)\.receiver$")


@dataclass(frozen=True)
class RenderedPipeline:
    """What the rendered collectors send: scrapes by label, whether OTLP metrics become series, and
    the OTel metric names the receiver drops on the way."""

    scrapes: Mapping[str, Scrape]
    otlp_metrics: bool
    otlp_dropped: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, metrics_config: str, receiver_config: str | None = None) -> RenderedPipeline:
        root = parse_alloy(metrics_config)
        blocks = list(root.walk())
        relabels = _unique(b for b in blocks if b.kind == "prometheus.relabel")
        arguments = _argument_values(blocks)
        scrapes = {}
        for block in _unique(b for b in blocks if b.kind == "prometheus.scrape").values():
            job = block.attributes.get("job_name")
            scrapes[block.label] = Scrape(
                label=block.label,
                job=string_value(job) if job and _STRING.fullmatch(job) else None,
                filter=_forwarded_filter(block, relabels, arguments, seen=()),
            )
        return cls(
            scrapes=scrapes,
            otlp_metrics=_otlp_metrics(receiver_config),
            otlp_dropped=_otlp_dropped(receiver_config),
        )

    def delivers(self, name: str, producers: Iterable[str]) -> bool:
        """Whether any of the scrapes (or "otlp") that can produce `name` runs and sends it on."""
        for producer in producers:
            if producer == ANY_SCRAPE:
                if any(scrape.filter.passes(name) for scrape in self.scrapes.values()):
                    return True
            elif producer == OTLP:
                if self.otlp_metrics and not self.drops_otlp(name):
                    return True
            elif producer in self.scrapes and self.scrapes[producer].filter.passes(name):
                return True
        return False

    def drops_otlp(self, name: str) -> bool:
        """Whether the receiver's filter drops the OTLP metric that becomes the series `name`."""
        return otlp_series_dropped(name, self.otlp_dropped)


OTLP = "otlp"  # the services' metrics through the receiver collector
_UNIT_SUFFIXES = ("", "_bytes", "_seconds")  # of the units the services' metrics carry: none, By, s


def otlp_series_dropped(name: str, dropped: Iterable[str]) -> bool:
    """Whether the Prometheus series `name` comes from one of the `dropped` OTel metrics."""
    base = re.sub(r"_(bucket|count|sum)$", "", name)
    return any(base == otel.replace(".", "_") + unit for otel in dropped for unit in _UNIT_SUFFIXES)


def otlp_dropped_by_values(values: Mapping[str, Any]) -> frozenset[str]:
    """The OTel metric names the values' receiver filter drops (the conditions the chart renders into
    `otelcol.processor.filter`, read the same way as from the render)."""
    feature = values.get("applicationObservability") or {}
    if not feature.get("enabled"):
        return frozenset()
    conditions = ((feature.get("metrics") or {}).get("filters") or {}).get("metric") or []
    return frozenset(_dropped_name(condition) for condition in conditions)


def _dropped_name(condition: str) -> str:
    match = _DROP_BY_NAME.fullmatch(condition)
    if not match:
        raise ValueError(f'OTLP filter condition {condition!r}: only `name == "..."` is modelled')
    return match.group("name")


ANY_SCRAPE = "*"  # series every scrape adds (up, scrape_samples_scraped)


def _unique(blocks: Iterable[Block]) -> dict[str, Block]:
    found: dict[str, Block] = {}
    for block in blocks:
        if block.label in found:
            raise ValueError(
                f'two {block.kind} "{block.label}" blocks: cannot tell which one a reference means'
            )
        found[block.label] = block
    return found


def _argument_values(blocks: list[Block]) -> dict[str, str]:
    """Module arguments set with a string literal, by name; an argument set twice is ambiguous."""
    values: dict[str, str] = {}
    ambiguous: set[str] = set()
    for block in blocks:
        for name, expression in block.attributes.items():
            if name.endswith("_metrics") and _STRING.fullmatch(expression.strip()):
                if name in values:
                    ambiguous.add(name)
                values[name] = string_value(expression)
    return {k: v for k, v in values.items() if k not in ambiguous}


def _regex(expression: str, arguments: Mapping[str, str]) -> str:
    expression = expression.strip()
    if match := _ARGUMENT.match(expression):
        return arguments.get(match.group("name"), string_value(match.group("default")))
    return string_value(expression)


def _relabel_filter(block: Block, arguments: Mapping[str, str]) -> NameFilter:
    keep: list[str] = []
    drop: list[str] = []
    for rule in (c for c in block.children if c.kind == "rule"):
        if string_list(rule.attributes.get("source_labels", "[]")) != ["__name__"]:
            continue
        action = string_value(rule.attributes.get("action", '"replace"'))
        if action in ("keep", "drop"):
            regex = _regex(rule.attributes.get("regex", '"(.*)"'), arguments)
            (keep if action == "keep" else drop).append(regex)
    return NameFilter(tuple(keep), tuple(drop))


def _forwarded_filter(
    block: Block, relabels: Mapping[str, Block], arguments: Mapping[str, str], seen: tuple[str, ...]
) -> NameFilter:
    """The name rules on the way from `block` to a destination (through every relabel it forwards to)."""
    targets = [
        t.strip() for t in block.attributes.get("forward_to", "").strip().strip("[]").split(",") if t.strip()
    ]
    relabel_targets = [m.group(1) for t in targets if (m := _RELABEL_RECEIVER.match(t))]
    if not relabel_targets:
        return NameFilter()  # straight to a destination (argument.metrics_destinations, remote_write)
    if len(relabel_targets) != len(targets) or len(relabel_targets) > 1:
        raise ValueError(
            f'{block.kind} "{block.label}" forwards to {targets}: one relabel or destinations only'
        )
    (label,) = relabel_targets
    if label in seen or label not in relabels:
        raise ValueError(f'{block.kind} "{block.label}": prometheus.relabel "{label}" is missing or a loop')
    relabel = relabels[label]
    return _relabel_filter(relabel, arguments).then(
        _forwarded_filter(relabel, relabels, arguments, (*seen, label))
    )


def _otlp_metrics(receiver_config: str | None) -> bool:
    """The receiver takes OTLP metrics and exports them as series."""
    if receiver_config is None:
        return False
    kinds = {b.kind for b in parse_alloy(receiver_config).walk()}
    return "otelcol.receiver.otlp" in kinds and "otelcol.exporter.prometheus" in kinds


_DROP_BY_NAME = re.compile(r'^name == "(?P<name>[A-Za-z_][\w.]*)"$')


def _otlp_dropped(receiver_config: str | None) -> frozenset[str]:
    """The OTel metric names the receiver's filter processors drop; any other filter is refused."""
    if receiver_config is None:
        return frozenset()
    dropped: set[str] = set()
    for block in parse_alloy(receiver_config).walk():
        if block.kind != "otelcol.processor.filter":
            continue
        for child in block.children:
            if child.kind == "output":
                continue
            if child.kind != "metrics" or set(child.attributes) != {"metric"}:
                raise ValueError(f'otelcol.processor.filter "{block.label}": only metrics.metric is modelled')
            dropped.update(_dropped_name(condition) for condition in string_list(child.attributes["metric"]))
    return frozenset(dropped)


# --- which scrape produces a metric ---------------------------------------------------------------

# Scrape labels as the chart names its `prometheus.scrape` components (and OTLP for the services).
# Each exporter names its metrics under its own namespace; where two sources emit the same name,
# both are listed and either one delivering it is enough. First match wins.
_PRODUCERS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), producers)
    for pattern, producers in (
        # Every scrape adds these two series per target.
        (r"up|scrape_samples_scraped", (ANY_SCRAPE,)),
        # The kubelet's /metrics/resource endpoint: node and container CPU/memory
        # (https://kubernetes.io/docs/reference/instrumentation/node-metrics/); cAdvisor has the
        # container ones too.
        (r"node_(cpu_usage_seconds_total|memory_working_set_bytes)", ("kubelet_resources",)),
        (r"container_(cpu_usage_seconds_total|memory_working_set_bytes)", ("cadvisor", "kubelet_resources")),
        # OpenCost's exporter (its names, as in the chart's allowLists/opencost.yaml).
        (
            r"node_(cpu|ram|gpu|total)_hourly_cost|node_gpu_count|container_(cpu|gpu|memory)_allocation(_bytes)?"
            r"|kubecost_.*|opencost_.*|pv_hourly_cost|pod_pvc_allocation|(deployment|statefulSet)_match_labels"
            r"|service_selector_labels",
            ("opencost",),
        ),
        # node_exporter: namespace "node" (github.com/prometheus/node_exporter collector/collector.go).
        (r"node_.*", ("node_exporter",)),
        # cAdvisor: container_* per cgroup, machine_* per node
        # (github.com/google/cadvisor metrics/prometheus.go).
        (r"container_.*|machine_.*", ("cadvisor",)),
        # kube-state-metrics: kube_* (github.com/kubernetes/kube-state-metrics docs/metrics).
        (r"kube_.*", ("kube_state_metrics",)),
        (r"kubelet_.*", ("kubelet",)),
        (r"apiserver_.*|etcd_.*", ("apiserver",)),
        # Alloy's own metrics, scraped by the `alloy` integration.
        (
            r"alloy_.*|prometheus_(remote_storage|remote_write|sd|target|wal)_.*|loki_.*|otelcol_.*"
            r"|cluster_(node|transport)_.*|traces_.*|rpc_server_.*",
            ("alloy",),
        ),
        # CloudWatch through prometheus.exporter.cloudwatch (YACE names; builders/cloudwatch.py).
        (r"aws_.*", ("cloudwatch_sqs",)),
    )
)


def producers_of(name: str, otel_names: Iterable[str] = ()) -> tuple[str, ...]:
    """The scrapes (scrape labels, or OTLP) that can produce `name`; ValueError for an unknown one.

    `otel_names`: the services' OTLP metrics (tools.metric_catalog.otel_metric_names()).
    """
    if name in set(otel_names):
        return (OTLP,)
    for pattern, producers in _PRODUCERS:
        if pattern.fullmatch(name):
            return producers
    raise ValueError(
        f"no source of {name!r} is known; name the exporter that produces it in tools/rendered_pipeline.py"
    )
