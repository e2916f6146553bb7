"""What the preflight decides about objects already in the namespace (pure)."""

from __future__ import annotations

import base64
import gzip
import json

from builders.preflight import (
    HelmRevision,
    SecretSeen,
    decode_release,
    handover_message,
    handovers,
)

NS = "llm-judge"
RELEASE = "grafana-k8s-monitoring"


def storage_secret(record: dict, compress: bool = True) -> dict:
    """A Helm storage Secret as the API returns it, built as Helm's encodeRelease writes it:
    JSON, gzip, base64; the API server then base64-encodes the Secret's data once more."""
    raw = json.dumps(record).encode()
    helm_text = base64.b64encode(gzip.compress(raw) if compress else raw)
    return {
        "metadata": {
            "name": f"sh.helm.release.v1.{RELEASE}.v{record['version']}",
            "labels": {"owner": "helm"},
        },
        "data": {"release": base64.b64encode(helm_text).decode()},
    }


def revision(chart: str, version: str, number: int = 1, status: str = "deployed") -> HelmRevision:
    return HelmRevision(RELEASE, number, status, chart, version)


def secret(labels: dict | None = None, owners: tuple[str, ...] = ()) -> SecretSeen:
    return SecretSeen("grafana-cloud-credentials", labels or {}, owners, ("GRAFANA_CLOUD_API_KEY",))


def test_a_storage_secret_decodes_to_its_chart_revision_and_status():
    record = {
        "name": RELEASE,
        "version": 3,
        "info": {"status": "failed"},
        "chart": {"metadata": {"name": "k8s-monitoring", "version": "1.6.54"}},
    }
    decoded = HelmRevision.from_storage_secret(storage_secret(record))
    assert decoded == revision("k8s-monitoring", "1.6.54", 3, "failed")
    # Helm reads uncompressed records too (pkg/storage/driver/util.go decodeRelease).
    assert decode_release(storage_secret(record, compress=False)["data"]["release"]) == record


def test_only_chart_k8s_monitoring_of_major_4_counts_as_the_programs_release():
    assert revision("k8s-monitoring", "4.4.0").installed_by_program
    assert revision("k8s-monitoring", "4.10.2").installed_by_program
    for chart, version in [("k8s-monitoring", "1.6.54"), ("k8s-monitoring", "3.5.7"), ("alloy", "4.0.0")]:
        assert not revision(chart, version).installed_by_program, (chart, version)


def test_the_latest_revision_decides():
    history = [revision("k8s-monitoring", "4.4.0", 2), revision("k8s-monitoring", "1.6.54", 1)]
    assert handovers(NS, None, RELEASE, history) == []
    history = [revision("k8s-monitoring", "4.4.0", 1), revision("k8s-monitoring", "3.0.0", 2)]
    (found,) = handovers(NS, None, RELEASE, history)
    chart = "chart k8s-monitoring-3.0.0, revision 2, status deployed"
    assert found.what == f"Helm release {NS}/{RELEASE} ({chart})"


def test_a_secret_written_by_the_program_or_its_external_secret_passes():
    assert handovers(NS, secret({"app.kubernetes.io/managed-by": "pulumi"}), RELEASE, []) == []
    assert handovers(NS, secret(owners=("ExternalSecret",)), RELEASE, []) == []
    (found,) = handovers(NS, secret({"app.kubernetes.io/managed-by": "Helm"}), RELEASE, [])
    assert found.commands[-1] == f"kubectl delete secret grafana-cloud-credentials -n {NS}"


def test_one_message_names_every_object_with_its_commands():
    found = handovers(NS, secret(), RELEASE, [revision("k8s-monitoring", "1.6.54")])
    message = handover_message(NS, found)
    lines = message.splitlines()
    assert lines[0].startswith(f"namespace {NS} holds objects under this program's names that it did not")
    assert "Nothing was changed" in lines[0]
    expected_commands = [
        f"    helm get values {RELEASE} -n {NS} > {RELEASE}-1.6.54-values.yaml",
        f"    helm get manifest {RELEASE} -n {NS}    # exactly what the uninstall removes",
        f"    helm uninstall {RELEASE} -n {NS}",
        f"    kubectl get secret grafana-cloud-credentials -n {NS} -o yaml"
        " > grafana-cloud-credentials-manual.yaml",
        f"    kubectl delete secret grafana-cloud-credentials -n {NS}",
    ]
    assert [line for line in lines if line.startswith("    ")] == expected_commands
    assert lines[-1] == 'See README.md, "Coming from the manual install".'


def test_the_secret_as_the_api_returns_it():
    """The fields `written_by_program` reads, from a Secret object as the API returns it: the
    ExternalSecret that owns it (the eks stack's own Secret), the keys of `data`."""
    owned = {
        "metadata": {
            "name": "grafana-cloud-credentials",
            "ownerReferences": [
                {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": "x", "uid": "1"}
            ],
        },
        "data": {"GRAFANA_CLOUD_API_KEY": "c2VjcmV0", "A": "Yg=="},
    }
    seen = SecretSeen.from_object(owned)
    assert (seen.name, seen.owner_kinds, seen.keys) == (
        "grafana-cloud-credentials",
        ("ExternalSecret",),
        ("A", "GRAFANA_CLOUD_API_KEY"),
    )
    assert seen.written_by_program
    labelled = {"metadata": {"name": "s", "labels": {"app.kubernetes.io/managed-by": "pulumi"}}, "data": {}}
    assert SecretSeen.from_object(labelled).written_by_program
    assert not SecretSeen.from_object({"metadata": {"name": "s"}, "data": {}}).written_by_program


def test_each_handover_says_what_it_costs():
    """The consequence of each command, before the user runs it: what the uninstall removes, that
    the old API key stays valid until revoked."""
    found = handovers(NS, secret(), RELEASE, [revision("k8s-monitoring", "1.6.54")])
    message = handover_message(NS, found)
    assert "  The uninstall removes every object of that manifest" in message
    assert "  The program then writes its own. The API key in the old Secret stays valid" in message
