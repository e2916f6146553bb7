"""The checks of `tools.verify`, a to f, each a function from `Env` to one `Result` line.

Every check says what it ran (`query`) and, when it fails, what to look at (`look_at`, and the
runbook section `docs/runbooks.md#verify-<id>`). A check whose feature the stack turned off is
skipped, saying which setting; a skip never fails the run.

The data of *this* cluster is selected by the cluster label k8s-monitoring stamps on everything it
sends: `cluster` on metrics and logs, `k8s.cluster.name` on traces (chart 4.4.0,
destinations/prometheus-values.yaml and loki-values.yaml `clusterLabels: [cluster, k8s.cluster.name]`,
templates/destinations/_destination_prometheus.tpl `external_labels`). Both stacks may share one
Grafana Cloud stack, so without it one cluster's data would pass the other's checks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from builders.k8s_monitoring_names import ALLOY_INTEGRATION_JOB
from clients.http import RequestError
from clients.kube import KubeClient, KubeError
from tools.verify.backends import LokiApi, PrometheusApi, TempoApi
from tools.verify.target import REQUEST_FLOW, Target

Status = Literal["PASS", "FAIL", "SKIP"]

# Grafana Cloud's free tier: 10,000 active series; a series is active when it received data in the
# last 20 minutes (https://grafana.com/docs/grafana-cloud/cost-management-and-billing/understand-usage-cost/metrics/).
FREE_TIER_SERIES = 10_000
ACTIVE_WINDOW = "20m"
# The Alloy chart's main container
# (grafana/alloy operations/helm/charts/alloy/templates/containers/_agent.yaml).
ALLOY_CONTAINER = "alloy"
# How each kind of Alloy component reports a failed export in its log (logfmt, one line per event):
# - prometheus.remote_write: `server returned HTTP status 401 Unauthorized: ...` (Prometheus
#   storage/remote/client.go);
# - loki.write: `... status=429 ... error="server returned HTTP status 429 Too Many Requests (429)"`;
# - otelcol.exporter.otlphttp: `... responded with HTTP Status Code 401, Message=...`;
# - any of them when the endpoint does not answer: `dial tcp ...: connect: connection refused`.
EXPORT_ERROR = re.compile(
    r"HTTP status (?:code )?(401|403|429)\b"
    r"|\bstatus[=:]\s*\"?(401|403|429)\b"
    r"|\b(401|403|429) (?:Unauthorized|Forbidden|Too Many Requests)"
    r"|connection refused",
    re.IGNORECASE,
)
# A W3C trace id in a structured log line: `"trace_id": "<32 hex>"` (JSON) or `trace_id=<32 hex>`.
TRACE_ID = re.compile(r"(?i)\"?(?:trace_?id|traceid)\"?\s*[:=]\s*\"?([0-9a-f]{32})\b")
TRACE_IDS_TRIED = 10
LOG_LINES_READ = 200
_PLURAL = {"StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Deployment": "deployments"}


@dataclass(frozen=True)
class Result:
    check: str  # the check's id, also its runbook anchor (verify-<id>)
    status: Status
    summary: str  # passed: what was found; failed: why; skipped: which setting
    query: str  # what it ran, as the user would run it
    look_at: str = ""  # on failure: where to look first


@dataclass
class Env:
    """Everything a check reads. A client that could not be set up is the error instead."""

    target: Target
    prometheus: PrometheusApi
    loki: LokiApi
    tempo: TempoApi
    kube: KubeClient | KubeError
    window_seconds: int = 900
    series_limit: int = FREE_TIER_SERIES

    @property
    def window(self) -> str:
        return f"{self.window_seconds // 60}m" if self.window_seconds % 60 == 0 else f"{self.window_seconds}s"


@dataclass(frozen=True)
class Check:
    id: str
    letter: str
    title: str
    run: Callable[[Env], Result]


# --- a. collectors ------------------------------------------------------------------------------


def _workload_path(target: Target, kind: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{target.namespace}/{_PLURAL[kind]}/{name}"


def workload_ready(kind: str, obj: Mapping[str, Any]) -> tuple[bool, str]:
    """Ready as `kubectl rollout status` judges it (kubectl/pkg/polymorphichelpers/rollout_status.go):
    the controller saw the current spec, every replica is updated and ready. (ready?, "n/m ready")."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    observed = (status.get("observedGeneration") or 0) >= ((obj.get("metadata") or {}).get("generation") or 0)
    if kind == "DaemonSet":
        want = int(status.get("desiredNumberScheduled") or 0)
        ready, updated = int(status.get("numberReady") or 0), int(status.get("updatedNumberScheduled") or 0)
        if want == 0:
            return False, "scheduled on no node"
    else:
        want = int(spec.get("replicas", 1))
        ready, updated = int(status.get("readyReplicas") or 0), int(status.get("updatedReplicas") or 0)
    ok = observed and want > 0 and ready >= want and updated >= want
    return ok, f"{ready}/{want} ready" + ("" if updated >= want else f", {updated}/{want} updated")


