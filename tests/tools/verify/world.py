"""A deployed stack as tools.verify sees it, on loopback: the real Prometheus (metrics), replays of
Loki, Tempo and the Kubernetes API, a settings file, the stack outputs and a kubeconfig.

`Telemetry` is what the backends hold; the replays read it on every request, so a test can change
it while tools.verify waits. Each World has a cluster name of its own, so tests sharing one
Prometheus never see each other's series.
"""

from __future__ import annotations

import base64
import copy
import io
import itertools
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from builders.app_instrumentation import DEFAULT_SERVICES
from builders.k8s_monitoring_names import ALLOY_INTEGRATION_JOB, COLLECTORS
from tests.tools.verify.servers import Pki, Prometheus, Replay, fixture, json_answer, text_answer
from tools.program import ROOT
from tools.verify import cli

RELEASE = "grafana-k8s-monitoring"
NAMESPACE = "llm-judge"
KINDS = {
    "alloy-metrics": "StatefulSet",
    "alloy-logs": "DaemonSet",
    "alloy-receiver": "DaemonSet",
    "alloy-singleton": "Deployment",
}
PLURAL = {"StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Deployment": "deployments"}
SERVICES = tuple(s.name for s in DEFAULT_SERVICES)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"  # the id in the fixtures' log line and trace
_clusters = itertools.count(1)


def new_cluster() -> str:
    return f"verify-test-{next(_clusters)}-{secrets.token_hex(3)}"


def healthy_series(
    cluster: str, services: tuple[str, ...] = SERVICES, collectors: Mapping[str, float] | None = None
):
    """What a working pipeline has put in Mimir: `up` of each collector, request counts of each service."""
    ups = collectors if collectors is not None else {c: 1.0 for c in COLLECTORS}
    series = [
        (
            {
                "__name__": "up",
                "job": ALLOY_INTEGRATION_JOB,
                "cluster": cluster,
                "namespace": NAMESPACE,
                "app": app,
            },
            value,
        )
        for app, value in ups.items()
    ]
    series += [
        (
            {
                "__name__": "http_server_request_duration_seconds_count",
                "cluster": cluster,
                "job": f"{NAMESPACE}/{name}",
                "http_request_method": "POST",
                "http_response_status_code": "200",
            },
            17.0,
        )
        for name in services
    ]
    return series


@dataclass
class Workload:
    kind: str
    ready: bool = True
    exists: bool = True
    pods: tuple[str, ...] = ()
    log: str = ""
    match_labels: bool = True  # False: a selector of matchExpressions only


@dataclass
class Telemetry:
    """What Loki, Tempo and the cluster hold."""

    logging_containers: set[str] = field(default_factory=lambda: set(SERVICES))
    log_lines: list[tuple[str, str]] = field(default_factory=list)  # (container, line), newest first
    gateway_traces: bool = True
    flow_traces: bool = True  # a trace crossing gateway >> inference >> judge
    shared_traces: bool = True  # the three services in one trace (any relation)
    traces_in_tempo: set[str] = field(default_factory=lambda: {TRACE_ID})
    workloads: dict[str, Workload] = field(default_factory=dict)


def default_workloads(collectors=COLLECTORS) -> dict[str, Workload]:
    log = fixture("kubernetes.json")["alloyLog"]
    return {
        f"{RELEASE}-{c}": Workload(
            KINDS[c],
            pods=(f"{RELEASE}-{c}-0",) if KINDS[c] == "StatefulSet" else (f"{RELEASE}-{c}-x7k2p",),
            log=log,
        )
        for c in collectors
    }


def default_log_lines() -> list[tuple[str, str]]:
    stream = fixture("loki.json")["streams"]["data"]["result"][0]
    return [(stream["stream"]["container"], stream["values"][0][1])]


def loki_routes(telemetry: Telemetry, cluster: str) -> dict[str, Any]:
    docs = fixture("loki.json")

    def query(path: str, params: dict[str, list[str]]) -> Any:
        assert f'cluster="{cluster}"' in params["query"][0], params["query"][0]
        answer = copy.deepcopy(docs["vector"])
        template = answer["data"]["result"][0]
        answer["data"]["result"] = [
            {**template, "metric": {"container": c}} for c in sorted(telemetry.logging_containers)
        ]
        return json_answer(answer)

    def query_range(path: str, params: dict[str, list[str]]) -> Any:
        assert f'cluster="{cluster}"' in params["query"][0], params["query"][0]
        answer = copy.deepcopy(docs["streams"])
        template = answer["data"]["result"][0]
        answer["data"]["result"] = [
            {
                "stream": {**template["stream"], "cluster": cluster, "container": container},
                "values": [[str(1735689600000000000 - i), line]],
            }
            for i, (container, line) in enumerate(telemetry.log_lines)
        ]
        return json_answer(answer)

    return {"/loki/api/v1/query": query, "/loki/api/v1/query_range": query_range}


