"""The credentials Secret has exactly the key names the README documents, on both stacks.

Service teams and the collectors read these names; renaming one breaks them silently. The names
are taken from the README (the promise), the keys from what each stack really declares.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.mocks import unwrap
from tools.program import run_to_completion, stack_file_config

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_keys() -> list[str]:
    text = " ".join(README.read_text().split())
    match = re.search(r"The Secret `grafana-cloud-credentials` has the keys (.*?) — one definition", text)
    assert match, "the README names the Secret's keys"
    return re.findall(r"`([A-Z0-9_]+)`", match.group(1))


def test_the_readme_names_the_eight_keys():
    assert documented_keys() == [
        "GRAFANA_CLOUD_INSTANCE_ID",
        "GRAFANA_CLOUD_API_KEY",
        "GRAFANA_CLOUD_OTLP_ENDPOINT",
        "GRAFANA_CLOUD_PROMETHEUS_ENDPOINT",
        "GRAFANA_CLOUD_PROMETHEUS_USER",
        "GRAFANA_CLOUD_LOKI_ENDPOINT",
        "GRAFANA_CLOUD_LOKI_USER",
        "GRAFANA_CLOUD_OPENCOST_API_KEY",  # with features.costMetrics (on in both stack files)
    ]


def test_local_secret_has_the_documented_keys():
    run = run_to_completion("local", *stack_file_config("local"))
    (secret,) = [r for r in run.monitor.registrations if r.type == "kubernetes:core/v1:Secret"]
    assert secret.inputs["metadata"]["name"] == "grafana-cloud-credentials"
    assert sorted(unwrap(secret.inputs["stringData"])) == sorted(documented_keys())
    _collectors_read_documented_keys(run)


def test_eks_external_secret_writes_the_documented_keys():
    run = run_to_completion("eks", *stack_file_config("eks"))
    (external,) = [r for r in run.monitor.registrations if r.type.endswith(":ExternalSecret")]
    assert external.inputs["spec"]["target"]["name"] == "grafana-cloud-credentials"
    assert sorted(d["secretKey"] for d in external.inputs["spec"]["data"]) == sorted(documented_keys())
    (version,) = [r for r in run.monitor.registrations if r.type.endswith(":SecretVersion")]
    assert sorted(json.loads(unwrap(version.inputs["secretString"]))) == sorted(documented_keys())
    _collectors_read_documented_keys(run)


def _collectors_read_documented_keys(run) -> None:
    """Every `*Key` / `*_key` the k8s-monitoring values point into the Secret is a documented key."""
    (release,) = [
        r
        for r in run.monitor.registrations
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs.get("chart") == "k8s-monitoring"
    ]
    referenced: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if re.fullmatch(r"(username|password)(Key|_key)", key) and isinstance(value, str):
                    referenced.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(release.inputs["values"])
    assert referenced and referenced <= set(documented_keys())