def collectors_ready(env: Env) -> Result:
    target = env.target
    query = f"Kubernetes API: GET /apis/apps/v1/namespaces/{target.namespace}/" + ", ".join(
        f"{_PLURAL[c.kind]}/{c.workload}" for c in target.collectors
    )
    if not target.collectors:
        return Result("collectors-ready", "SKIP", "no feature runs a collector (`features`)", query)
    if isinstance(env.kube, KubeError):
        return Result("collectors-ready", "FAIL", f"no cluster access: {env.kube}", query, "the kubeconfig")
    found: list[str] = []
    problems: list[str] = []
    for collector in target.collectors:
        label = f"{collector.kind} {collector.workload}"
        try:
            obj = env.kube.get_json(_workload_path(target, collector.kind, collector.workload))
        except RequestError as err:
            problems.append(f"{label} does not exist" if err.status == 404 else f"{label}: {err}")
            continue
        ready, detail = workload_ready(collector.kind, obj)
        (found if ready else problems).append(f"{label} {detail}")
    if problems:
        return Result(
            "collectors-ready",
            "FAIL",
            "; ".join(problems),
            query,
            f"kubectl -n {target.namespace} get alloy,pods; describe the pods that are not ready",
        )
    return Result("collectors-ready", "PASS", "; ".join(found), query)


def _pods(env: Env, kube: KubeClient, kind: str, workload: str) -> list[str]:
    obj = kube.get_json(_workload_path(env.target, kind, workload))
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:  # an empty selector would list every pod of the namespace
        raise RequestError(f"{kind} {workload} has no spec.selector.matchLabels to find its pods by")
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = kube.get_json(f"/api/v1/namespaces/{env.target.namespace}/pods", {"labelSelector": selector})
    return [str(p["metadata"]["name"]) for p in pods.get("items") or []]


def collector_logs(env: Env) -> Result:
    target = env.target
    query = (
        f"Kubernetes API: GET /api/v1/namespaces/{target.namespace}/pods/<pod>/log"
        f"?container={ALLOY_CONTAINER}&sinceSeconds={env.window_seconds} for each collector pod, "
        "searched for HTTP 401/403/429 and connection refused"
    )
    if not target.collectors:
        return Result("collector-logs", "SKIP", "no feature runs a collector (`features`)", query)
    if isinstance(env.kube, KubeError):
        return Result("collector-logs", "FAIL", f"no cluster access: {env.kube}", query, "the kubeconfig")
    read, problems, errors = 0, [], []
    for collector in target.collectors:
        try:
            pods = _pods(env, env.kube, collector.kind, collector.workload)
        except RequestError as err:
            problems.append(f"{collector.workload}: {err}")
            continue
        if not pods:
            problems.append(f"{collector.workload} has no pods")
        for pod in pods:
            try:
                log = env.kube.get_text(
                    f"/api/v1/namespaces/{target.namespace}/pods/{pod}/log",
                    {"container": ALLOY_CONTAINER, "sinceSeconds": env.window_seconds},
                )
            except RequestError as err:
                problems.append(f"{pod}: {err}")
                continue
            read += 1
            bad = [match for line in log.splitlines() if (match := EXPORT_ERROR.search(line))]
            if bad:
                errors.append(f"{pod}: {len(bad)} export error(s), latest: {_excerpt(bad[-1])}")
    if errors or problems:
        return Result(
            "collector-logs",
            "FAIL",
            "; ".join(errors + problems),
            query,
            "401/403: the credentials Secret or token; 429: the stack's limits; "
            "connection refused: the endpoint",
        )
    return Result(
        "collector-logs", "PASS", f"{read} collector pod(s), no export errors in the last {env.window}", query
    )


