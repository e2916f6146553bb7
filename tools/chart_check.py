"""Check Helm values against the k8s-monitoring chart's published data (schema and defaults).

The chart's schemas accept unknown keys, so a misspelt or 1.x-style key validates and is
silently ignored. This check adds what the schema does not: every key path we set must exist
in the chart's defaults (or, for destinations, in the destination type's schema), and the
template-level OpenCost rules must hold. `check_values(values)` returns problem strings;
an empty list means the values are fine.

Data: `<repo root>/../shared/k8s-monitoring/4.4.0`, or the directory in `K8S_MONITORING_DATA`.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DATA_ENV = "K8S_MONITORING_DATA"
REPO_ROOT = Path(__file__).resolve().parent.parent

# Maps whose keys are the user's to choose (Kubernetes objects, label/annotation maps, config text).
FREE_FORM_KEYS = frozenset(
    {
        "resources",
        "tolerations",
        "nodeSelector",
        "affinity",
        "securityContext",
        "podSecurityContext",
        "annotations",
        "podAnnotations",
        "podLabels",
        "labels",
        "labelSelectors",
        "labelMatchers",
        "staticLabels",
        "structuredMetadata",
        "extraConfig",
        "extraEnv",
        "extraEnvVars",
        "extraHeaders",
        "extraLabels",
    }
)
# Free-form by name, but here the keys are roles the chart's templates read.
CLOSED_PATHS = frozenset({("annotationAutodiscovery", "annotations")})
# Collector settings pass through to the Alloy chart, whose defaults are not in the data.
OPAQUE_PATHS = frozenset({("collectors",)})
# Keys that third-party charts behind a pass-through block conventionally accept.
PASSTHROUGH_KEYS = frozenset(
    {
        "resources",
        "tolerations",
        "nodeSelector",
        "affinity",
        "podAnnotations",
        "podLabels",
        "priorityClassName",
        "securityContext",
        "podSecurityContext",
        "topologySpreadConstraints",
        "serviceAccount",
        "image",
        "replicas",
        "replicaCount",
        "extraArgs",
        "extraEnv",
        # prometheus-node-exporter's (values.yaml of 4.56.1, the chart 4.4.0 bundles); that the
        # setting takes effect is checked on the real render (tests/tools/test_chart_render.py).
        "hostRootFsMount",
    }
)

Path_ = tuple[str, ...]


@dataclass(frozen=True)
class ChartData:
    """The chart's schema and defaults, with each feature subchart behind its alias."""

    schema: Mapping[str, Any]
    defaults: Mapping[str, Any]  # parent defaults, subchart defaults merged under each alias
    subchart_schemas: Mapping[str, tuple[str, Mapping[str, Any]]]  # alias -> (name, schema)
    subchart_defaults: Mapping[str, Mapping[str, Any]]  # alias -> subchart values.yaml
    passthrough_roots: frozenset[Path_]  # blocks feeding charts whose defaults are absent


def data_dir() -> Path:
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else REPO_ROOT.parent / "shared" / "k8s-monitoring" / "4.4.0"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) or {}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm-style coalesce: maps merge recursively, anything else in `override` wins."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_chart_data(directory: Path | None = None) -> ChartData:
    """The chart data in `directory`, by default `data_dir()` (read once per directory)."""
    return _load_chart_data(Path(directory or data_dir()).resolve())


@lru_cache(maxsize=4)
def _load_chart_data(root: Path) -> ChartData:
    defaults = _yaml(root / "values.yaml")
    schemas: dict[str, tuple[str, Mapping[str, Any]]] = {}
    sub_defaults: dict[str, Mapping[str, Any]] = {}
    for dep in _yaml(root / "Chart.yaml").get("dependencies", []):
        sub = root / "subcharts" / dep["name"]
        if not sub.is_dir():
            continue  # e.g. alloy-operator: a remote chart, not part of the data
        alias = dep.get("alias") or dep["name"]
        schemas[alias] = (dep["name"], json.loads((sub / "values.schema.json").read_text()))
        sub_defaults[alias] = _yaml(sub / "values.yaml")
        defaults[alias] = deep_merge(sub_defaults[alias], defaults.get(alias) or {})
    return ChartData(
        schema=json.loads((root / "values.schema.json").read_text()),
        defaults=defaults,
        subchart_schemas=schemas,
        subchart_defaults=sub_defaults,
        passthrough_roots=_passthrough_roots(defaults),
    )


def _passthrough_roots(defaults: Mapping[str, Any]) -> frozenset[Path_]:
    """alloy-operator and each telemetry service feed charts whose defaults the data lacks."""
    services = defaults.get("telemetryServices") or {}
    roots = {("telemetryServices", name) for name, block in services.items() if "deploy" in (block or {})}
    return frozenset(roots | {("alloy-operator",)})


def check_values(values: Mapping[str, Any], directory: Path | None = None) -> list[str]:
    """All problems found in `values`; empty means OK."""
    data = load_chart_data(directory)
    return [
        *schema_problems(values, data),
        *unknown_key_problems(values, data),
        *opencost_problems(values, data),
    ]


# --- (a) JSON schema ----------------------------------------------------------------------


def _schema_errors(instance: Any, schema: Mapping[str, Any], where: str) -> Iterator[str]:
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        yield f"schema ({where}): {path}: {error.message}"


