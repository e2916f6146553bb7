"""`python -m tools.verify` end to end: metrics in a real Prometheus, Loki, Tempo and the Kubernetes API
as loopback replays (tests/tools/verify/world.py). Passing and failing stacks, each check's failure,
skips, and --wait. Every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from builders.k8s_monitoring_names import COLLECTORS
from tests.tools.verify.servers import Pki, make_pki, prometheus  # noqa: F401 - module fixture
from tests.tools.verify.world import SERVICES, TRACE_ID, Telemetry, World, default_workloads, fixture
from tools.verify.checks import CHECKS

EVERY_CHECK = [check.id for check in CHECKS]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def world(tmp_path: Path, prometheus, pki: Pki):  # noqa: F811 - the module fixture
    def make(**kwargs) -> World:
        return World(tmp_path, prometheus, pki, **kwargs)

    return make


def test_a_delivering_pipeline_passes_every_check(world) -> None:
    with world() as w:
        w.write_metrics()
        run = w.run()
    assert run.code == 0, run.out + run.err
    assert run.status == dict.fromkeys(EVERY_CHECK, "PASS")
    # One line per check, each with what it ran.
    assert 'ran: Mimir: min by (app) (up{job="integrations/alloy"' in run.line("collectors-up")
    assert f"trace {TRACE_ID} of a gateway-service log line is in Tempo" in run.line("trace-log-correlation")
    # The bill: what the real Prometheus counts for this cluster (4 collectors' up + 5 services).
    assert "9 active series of this cluster, budget 10,000" in run.line("active-series")
    assert "up " in run.line("active-series") and "http_server_request_duration_seconds_count " in run.line(
        "active-series"
    )
    assert run.out.splitlines()[-1] == "9 passed, 0 failed, 0 skipped"
    # Through the cluster's API with the kubeconfig's client certificate, to the collectors' pods.
    assert "/api/v1/namespaces/llm-judge/pods/grafana-k8s-monitoring-alloy-metrics-0/log" in w.kube.paths()


def test_a_service_that_never_reported_fails_naming_it(world) -> None:
    with world() as w:
        w.write_metrics(services=tuple(s for s in SERVICES if s != "judge-service"))
        run = w.run()
    assert run.code == 1
    assert run.status["service-metrics"] == "FAIL"
    line = run.line("service-metrics")
    assert "no request metrics in the last 15m from judge-service" in line
    assert "gateway-service" not in line.split(" | ")[0]
    assert line.endswith("docs/runbooks.md#verify-service-metrics")
    assert [c for c, s in run.status.items() if s == "FAIL"] == ["service-metrics"]


def test_a_collector_down_and_one_that_never_reported(world) -> None:
    ups = {c: 1.0 for c in COLLECTORS if c != "alloy-singleton"} | {"alloy-logs": 0.0}
    with world() as w:
        w.write_metrics(collectors=ups)
        run = w.run()
    assert run.code == 1
    assert run.status["collectors-up"] == "FAIL"
    summary = run.line("collectors-up").split(" | ")[0]
    assert summary == "no `up` series for alloy-singleton; down (up=0): alloy-logs"


def test_metrics_of_another_cluster_do_not_count(world) -> None:
    with world() as other:
        other.write_metrics()
    with world() as w:  # nothing written for this cluster
        run = w.run()
    summary = {check: rest.split(" | ")[0] for check, _, rest in run.lines()}
    assert summary["collectors-up"] == f"no `up` series for {', '.join(COLLECTORS)}"
    assert summary["service-metrics"] == f"no request metrics in the last 15m from {', '.join(SERVICES)}"
    assert summary["active-series"].startswith("0 active series of this cluster")


def test_active_series_beyond_the_budget_fail_with_the_top_metrics(world) -> None:
    with world() as w:
        w.write_metrics()
        run = w.run("--series-limit", "8")
    assert run.status["active-series"] == "FAIL"
    summary = run.line("active-series").split(" | ")[0]
    assert "9 active series of this cluster, budget 8" in summary
    assert "top 10: " in summary and "http_server_request_duration_seconds_count" in summary


def test_collectors_not_ready_missing_or_failing_to_export(world) -> None:
    workloads = default_workloads()
    workloads["grafana-k8s-monitoring-alloy-logs"].ready = False
    workloads["grafana-k8s-monitoring-alloy-singleton"].exists = False
    workloads["grafana-k8s-monitoring-alloy-metrics"].log += (
        "\n" + fixture("kubernetes.json")["alloyExportError"]
    )
    with world(telemetry=Telemetry(workloads=workloads)) as w:
        w.write_metrics()
        run = w.run()
    ready = run.line("collectors-ready").split(" | ")[0]
    assert "DaemonSet grafana-k8s-monitoring-alloy-logs 0/1 ready" in ready
    assert "Deployment grafana-k8s-monitoring-alloy-singleton does not exist" in ready
    assert "alloy-receiver" not in ready
    logs = run.line("collector-logs").split(" | ")[0]
    assert "grafana-k8s-monitoring-alloy-metrics-0: 1 export error(s)" in logs
    assert "HTTP status 401 Unauthorized" in logs
    assert run.status["collectors-ready"] == run.status["collector-logs"] == "FAIL"


def test_a_workload_whose_pods_cannot_be_selected_by_labels(world) -> None:
    workloads = default_workloads()
    workloads["grafana-k8s-monitoring-alloy-receiver"].match_labels = False
    with world(telemetry=Telemetry(workloads=workloads)) as w:
        w.write_metrics()
        run = w.run()
    assert "DaemonSet grafana-k8s-monitoring-alloy-receiver has no spec.selector.matchLabels" in run.line(
        "collector-logs"
    )
    listed = [q["labelSelector"][0] for path, q, _ in w.kube.requests if path.endswith("/pods")]
    assert listed and all(selector for selector in listed)  # never an empty selector (every pod)


def test_a_service_without_logs(world) -> None:
    telemetry = Telemetry(logging_containers=set(SERVICES) - {"redis-service"})
    with world(telemetry=telemetry) as w:
        w.write_metrics()
        run = w.run()
    assert run.status["service-logs"] == "FAIL"
    assert "from container(s) redis-service" in run.line("service-logs")


def test_no_gateway_traces_and_a_broken_request_flow(world) -> None:
    with world(telemetry=Telemetry(gateway_traces=False, flow_traces=False, shared_traces=True)) as w:
        w.write_metrics()
        run = w.run()
    assert run.status["gateway-traces"] == run.status["request-flow"] == "FAIL"
    assert "no trace of gateway-service in the last 15m" in run.line("gateway-traces")
    assert "not as ancestor → descendant" in run.line("request-flow")
    queries = [q["q"][0] for path, q, _ in w.tempo.requests if path == "/tempo/api/search"]
    flow = next(q for q in queries if " >> " in q)
    assert flow.count("resource.service.name") == 3 and flow.index("gateway") < flow.index(
        "inference"
    ) < flow.index("judge")


def test_trace_ids_in_logs_that_tempo_does_not_have(world) -> None:
    with world(telemetry=Telemetry(traces_in_tempo=set())) as w:
        w.write_metrics()
        run = w.run()
    assert run.status["trace-log-correlation"] == "FAIL"
    assert "traceSampleRate 1.0" in run.line("trace-log-correlation")
    assert f"/tempo/api/traces/{TRACE_ID}" in w.tempo.paths()


def test_log_lines_without_trace_ids(world) -> None:
    with world(
        telemetry=Telemetry(log_lines=[("gateway-service", '{"level": "info", "msg": "started"}')])
    ) as w:
        w.write_metrics()
        run = w.run()
    assert "none of 1 recent log line(s) of the services carries a trace_id" in run.line(
        "trace-log-correlation"
    )


def test_features_turned_off_skip_their_checks_and_pass(world) -> None:
    features = {"appInstrumentation": False, "collectorSelfMetrics": False}
    with world(settings={"features": features}) as w:
        run = w.run()  # no metrics at all: only the skipped checks would need them
    skipped = [
        "collectors-up",
        "service-metrics",
        "service-logs",
        "gateway-traces",
        "request-flow",
        "trace-log-correlation",
    ]
    assert {c: s for c, s in run.status.items() if s == "SKIP"} == dict.fromkeys(skipped, "SKIP")
    assert "features.appInstrumentation is false" in run.line("service-metrics")
    assert run.code == 0, run.out


def test_eks_reaches_the_cluster_with_the_kubeconfig_output_and_its_exec_plugin(
    world, tmp_path: Path
) -> None:
    token = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9uPUdldENhbGxlcklkZW50aXR5"
    plugin = tmp_path / "fake-aws.py"
    plugin.write_text(
        "import json, os, sys\n"
        "assert json.loads(os.environ['KUBERNETES_EXEC_INFO'])['kind'] == 'ExecCredential'\n"
        "assert sys.argv[1:3] == ['eks', 'get-token']\n"
        f"print(json.dumps({{'kind': 'ExecCredential', 'status': {{'token': {token!r}}}}}))\n"
    )
    with world(stack="eks", kube_token=token) as w:
        kubeconfig = w.kubeconfig()
        kubeconfig["users"][0]["user"] = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": sys.executable,
                "args": [str(plugin), "eks", "get-token", "--cluster-name", w.cluster],
            }
        }
        w.extra_outputs = {"kubeconfig": kubeconfig, "clusterName": w.cluster}
        w.write_metrics()
        run = w.run()
    assert run.status["collectors-ready"] == run.status["collector-logs"] == "PASS", run.out
    assert {h["Authorization"] for _, _, h in w.kube.requests} == {f"Bearer {token}"}
    assert token not in run.out + run.err
    # Pulumi.eks.yaml starts with appInstrumentation off: the service checks wait for the services.
    assert run.status["service-metrics"] == "SKIP" and run.code == 0, run.out


def test_wait_retries_until_the_data_arrives_and_shows_progress(world) -> None:
    with world() as w:
        now = [0.0]

        def sleep(seconds: float) -> None:
            now[0] += seconds
            w.write_metrics()  # the first samples arrive while tools.verify waits

        run = w.run("--wait", "5m", "--interval", "30s", clock=lambda: now[0], sleep=sleep)
    assert run.code == 0, run.out + run.err
    progress = [line for line in run.err.splitlines() if line.startswith("waiting")]
    assert len(progress) == 1
    assert (
        "collectors-up" in progress[0]
        and "service-metrics" in progress[0]
        and "next try in 30s" in progress[0]
    )
    assert "gateway-traces" not in progress[0]  # it passed the first time and is not run again
    assert sum(path == "/tempo/api/search" for path in w.tempo.paths()) == 2  # gateway, flow: once each


def test_wait_gives_up_when_time_runs_out(world) -> None:
    with world() as w:
        now = [0.0]

        def sleep(seconds: float) -> None:
            now[0] += seconds

        run = w.run("--wait", "1m", "--interval", "25s", clock=lambda: now[0], sleep=sleep)
    assert run.code == 1
    progress = [line for line in run.err.splitlines() if line.startswith("waiting")]
    assert [p.split(",")[0] for p in progress] == [
        "waiting (0s of 1m00s",
        "waiting (25s of 1m00s",
        "waiting (50s of 1m00s",
    ]
    assert run.status["service-metrics"] == "FAIL"


def test_every_check_has_its_runbook_section() -> None:
    runbooks = (Path(__file__).resolve().parents[3] / "docs" / "runbooks.md").read_text()
    anchors = set(re.findall(r'<a id="(verify-[a-z-]+)"></a>', runbooks))
    assert anchors == {f"verify-{check.id}" for check in CHECKS}