def _excerpt(match: re.Match[str], width: int = 240) -> str:
    """The matched log line around the match (a long line's error sits at its end)."""
    line = match.string
    start = max(0, min(match.start() - width // 2, len(line) - width))
    return ("…" if start else "") + line[start : start + width] + ("…" if start + width < len(line) else "")


# --- b. metrics ---------------------------------------------------------------------------------


def collectors_up(env: Env) -> Result:
    target = env.target
    query = (
        f'min by (app) (up{{job="{ALLOY_INTEGRATION_JOB}", cluster="{target.cluster_name}", '
        f'namespace="{target.namespace}"}})'
    )
    if not target.features.collector_self_metrics:
        return Result(
            "collectors-up",
            "SKIP",
            "features.collectorSelfMetrics is false: no `up` to read",
            f"Mimir: {query}",
        )
    try:
        samples = env.prometheus.query(query)
    except RequestError as err:
        return _backend_failure("collectors-up", "Mimir", err, f"Mimir: {query}")
    up = {s["metric"].get("app"): float(s["value"][1]) for s in samples}
    missing = [c.name for c in target.collectors if c.name not in up]
    down = [c.name for c in target.collectors if up.get(c.name, 1.0) < 1]
    problems = [f"no `up` series for {', '.join(missing)}"] * bool(missing) + [
        f"down (up=0): {', '.join(down)}"
    ] * bool(down)
    if problems:
        return Result(
            "collectors-up",
            "FAIL",
            "; ".join(problems),
            f"Mimir: {query}",
            "alloy-metrics (it scrapes the collectors) and the collectors' pods",
        )
    return Result(
        "collectors-up", "PASS", f"{len(up)} collector(s) up: {', '.join(sorted(up))}", f"Mimir: {query}"
    )


def _needs_services(target: Target) -> str | None:
    if not target.features.app_instrumentation:
        return (
            "features.appInstrumentation is false: the services are not instrumented (eks: not deployed yet)"
        )
    return None


def service_metrics(env: Env) -> Result:
    target = env.target
    jobs = {f"{target.namespace}/{s.name}": s.name for s in target.services}
    # Namespaces and service names are DNS-1123 labels: no regex metacharacter, no escaping (and
    # PromQL's Go-style strings would refuse re.escape's `\-`).
    selector = f'cluster="{target.cluster_name}", job=~"{"|".join(jobs)}"'
    series = f"http_server_request_duration_seconds_count{{{selector}}}"
    query = f"count by (job) (last_over_time({series}[{env.window}]))"
    skip = _needs_services(target)
    if skip:
        return Result("service-metrics", "SKIP", skip, f"Mimir: {query}")
    try:
        samples = env.prometheus.query(query)
    except RequestError as err:
        return _backend_failure("service-metrics", "Mimir", err, f"Mimir: {query}")
    seen = {s["metric"].get("job") for s in samples}
    missing = [name for job, name in jobs.items() if job not in seen]
    if missing:
        return Result(
            "service-metrics",
            "FAIL",
            f"no request metrics in the last {env.window} from {', '.join(missing)}",
            f"Mimir: {query}",
            "the service's OTEL_* environment and traffic, then alloy-receiver's logs",
        )
    return Result("service-metrics", "PASS", f"all {len(jobs)} services report requests", f"Mimir: {query}")


# --- c. logs ------------------------------------------------------------------------------------


def _log_selector(target: Target) -> str:
    containers = "|".join(str(s.container) for s in target.services)  # DNS-1123 labels, as above
    return f'{{cluster="{target.cluster_name}", namespace="{target.namespace}", container=~"{containers}"}}'


def service_logs(env: Env) -> Result:
    target = env.target
    query = f"sum by (container) (count_over_time({_log_selector(target)}[{env.window}]))"
    if not target.features.pod_logs:
        return Result(
            "service-logs", "SKIP", "features.podLogs is false: no pod logs are collected", f"Loki: {query}"
        )
    skip = _needs_services(target)
    if skip:
        return Result("service-logs", "SKIP", skip, f"Loki: {query}")
    try:
        samples = env.loki.query(query, time.time_ns())
    except RequestError as err:
        return _backend_failure("service-logs", "Loki", err, f"Loki: {query}")
    lines = {s["metric"].get("container"): float(s["value"][1]) for s in samples}
    missing = [str(s.container) for s in target.services if not lines.get(s.container)]
    if missing:
        return Result(
            "service-logs",
            "FAIL",
            f"no log lines in the last {env.window} from container(s) {', '.join(missing)}",
            f"Loki: {query}",
            "the pods of those services (running? logging to stdout?), then alloy-logs' logs",
        )
    counted = ", ".join(f"{c} {int(n)}" for c, n in sorted(lines.items()))
    return Result("service-logs", "PASS", f"lines in the last {env.window}: {counted}", f"Loki: {query}")


# --- d. traces ----------------------------------------------------------------------------------


def _trace_skip(target: Target) -> str | None:
    if not target.features.application_observability:
        return "features.applicationObservability is false: no OTLP receiver"
    missing = [s for s in REQUEST_FLOW if s not in {svc.name for svc in target.services}]
    if missing:
        return f"services {', '.join(missing)} are not in this stack's `services`"
    return _needs_services(target)


def _span(service: str, target: Target | None = None) -> str:
    where = f'resource.service.name = "{service}"'
    if target is not None:
        where += f' && resource.k8s.cluster.name = "{target.cluster_name}"'
    return f"{{ {where} }}"


def _window_s(env: Env) -> tuple[int, int]:
    now = int(time.time())
    return now - env.window_seconds, now


def gateway_traces(env: Env) -> Result:
    target = env.target
    query = _span(REQUEST_FLOW[0], target)
    skip = _trace_skip(target)
    if skip:
        return Result("gateway-traces", "SKIP", skip, f"Tempo: {query}")
    try:
        traces = env.tempo.search(query, *_window_s(env))
    except RequestError as err:
        return _backend_failure("gateway-traces", "Tempo", err, f"Tempo: {query}")
    if not traces:
        return Result(
            "gateway-traces",
            "FAIL",
            f"no trace of {REQUEST_FLOW[0]} in the last {env.window}",
            f"Tempo: {query}",
            "the gateway's OTEL_* environment and app config, then alloy-receiver's logs",
        )
    return Result(
        "gateway-traces",
        "PASS",
        f"{len(traces)} trace(s) of {REQUEST_FLOW[0]}, e.g. {traces[0].get('traceID')}",
        f"Tempo: {query}",
    )


def request_flow(env: Env) -> Result:
    """At least one trace in which gateway spans are ancestors of inference spans, which are
    ancestors of judge spans (TraceQL's descendant operator `>>`)."""
    target = env.target
    first, *rest = REQUEST_FLOW
    query = " >> ".join([_span(first, target), *(_span(s) for s in rest)])
    skip = _trace_skip(target)
    if skip:
        return Result("request-flow", "SKIP", skip, f"Tempo: {query}")
    try:
        traces = env.tempo.search(query, *_window_s(env))
        if traces:
            return Result(
                "request-flow",
                "PASS",
                f"trace {traces[0].get('traceID')} crosses {' → '.join(REQUEST_FLOW)}",
                f"Tempo: {query}",
            )
        # Why not: are the three services in one trace at all, only not parent -> child?
        together = " && ".join([_span(first, target), *(_span(s) for s in rest)])
        shared = env.tempo.search(together, *_window_s(env))
    except RequestError as err:
        return _backend_failure("request-flow", "Tempo", err, f"Tempo: {query}")
    why = (
        f"{len(shared)} trace(s) hold spans of all three services, but not as ancestor → descendant"
        if shared
        else f"no trace in the last {env.window} holds spans of all of {', '.join(REQUEST_FLOW)}"
    )
    return Result(
        "request-flow",
        "FAIL",
        why,
        f"Tempo: {query}",
        "trace-context propagation across the SQS messages between the services",
    )


# --- e. trace-log correlation -------------------------------------------------------------------


def trace_ids(lines: Sequence[tuple[Mapping[str, str], str]]) -> list[tuple[str, str]]:
    """Distinct (trace id, container) of the lines, newest first; all-zero ids (no trace) dropped."""
    found: dict[str, str] = {}
    for labels, line in lines:
        for match in TRACE_ID.finditer(line):
            trace_id = match.group(1).lower()
            if trace_id.strip("0") and trace_id not in found:
                found[trace_id] = labels.get("container", "?")
    return list(found.items())


def trace_log_correlation(env: Env) -> Result:
    target = env.target
    logql = f'{_log_selector(target)} |~ "(?i)trace_?id"'
    query = f"Loki: {logql} (newest {LOG_LINES_READ}), then Tempo: GET /api/traces/<trace id>"
    skip = (
        "features.podLogs is false: no pod logs are collected"
        if not target.features.pod_logs
        else _trace_skip(target)
    )
    if skip:
        return Result("trace-log-correlation", "SKIP", skip, query)
    start, end = _window_s(env)
    try:
        lines = env.loki.lines(logql, start * 10**9, end * 10**9, LOG_LINES_READ)
        ids = trace_ids(lines)
        tried = ids[:TRACE_IDS_TRIED]
        for trace_id, container in tried:
            if env.tempo.trace(trace_id) is not None:
                return Result(
                    "trace-log-correlation",
                    "PASS",
                    f"trace {trace_id} of a {container} log line is in Tempo",
                    query,
                )
    except RequestError as err:
        return _backend_failure("trace-log-correlation", "Loki/Tempo", err, query)
    if not ids:
        why = f"none of {len(lines)} recent log line(s) of the services carries a trace_id"
        look = "the services' log format (trace_id in each JSON line) and their OpenTelemetry logging"
    else:
        why = (
            f"none of the {len(tried)} newest trace ids in the logs is in Tempo "
            f"(traceSampleRate {target.trace_sample_rate}: unsampled requests log ids Tempo never gets)"
        )
        look = "the services' sampler and trace export; check `gateway-traces` first"
    return Result("trace-log-correlation", "FAIL", why, query, look)


# --- f. the bill --------------------------------------------------------------------------------


def active_series(env: Env) -> Result:
    # This cluster's series: the verification token's label policy lets it read no other cluster's
    # (components/verification_access.py), so the Grafana Cloud stack's total is not readable here.
    # Clusters sharing one stack share its limit: give each its part with --series-limit.
    mine = f'{{cluster="{env.target.cluster_name}"}}[{ACTIVE_WINDOW}]'
    count_q = f"count(last_over_time({mine}))"
    top_q = f"topk(10, count by (__name__) (last_over_time({mine})))"
    query = f"Mimir: {count_q}; {top_q}"
    try:
        count = _scalar(env.prometheus.query(count_q))
        top = sorted(env.prometheus.query(top_q), key=lambda s: -float(s["value"][1]))
    except RequestError as err:
        return _backend_failure("active-series", "Mimir", err, query)
    top_text = ", ".join(f"{s['metric'].get('__name__')} {int(float(s['value'][1]))}" for s in top)
    summary = (
        f"{count:,} active series of this cluster, budget {env.series_limit:,}; top 10: {top_text or 'none'}"
    )
    if count > env.series_limit:
        return Result(
            "active-series",
            "FAIL",
            summary,
            query,
            "the top metrics: trim them with the chart's metricsTuning or turn a feature off",
        )
    return Result("active-series", "PASS", summary, query)


def _scalar(samples: list[dict[str, Any]]) -> int:
    return int(float(samples[0]["value"][1])) if samples else 0


# --- shared -------------------------------------------------------------------------------------


def _backend_failure(check: str, backend: str, err: RequestError, ran: str) -> Result:
    if err.status in (401, 403):
        look = "the verifyToken output (expired or revoked? `pulumi up` rotates it) and verifyEndpoints"
    else:
        look = f"{backend}'s endpoint in verifyEndpoints and the network path to it"
    return Result(check, "FAIL", f"{backend} query failed: {err}", ran, look)


CHECKS: tuple[Check, ...] = (
    Check("collectors-ready", "a", "collectors ready", collectors_ready),
    Check("collector-logs", "a", "collector logs free of export errors", collector_logs),
    Check("collectors-up", "b", "collectors up in Mimir", collectors_up),
    Check("service-metrics", "b", "service request metrics in Mimir", service_metrics),
    Check("service-logs", "c", "service logs in Loki", service_logs),
    Check("gateway-traces", "d", "gateway traces in Tempo", gateway_traces),
    Check("request-flow", "d", "a trace crossing gateway → inference → judge", request_flow),
    Check("trace-log-correlation", "e", "a logged trace id found in Tempo", trace_log_correlation),
    Check("active-series", "f", "this cluster's active series against its budget", active_series),
)