def schema_problems(values: Mapping[str, Any], data: ChartData) -> list[str]:
    """Parent schema on the coalesced values, and each alias block on its subchart's schema."""
    problems = list(_schema_errors(deep_merge(data.defaults, values), data.schema, "k8s-monitoring"))
    for alias, (name, schema) in data.subchart_schemas.items():
        if alias in values:
            block = deep_merge(data.subchart_defaults[alias], values[alias] or {})
            problems += [p.replace(": ", f": {alias}.", 1) for p in _schema_errors(block, schema, name)]
    return problems


# --- (b) unknown keys ---------------------------------------------------------------------


def _dotted(path: Path_) -> str:
    return ".".join(path)


def _is_free(path: Path_, default: Any) -> bool:
    if path in CLOSED_PATHS:
        return False
    return path[-1] in FREE_FORM_KEYS or path in OPAQUE_PATHS or default in ({}, None)


def _walk_defaults(
    value: Mapping[str, Any], default: Any, path: Path_, data: ChartData, passthrough: bool
) -> Iterator[str]:
    known = default if isinstance(default, Mapping) else {}
    for key, sub in value.items():
        here = (*path, str(key))
        if key not in known:
            if not (passthrough and key in PASSTHROUGH_KEYS):
                yield f"unknown key: {_dotted(here)} (not in the chart's defaults)"
            continue
        if isinstance(sub, Mapping) and not _is_free(here, known[key]):
            inner = passthrough or here in data.passthrough_roots
            yield from _walk_defaults(sub, known[key], here, data, inner)


def _walk_schema(value: Mapping[str, Any], schema: Mapping[str, Any], path: Path_) -> Iterator[str]:
    props = schema.get("properties")
    if props is None:
        return  # the schema leaves this map open
    for key, sub in value.items():
        here = (*path, str(key))
        if key not in props:
            yield f"unknown key: {_dotted(here)} (not in the destination's schema)"
        elif isinstance(sub, Mapping) and key not in FREE_FORM_KEYS:
            yield from _walk_schema(sub, props[key], here)


def _destination_problems(destinations: Mapping[str, Any], data: ChartData) -> Iterator[str]:
    definitions = data.schema.get("definitions", {})
    for name, destination in destinations.items():
        kind = (destination or {}).get("type")
        definition = definitions.get(f"{kind}-destination")
        if definition is None:
            yield f"destinations.{name}: unknown destination type {kind!r}"
        else:
            yield from _walk_schema(destination, definition, ("destinations", name))


def unknown_key_problems(values: Mapping[str, Any], data: ChartData) -> list[str]:
    rest = {k: v for k, v in values.items() if k != "destinations"}
    problems = list(_walk_defaults(rest, data.defaults, (), data, passthrough=False))
    return problems + list(_destination_problems(values.get("destinations") or {}, data))


# --- template rules the schema cannot express ---------------------------------------------

# The chart's suggestion for OpenCost's query URL, from a remote-write URL
# (charts/telemetry-services/templates/_validate.tpl, "telemetryServices.validate.opencost").
_QUERY_URL = (
    (r"/api/prom/push$", "/api/prom"),
    (r"/api/v1/push$", "/api/v1/query"),
    (r"/api/v1/write$", "/api/v1/query"),
)


def _query_url(remote_write_url: str) -> str | None:
    for suffix, query in _QUERY_URL:
        if re.search(suffix, remote_write_url):
            return re.sub(suffix, query, remote_write_url)
    return None


def opencost_problems(values: Mapping[str, Any], data: ChartData) -> list[str]:
    """OpenCost's cluster id must be the cluster's name; in the guided setup (`metricsSource: <destination>`)
    it must also read from that destination with its Secret and keys. `custom` skips only the latter
    (the order of the checks in _validate.tpl)."""
    merged = deep_merge(data.defaults, values)
    opencost = merged["telemetryServices"]["opencost"]
    if not opencost.get("deploy"):
        return []
    problems = []
    if opencost["opencost"]["exporter"].get("defaultClusterId") != merged["cluster"]["name"]:
        problems.append(
            "telemetryServices.opencost.opencost.exporter.defaultClusterId must equal cluster.name"
        )
    if opencost.get("metricsSource") == "custom":
        return problems
    source = opencost.get("metricsSource") or ""
    destination = (values.get("destinations") or {}).get(source)
    if not destination or destination.get("type") != "prometheus":
        return [
            *problems,
            f"telemetryServices.opencost.metricsSource: {source!r} is not a prometheus destination",
        ]
    return [*problems, *_opencost_link_problems(opencost["opencost"], destination)]


def _opencost_link_problems(inner: Mapping[str, Any], destination: Mapping[str, Any]) -> Iterator[str]:
    prefix = "telemetryServices.opencost.opencost"
    wanted_url = _query_url(destination.get("url", ""))
    url = inner["prometheus"]["external"].get("url")
    if not url or (wanted_url and url != wanted_url):
        yield f"{prefix}.prometheus.external.url must be the query URL {wanted_url!r}, got {url!r}"
    auth, secret = destination.get("auth") or {}, destination.get("secret") or {}
    if auth.get("type") != "basic" or secret.get("embed"):
        return
    expected = {
        "existingSecretName": secret.get("name"),
        "username_key": auth.get("usernameKey", "username"),
        "password_key": auth.get("passwordKey", "password"),
    }
    for key, want in expected.items():
        got = inner["prometheus"].get(key)
        if got != want:
            yield f"{prefix}.prometheus.{key} must be {want!r} (the metrics destination's), got {got!r}"


def main() -> int:
    """`python -m tools.chart_check values.yaml ...`: print problems, exit 1 if any."""
    import sys

    status = 0
    for name in sys.argv[1:]:
        for problem in check_values(_yaml(Path(name))):
            print(f"{name}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