def tempo_routes(telemetry: Telemetry, cluster: str) -> tuple[dict[str, Any], dict[str, Any]]:
    docs = fixture("tempo.json")

    def search(path: str, params: dict[str, list[str]]) -> Any:
        q = params["q"][0]
        assert f'resource.k8s.cluster.name = "{cluster}"' in q, q
        assert int(params["start"][0]) < int(params["end"][0])
        if " >> " in q:
            found = telemetry.flow_traces
        elif "} && {" in q:
            found = telemetry.shared_traces
        else:
            found = telemetry.gateway_traces
        answer = copy.deepcopy(docs["search"])
        if not found:
            answer["traces"] = []
        return json_answer(answer)

    def trace(path: str, params: dict[str, list[str]]) -> Any:
        trace_id = path.rsplit("/", 1)[-1]
        if trace_id not in telemetry.traces_in_tempo:
            return 404, "text/plain", b"trace not found"
        return json_answer(docs["trace"])

    return {"/tempo/api/search": search}, {"/tempo/api/traces/": trace}


def kube_routes(telemetry: Telemetry) -> dict[str, Any]:
    docs = fixture("kubernetes.json")
    routes: dict[str, Any] = {}
    for name, workload in telemetry.workloads.items():

        def get(path: str, params: dict[str, list[str]], name: str = name) -> Any:
            workload = telemetry.workloads[name]
            if not workload.exists:
                return json_answer(
                    {**docs["NotFound"], "message": f'{PLURAL[workload.kind]}.apps "{name}" not found'}, 404
                )
            obj = copy.deepcopy(docs[workload.kind])
            obj["metadata"]["name"] = name
            obj["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] = name
            if not workload.match_labels:
                obj["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
            if not workload.ready:
                status = obj["status"]
                for key in ("readyReplicas", "numberReady", "availableReplicas", "numberAvailable"):
                    if key in status:
                        status[key] = 0
            return json_answer(obj)

        routes[f"/apis/apps/v1/namespaces/{NAMESPACE}/{PLURAL[workload.kind]}/{name}"] = get
        for pod in workload.pods:
            routes[f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/log"] = lambda path, params, name=name: _log(
                telemetry, name, params
            )

    def pods(path: str, params: dict[str, list[str]]) -> Any:
        selector = dict(pair.split("=", 1) for pair in params["labelSelector"][0].split(","))
        workload = telemetry.workloads.get(selector.get("app.kubernetes.io/instance", ""))
        listing = copy.deepcopy(docs["PodList"])
        template = listing["items"][0]
        listing["items"] = [
            {**template, "metadata": {**template["metadata"], "name": p}}
            for p in (workload.pods if workload else ())
        ]
        return json_answer(listing)

    routes[f"/api/v1/namespaces/{NAMESPACE}/pods"] = pods
    return routes


def _log(telemetry: Telemetry, name: str, params: dict[str, list[str]]) -> Any:
    assert params["container"] == ["alloy"] and int(params["sinceSeconds"][0]) > 0
    return text_answer(telemetry.workloads[name].log)


@dataclass
class World:
    """One deployed stack on loopback. `run()` runs `python -m tools.verify` in-process against it."""

    tmp: Path
    prometheus: Prometheus
    pki: Pki
    stack: str = "local"
    cluster: str = field(default_factory=new_cluster)
    token: str = field(default_factory=lambda: "glc_" + secrets.token_urlsafe(32))
    kube_token: str | None = None  # a bearer token instead of the client certificate
    telemetry: Telemetry = field(default_factory=Telemetry)
    settings: dict[str, Any] = field(default_factory=dict)  # overrides of the stack file
    extra_outputs: dict[str, Any] = field(default_factory=dict)
    loki: Replay | None = None
    tempo: Replay | None = None
    kube: Replay | None = None

    def __post_init__(self) -> None:
        if not self.telemetry.workloads:
            self.telemetry.workloads = default_workloads()
        if not self.telemetry.log_lines:
            self.telemetry.log_lines = default_log_lines()

    def basic(self, user: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{self.token}".encode()).decode()

    def __enter__(self) -> World:
        search, trace_prefix = tempo_routes(self.telemetry, self.cluster)
        self.loki = Replay(self.basic("200002"), loki_routes(self.telemetry, self.cluster)).__enter__()
        self.tempo = Replay(self.basic("300003"), search, trace_prefix).__enter__()
        kube_auth = f"Bearer {self.kube_token}" if self.kube_token else None
        self.kube = Replay(
            kube_auth,
            kube_routes(self.telemetry),
            tls=self.pki.server_context(require_client_cert=not self.kube_token),
        ).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for replay in (self.loki, self.tempo, self.kube):
            if replay is not None:
                replay.__exit__()

    def write_metrics(self, **kwargs: Any) -> None:
        self.prometheus.write(healthy_series(self.cluster, **kwargs))

    def outputs(self) -> dict[str, Any]:
        assert self.loki and self.tempo
        return {
            "namespace": NAMESPACE,
            "k8sMonitoringRelease": RELEASE,
            "prometheusRemoteWriteEndpoint": "https://prometheus-prod-placeholder.grafana.net/api/prom/push",
            "lokiPushUrl": "https://logs-prod-placeholder.grafana.net/loki/api/v1/push",
            "otlpUrl": "https://otlp-gateway-prod-placeholder.grafana.net/otlp",
            "verifyEndpoints": {
                "prometheusUrl": self.prometheus.url,
                "prometheusUserId": "100001",
                "lokiUrl": self.loki.url,
                "lokiUserId": "200002",
                "tempoUrl": self.tempo.url + "/tempo",
                "tempoUserId": "300003",
            },
            "verifyToken": self.token,
            **self.extra_outputs,
        }

    def kubeconfig(self) -> dict[str, Any]:
        assert self.kube
        user: dict[str, Any] = (
            {"token": self.kube_token}
            if self.kube_token
            else {
                "client-certificate-data": base64.b64encode(self.pki.client_cert.encode()).decode(),
                "client-key-data": base64.b64encode(self.pki.client_key.encode()).decode(),
            }
        )
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "kind-llm-judge",
                    "cluster": {
                        "server": self.kube.url,
                        "certificate-authority-data": base64.b64encode(self.pki.ca.encode()).decode(),
                    },
                }
            ],
            "users": [{"name": "kind-llm-judge", "user": user}],
            "contexts": [
                {"name": "kind-llm-judge", "context": {"cluster": "kind-llm-judge", "user": "kind-llm-judge"}}
            ],
            "current-context": "kind-llm-judge",
        }

    def files(self) -> list[str]:
        """The arguments that point tools.verify at this world."""
        document = yaml.safe_load((ROOT / f"Pulumi.{self.stack}.yaml").read_text())
        config = document["config"]
        config["llm-judge-observability:clusterName"] = self.cluster
        for key, value in self.settings.items():
            config[f"llm-judge-observability:{key}"] = value
        stack_file = self.tmp / f"Pulumi.{self.stack}.yaml"
        stack_file.write_text(yaml.safe_dump(document))
        outputs = self.tmp / "outputs.json"
        outputs.write_text(json.dumps(self.outputs()))
        args = ["--stack", self.stack, "--stack-file", str(stack_file), "--outputs", str(outputs)]
        if "kubeconfig" not in self.extra_outputs:
            kubeconfig = self.tmp / "kubeconfig"
            kubeconfig.write_text(yaml.safe_dump(self.kubeconfig()))
            args += ["--kubeconfig", str(kubeconfig)]
        return args

    def run(self, *extra: str, **kwargs: Any) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main([*self.files(), *extra], out=out, err=err, **kwargs)
        return Run(code, out.getvalue(), err.getvalue())


_LINE = re.compile(r"^(PASS|FAIL|SKIP) ([a-f]) ([a-z-]+): (.*)$")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> Iterator[tuple[str, str, str]]:
        for line in self.out.splitlines():
            match = _LINE.match(line)
            if match:
                yield match.group(3), match.group(1), match.group(4)

    @property
    def status(self) -> dict[str, str]:
        return {check: status for check, status, _ in self.lines()}

    def line(self, check: str) -> str:
        return next(rest for name, _, rest in self.lines() if name == check)
