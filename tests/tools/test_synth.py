"""The offline synth as a reviewer uses it: files written, secrets hidden, bad config refused."""

from __future__ import annotations

import json

import yaml

from builders.credentials import KEYS
from builders.k8s_monitoring import node_requests
from tools import synth
from tools.chart_check import check_values
from tools.mocks import PLACEHOLDER_STACK, Registration
from tools.program import PLACEHOLDER_SECRET, ROOT

PLACEHOLDER_TOKEN = "glc_placeholder-token-offline-synth"


def test_local_synth_lists_policy_token_and_secret_with_secrets_hidden(tmp_path, capsys):
    assert synth.main(["--stack", "local", "--out", str(tmp_path)]) == 0
    records = json.loads((tmp_path / "resources.json").read_text())
    assert all(set(r) == {"type", "name", "parent", "provider", "dependsOn", "inputs"} for r in records)
    by_type = {r["type"]: r for r in records if r["parent"] != "verify"}  # the collectors' policy and token
    providers = {r["name"]: r for r in records if r["type"] == "pulumi:providers:grafana"}

    assert by_type["grafana:cloud/accessPolicy:AccessPolicy"]["parent"] == "grafana-cloud"
    token = by_type["grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken"]
    assert token["inputs"]["expireAfter"] == "2160h"
    secret = by_type["kubernetes:core/v1:Secret"]
    assert secret["inputs"]["stringData"] == {key: "[secret]" for key in (*KEYS.all(), KEYS.opencost_token)}
    assert providers["grafana-cloud"]["inputs"]["cloudAccessPolicyToken"] == "[secret]"
    assert providers["grafana-stack"]["inputs"]["auth"] == "[secret]"

    written = "".join(p.read_text() for p in tmp_path.iterdir())
    assert PLACEHOLDER_TOKEN not in written
    assert PLACEHOLDER_SECRET not in written
    assert "glsa_placeholder" not in written

    out = capsys.readouterr().out
    assert "GrafanaCloudStack grafana-cloud" in out
    assert "synthesized in" in out


def test_placeholders_are_declared_as_such(tmp_path):
    synth.main(["--stack", "local", "--out", str(tmp_path)])
    placeholders = json.loads((tmp_path / "placeholders.json").read_text())
    assert "placeholders" in placeholders["note"]
    answers = {lookup["invoke"]: lookup["answer"] for lookup in placeholders["lookups"]}
    assert answers["grafana:cloud/getStack:getStack"]["id"] == PLACEHOLDER_STACK["id"]
    assert all("placeholder" in json.dumps(answer) for answer in answers.values())


def test_misspelt_key_fails_with_the_programs_one_message(tmp_path, capsys):
    stack_file = tmp_path / "Pulumi.local.yaml"
    original = (ROOT / "Pulumi.local.yaml").read_text()
    stack_file.write_text(original.replace("traceSampleRate:", "traceSampelRate:"))
    code = synth.main(["--stack", "local", "--out", str(tmp_path / "out"), "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert code == 2
    assert "llm-judge-observability:traceSampelRate is not a setting" in err
    assert "did you mean traceSampleRate?" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "resources.json").exists()


def test_local_synth_writes_helm_values_that_pass_the_chart_checks(tmp_path, capsys):
    assert synth.main(["--stack", "local", "--out", str(tmp_path)]) == 0
    values = yaml.safe_load((tmp_path / "k8s-monitoring-values.yaml").read_text())
    assert check_values(values) == []
    assert values["applicationObservability"]["receivers"]["otlp"]["grpc"]["port"] == 4317  # an int again
    cpu, memory = node_requests(values)
    assert cpu <= 1000 and memory <= 2 * 2**30  # local: at most 1 CPU and 2 GiB
    assert f"requests on one node: {cpu}m CPU, {memory // 2**20} MiB" in capsys.readouterr().out


def test_synth_prints_the_series_bill(tmp_path, capsys):
    assert synth.main(["--stack", "eks", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    bill = out[out.index("series bill") :]
    node_exporter = _source_entry(bill, "node_exporter")
    assert "node_uname_info" in node_exporter.split("more kept by")[0]  # queried by the Nodes dashboard
    assert "container_fs_reads_total" in bill  # kept by cAdvisor's allow list, queried by nothing
    assert "aws_sqs_approximate_number_of_messages_visible_maximum" in bill  # eks: the queue panels, alert
    assert "apiserver" not in bill  # features.apiServerMetrics is off in Pulumi.eks.yaml
    otlp = _source_entry(bill, "otlp")
    assert "but http.server.request.body.size, http.server.response.body.size (dropped" in otlp
    assert "produced by nothing deployed: kube_endpoint_info, kube_hpa_labels" in bill


def _source_entry(bill: str, source: str) -> str:
    """One source's lines of the bill (its line and the wrapped, deeper-indented ones below it)."""
    lines = bill.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {source}:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("   ")), len(lines))
    return "\n".join(lines[start:end])


def test_synth_bill_without_the_chart_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("K8S_MONITORING_CHART", str(tmp_path / "absent.tgz"))
    assert synth.main(["--stack", "local", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "allow lists unknown" in out and "more kept by the allow list" not in out
    assert "node_uname_info" in out  # what the dashboards query needs no chart


def _registration(urn: str, parent: str = "", dependencies: tuple[str, ...] = ()) -> Registration:
    return Registration(
        urn=urn,
        type=urn.split("::")[-2],
        name=urn.split("::")[-1],
        parent_urn=parent,
        provider_ref="",
        custom=not urn.startswith("urn:c"),
        retain_on_delete=False,
        dependencies=list(dependencies),
        inputs={},
    )


def test_depends_on_includes_what_every_enclosing_component_waits_for():
    # The SDK registers a child only after its parent's URN resolves, and the parent only after its
    # own depends_on: the namespace inside AppNamespace waits for the preflight AppNamespace was given.
    gate = _registration("urn:x::dyn:Preflight::gate")
    outer = _registration("urn:c::my:Outer::outer", dependencies=(gate.urn,))
    inner = _registration("urn:c::my:Inner::inner", parent=outer.urn)
    other = _registration("urn:x::k8s:Secret::other")
    child = _registration("urn:x::k8s:Namespace::ns", parent=inner.urn, dependencies=(other.urn,))
    registrations = [gate, outer, inner, other, child]
    assert synth.depends_on(child, registrations) == ["dyn:Preflight::gate", "k8s:Secret::other"]
    assert synth.depends_on(other, registrations) == []
