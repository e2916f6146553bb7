"""The checks' pure parts: export-error lines, readiness, trace ids in log lines, durations."""

from __future__ import annotations

import argparse

import pytest

from tests.tools.verify.servers import fixture
from tools.verify.checks import EXPORT_ERROR, trace_ids, workload_ready
from tools.verify.cli import duration

# How Alloy's components log a failed export (the sources named in tools/verify/checks.py).
EXPORT_ERRORS = [
    fixture("kubernetes.json")["alloyExportError"],  # prometheus.remote_write, 401
    'level=error msg="final error sending batch" component_id=loki.write.grafana_cloud_logs status=403 '
    'tenant="" error="server returned HTTP status 403 Forbidden (403): access policy denied"',
    'level=warn msg="error sending batch, will retry" component_id=loki.write.grafana_cloud_logs status=429 '
    'error="server returned HTTP status 429 Too Many Requests (429): Ingestion rate limit exceeded"',
    'level=error msg="Exporting failed. Dropping data." '
    "component_id=otelcol.exporter.otlphttp.grafana_cloud_traces "
    'error="Permanent error: error exporting items, request to https://otlp-gateway.example/otlp/v1/traces '
    'responded with HTTP Status Code 401, Message=invalid token"',
    'level=warn msg="Failed to send batch, retrying" '
    "component_id=prometheus.remote_write.grafana_cloud_metrics "
    'err="Post \\"https://prometheus.example/api/prom/push\\": dial tcp 10.0.0.7:443: '
    'connect: connection refused"',
]
NOT_ERRORS = [
    fixture("kubernetes.json")["alloyLog"],
    'level=info msg="request" status=200 duration=401ms count=429',
    'level=info msg="scrape" target=http://10.0.0.9:4010/metrics samples=403',
]


@pytest.mark.parametrize("line", EXPORT_ERRORS)
def test_export_errors_are_recognised(line: str) -> None:
    assert EXPORT_ERROR.search(line)


@pytest.mark.parametrize("line", NOT_ERRORS)
def test_ordinary_lines_are_not(line: str) -> None:
    assert not EXPORT_ERROR.search(line)


def test_readiness_as_kubectl_rollout_status_judges_it() -> None:
    sts = fixture("kubernetes.json")["StatefulSet"]
    assert workload_ready("StatefulSet", sts) == (True, "1/1 ready")
    stale = {**sts, "metadata": {**sts["metadata"], "generation": 3}}  # the controller has not seen it yet
    assert workload_ready("StatefulSet", stale)[0] is False
    rolling = {**sts, "status": {**sts["status"], "updatedReplicas": 0}}
    assert workload_ready("StatefulSet", rolling) == (False, "1/1 ready, 0/1 updated")
    ds = fixture("kubernetes.json")["DaemonSet"]
    assert workload_ready("DaemonSet", ds) == (True, "1/1 ready")
    nowhere = {**ds, "status": {**ds["status"], "desiredNumberScheduled": 0, "numberReady": 0}}
    assert workload_ready("DaemonSet", nowhere) == (False, "scheduled on no node")
    deploy = fixture("kubernetes.json")["Deployment"]
    assert workload_ready("Deployment", {**deploy, "status": {"observedGeneration": 1}}) == (
        False,
        "0/1 ready, 0/1 updated",
    )


def test_trace_ids_newest_first_distinct_and_never_all_zero() -> None:
    lines = [
        ({"container": "judge-service"}, '{"msg": "done", "trace_id": "0AF7651916CD43DD8448EB211C80319C"}'),
        (
            {"container": "gateway-service"},
            "level=info trace_id=00000000000000000000000000000000 msg=startup",
        ),
        ({"container": "gateway-service"}, '{"traceId": "0af7651916cd43dd8448eb211c80319c"}'),
        # OpenTelemetry's Python logging instrumentation names it otelTraceID.
        ({"container": "inference-service"}, '{"otelTraceID": "4bf92f3577b34da6a3ce929d0e0e4736"}'),
        ({"container": "inference-service"}, '{"trace_id": "4bf92f35"}'),  # not a W3C trace id
    ]
    assert trace_ids(lines) == [
        ("0af7651916cd43dd8448eb211c80319c", "judge-service"),
        ("4bf92f3577b34da6a3ce929d0e0e4736", "inference-service"),
    ]


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600), ("1h30m", 5400)])
def test_durations(text: str, seconds: int) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10x", "m", "-5m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)
