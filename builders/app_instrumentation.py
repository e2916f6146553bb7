"""Pure builders for AppInstrumentation: OpenTelemetry wiring of the LLM Judge services.

Everything here is plain data in, plain data out, so the Pulumi component (server-side
apply patches on the Deployments and the ConfigMap) stays a thin shell and all decisions
are unit-tested without Pulumi. The receiver host is always handed in by the caller (it is
derived from the Helm release name in one place elsewhere); nothing here invents it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from builders import scrape_annotations as annotation_names

# Aliased: the module name is also the name of our public function below.
from builders.names import DNS1123_LABEL

# Stable HTTP semantic conventions, stable-only. With this value the Python contrib
# instrumentations (ASGI/FastAPI, httpx, ...) emit `http.server.request.duration` (seconds),
# which our alerts and dashboards query, and stop emitting the old `http.server.duration`
# (ms). "http/dup" would emit both: twice the HTTP histogram series against the free tier's
# active-series budget, and two metrics that panels could silently mix. Checked against
# opentelemetry-instrumentation 0.66b1 (`_semconv.py`): unset -> old only, "http" -> new
# only, "http/dup" -> both.
SEMCONV_STABILITY_OPT_IN = "http"

# The Python SDK's default OTLP protocol (set by opentelemetry-distro) is grpc; the
# receiver's OTLP/HTTP port is the one we point at, so the protocol must say so.
OTLP_PROTOCOL = "http/protobuf"

# Keys of the app config (flat, dotted, as the seed plan writes them).
KEY_TRACES_ENDPOINT = "observability.traces.collector.endpoint"
KEY_SAMPLE_RATE = "observability.traces.sample_rate"
KEY_EXPORT_LOGS_TO_LOKI = "observability.logs.export_to_loki"
KEY_METRICS_ENABLED = "observability.metrics.enabled"

# RFC 1123 label: what Kubernetes accepts for container names and what we accept for
# service names (they double as OTEL_SERVICE_NAME and Deployment names).
# A host name or IP literal without scheme, port or path.
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
# OTEL_RESOURCE_ATTRIBUTES is a W3C-baggage-like list: `k=v,k=v`, values percent-decoded
# by the SDK. Allow the baggage value octets minus '=' and '%' so a value needs no encoding
# and can never split or re-key the list.
_ATTR_VALUE = re.compile(r"^[\x21\x23-\x24\x26-\x2b\x2d-\x3a\x3c\x3e-\x5b\x5d-\x7e]+$")


class AppConfigError(ValueError):
    """The existing app config cannot be merged; the message names where it came from."""


@dataclass(frozen=True)
class ServiceSpec:
    """One instrumented service: its Deployment/service name, HTTP port and metrics path.

    `metrics_path=None` means the service exposes no Prometheus endpoint (no scrape
    annotations). `container` is the container to patch in the Deployment; it defaults to
    `name`, the convention of the LLM Judge manifests.
    """

    name: str
    port: int
    metrics_path: str | None = "/metrics"
    container: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not DNS1123_LABEL.fullmatch(self.name):
            raise ValueError(f"service name {self.name!r} must be a lowercase RFC 1123 label (a-z, 0-9, '-')")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ValueError(f"service {self.name}: port {self.port!r} must be an integer in 1..65535")
        if self.metrics_path is not None and (
            not isinstance(self.metrics_path, str)
            or not self.metrics_path.startswith("/")
            or " " in self.metrics_path
        ):
            raise ValueError(
                f"service {self.name}: metrics_path {self.metrics_path!r} "
                "must be None or a path starting with '/'"
            )
        if self.container is None:
            # Frozen dataclass: the default is filled in once, here.
            object.__setattr__(self, "container", self.name)
        elif not isinstance(self.container, str) or not DNS1123_LABEL.fullmatch(self.container):
            raise ValueError(
                f"service {self.name}: container {self.container!r} must be a lowercase RFC 1123 label"
            )


# The five FastAPI services of namespace llm-judge (seed plan defaults).
DEFAULT_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("gateway-service", 8000),
    ServiceSpec("redis-service", 8001),
    ServiceSpec("persistence-service", 8002),
    ServiceSpec("inference-service", 8003),
    ServiceSpec("judge-service", 8004),
)


@dataclass(frozen=True)
class ReceiverEndpoint:
    """The OTLP receiver the applications send to (Alloy's receiver Service)."""

    host: str
    grpc_port: int
    http_port: int

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not _HOST.fullmatch(self.host):
            raise ValueError(
                f"receiver host {self.host!r} must be a bare host name (no scheme, port or path), "
                "e.g. grafana-k8s-monitoring-alloy-receiver.llm-judge.svc.cluster.local"
            )
        for label, port in (
            ("grpc_port", self.grpc_port),
            ("http_port", self.http_port),
        ):
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                raise ValueError(f"receiver {label} {port!r} must be an integer in 1..65535")

    @property
    def otlp_http_url(self) -> str:
        """Base URL for OTEL_EXPORTER_OTLP_ENDPOINT; the SDK appends /v1/traces etc. itself."""
        return f"http://{self.host}:{self.http_port}"

    @property
    def traces_url(self) -> str:
        """Full traces URL: the app config key is a signal-specific endpoint, used as is."""
        return f"{self.otlp_http_url}/v1/traces"


def _attr_value(label: str, value: str) -> str:
    if not isinstance(value, str) or not _ATTR_VALUE.fullmatch(value):
        raise ValueError(
            f"{label} {value!r} cannot go into OTEL_RESOURCE_ATTRIBUTES: it must be non-empty printable "
            "ASCII without spaces, ',', '=', '%', ';', '\"' or '\\' (they would split or re-key the list)"
        )
    return value


def resource_attributes(deployment_environment: str, cluster_name: str, namespace: str) -> str:
    """The OTEL_RESOURCE_ATTRIBUTES value, in a fixed order so the patch diff is stable.

    `deployment.environment` is the key the plan and Grafana Cloud's Application
    Observability use; `service.name` is not here because OTEL_SERVICE_NAME wins anyway.
    """
    pairs = (
        (
            "deployment.environment",
            _attr_value("deployment environment", deployment_environment),
        ),
        ("service.namespace", _attr_value("namespace", namespace)),
        ("k8s.cluster.name", _attr_value("cluster name", cluster_name)),
    )
    return ",".join(f"{key}={value}" for key, value in pairs)


def otel_env(
    service: ServiceSpec,
    receiver: ReceiverEndpoint,
    deployment_environment: str,
    cluster_name: str,
    namespace: str,
) -> list[dict[str, str]]:
    """Kubernetes EnvVar entries that point one service's OpenTelemetry SDK at the receiver."""
    return [
        {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": receiver.otlp_http_url},
        {"name": "OTEL_EXPORTER_OTLP_PROTOCOL", "value": OTLP_PROTOCOL},
        {"name": "OTEL_SERVICE_NAME", "value": service.name},
        {
            "name": "OTEL_RESOURCE_ATTRIBUTES",
            "value": resource_attributes(deployment_environment, cluster_name, namespace),
        },
        {"name": "OTEL_SEMCONV_STABILITY_OPT_IN", "value": SEMCONV_STABILITY_OPT_IN},
    ]


def app_config_entries(
    receiver: ReceiverEndpoint,
    sample_rate: float,
    export_logs_to_loki: bool,
    send_otlp_metrics: bool,
) -> dict[str, Any]:
    """The app-config entries this program owns, as flat dotted keys.

    `send_otlp_metrics` is `observability.metrics.enabled`: whether the services send OTLP metrics,
    which only the receiver takes in (applicationObservability). Every service alert and the LLM Judge
    dashboard read them; the scrape annotations (annotation autodiscovery, the services' /metrics)
    are another source and do not decide it."""
    # ValueError throughout (not TypeError): config validation catches one error type.
    is_number = isinstance(sample_rate, int | float) and not isinstance(sample_rate, bool)
    if not is_number or not 0.0 <= float(sample_rate) <= 1.0:
        raise ValueError(f"sample_rate {sample_rate!r} must be a number between 0.0 and 1.0")
    for label, flag in (
        ("export_logs_to_loki", export_logs_to_loki),
        ("send_otlp_metrics", send_otlp_metrics),
    ):
        if flag is not True and flag is not False:
            raise ValueError(f"{label} {flag!r} must be a bool")
    return {
        KEY_TRACES_ENDPOINT: receiver.traces_url,
        # float() so the JSON always reads 1.0, never 1: the apps parse a float.
        KEY_SAMPLE_RATE: float(sample_rate),
        KEY_EXPORT_LOGS_TO_LOKI: export_logs_to_loki,
        KEY_METRICS_ENABLED: send_otlp_metrics,
    }


def _load_object(existing: str, source: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # json.loads would keep the last duplicate silently; which one the apps read depends
        # on their parser, so refuse rather than guess (and rather than drop an entry).
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                raise AppConfigError(f"{source}: key {key!r} appears more than once; remove the duplicate")
            obj[key] = value
        return obj

    def no_constants(name: str) -> Any:
        raise AppConfigError(f"{source}: {name} is not valid JSON")

    if not isinstance(existing, str) or not existing.strip():
        raise AppConfigError(f"{source}: is empty; expected a JSON object")
    try:
        doc = json.loads(existing, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as err:
        raise AppConfigError(
            f"{source}: is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from err
    if not isinstance(doc, dict):
        raise AppConfigError(f"{source}: top level is a JSON {type(doc).__name__}, expected an object")
    return doc


def _locations(obj: dict[str, Any], parts: list[str]) -> list[tuple[dict[str, Any], str]]:
    """Every place the dotted key already lives: flat, nested, or any mix of the two."""
    found: list[tuple[dict[str, Any], str]] = []
    for i in range(1, len(parts) + 1):
        head = ".".join(parts[:i])
        if head not in obj:
            continue
        if i == len(parts):
            found.append((obj, head))
        elif isinstance(obj[head], dict):
            found.extend(_locations(obj[head], parts[i:]))
    return found


def _deepest_object(
    obj: dict[str, Any], parts: list[str], path: str, source: str
) -> tuple[dict[str, Any], list[str]]:
    """The deepest existing object along the key's path and the parts still missing below it.

    A prefix that holds a non-object (e.g. `"observability": false`) makes the key
    impossible to place without contradicting it, so that is an error.
    """
    best: tuple[dict[str, Any], list[str]] = (obj, parts)
    for i in range(1, len(parts)):
        head = ".".join(parts[:i])
        if head not in obj:
            continue
        if not isinstance(obj[head], dict):
            where = f"{path}.{head}" if path else head
            raise AppConfigError(
                f"{source}: {where!r} is a {type(obj[head]).__name__}, not an object, so "
                f"{'.'.join(parts)!r} cannot be set below it; fix or remove {where!r}"
            )
        candidate = _deepest_object(obj[head], parts[i:], f"{path}.{head}" if path else head, source)
        if len(candidate[1]) < len(best[1]):
            best = candidate
    return best


def _set_entry(doc: dict[str, Any], key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    if not key or any(not part for part in parts):
        raise ValueError(f"app config key {key!r} must be dotted non-empty segments")
    locations = _locations(doc, parts)
    if locations:
        # Update in place, everywhere: keeps the key's position, and leaves no stale copy
        # (say a nested jaeger endpoint) for an app that reads the other spelling.
        for container, leaf in locations:
            container[leaf] = value
        return
    container, missing = _deepest_object(doc, parts, "", source)
    if container is doc:
        # Nothing of ours exists yet: the plan's flat dotted key, appended at the end.
        doc[key] = value
        return
    # The file already nests part of this path: continue in its style, nested.
    for part in missing[:-1]:
        container[part] = {}
        container = container[part]
    container[missing[-1]] = value


def merge_app_config(existing: str, entries: dict[str, Any], source: str) -> str:
    """Set `entries` in the app config text and return the new text; nothing else changes.

    Every entry we do not own keeps its value and its position. Output is
    `json.dumps(indent=2, ensure_ascii=False)` plus a final newline, so the same input
    always gives the same bytes (no diff churn on the ConfigMap). Numbers keep their
    value; their spelling is Python's (`1e-5` comes back as `1e-05`).

    Placement of each dotted key such as `observability.traces.collector.endpoint`:

    * Where the key already exists it is updated in place. It may be flat
      (`"observability.traces.collector.endpoint"`), nested
      (`"observability": {"traces": {"collector": {"endpoint": ...}}}`), or a mix
      (`"observability": {"traces.sample_rate": ...}`). If it exists in more than one of
      those spellings, every copy is updated so no reader keeps the old value.
    * Otherwise, if the file nests part of the path (an `"observability"` object exists),
      the key is written into that object, creating the missing levels as nested objects,
      rather than adding a flat key that would contradict the nested one.
    * Otherwise it is appended as a flat dotted key, as the seed plan writes it.

    Raises AppConfigError naming `source` when the text is empty, not JSON, not a JSON
    object, repeats a key, uses NaN/Infinity, or has a non-object on the key's path
    (e.g. `"observability": false`).
    """
    doc = _load_object(existing, source)
    for key, value in entries.items():
        _set_entry(doc, key, value, source)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def scrape_annotations(service: ServiceSpec) -> dict[str, str]:
    """Pod annotations for annotation autodiscovery; none when the service has no metrics."""
    if service.metrics_path is None:
        return {}
    return {
        annotation_names.SCRAPE: "true",
        annotation_names.PORT: str(service.port),
        annotation_names.PATH: service.metrics_path,
    }


def deployment_patch_spec(
    service: ServiceSpec,
    env: list[dict[str, str]],
    annotations: dict[str, str],
) -> dict[str, Any]:
    """The Deployment `spec` of a server-side apply patch: only the fields we own.

    Server-side apply merges containers and env by `name`, so the other containers, env
    vars and annotations stay with their owners. A field we stop sending (e.g. annotations
    after metrics_path becomes None) is removed by the API server, which is why the
    metadata block is left out entirely rather than sent empty.
    """
    names: list[str] = []
    for var in env:
        if set(var) != {"name", "value"} or not all(isinstance(v, str) for v in var.values()):
            raise ValueError(
                f"service {service.name}: env entry {var!r} must be {{'name': str, 'value': str}}"
            )
        if var["name"] in names:
            raise ValueError(f"service {service.name}: env variable {var['name']!r} is set twice")
        names.append(var["name"])
    template: dict[str, Any] = {}
    if annotations:
        template["metadata"] = {"annotations": dict(annotations)}
    template["spec"] = {"containers": [{"name": service.container, "env": [dict(var) for var in env]}]}
    return {"template": template}
