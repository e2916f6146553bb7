"""tools.verify runs on requirements.txt alone: the deploy workflow runs it in the program's
virtualenv, which holds nothing else (no requests, no dev tools); its Kubernetes client is the
program's own standard-library one (clients/kube.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_runtime_imports import (
    RUNTIME_DISTRIBUTIONS,
    _modules_of,
    import_closure,
    run_without_dev_packages,
)
from tools.program import ROOT


def test_verify_imports_only_what_requirements_txt_installs() -> None:
    local, third_party = import_closure(ROOT / "tools" / "verify" / "__main__.py")
    assert "clients.kube" in local and "builders.k8s_monitoring" in local  # the closure is real
    assert sorted(third_party - _modules_of(RUNTIME_DISTRIBUTIONS)) == []
    assert not {m for m in local if m.split(".")[0] in ("tests", "policy")}


def test_verify_runs_with_every_dev_only_package_unimportable(tmp_path: Path) -> None:
    endpoints = {
        "prometheusUrl": "http://127.0.0.1:9",
        "lokiUrl": "http://127.0.0.1:9",
        "tempoUrl": "http://127.0.0.1:9",
    }
    outputs = {
        "namespace": "llm-judge",
        "k8sMonitoringRelease": "grafana-k8s-monitoring",
        "prometheusRemoteWriteEndpoint": "https://p.example/api/prom/push",
        "lokiPushUrl": "https://l.example/loki/api/v1/push",
        "otlpUrl": "https://o.example/otlp",
        "verifyEndpoints": {**endpoints, "prometheusUserId": "1", "lokiUserId": "2", "tempoUserId": "3"},
        "verifyToken": "glc_not-a-real-token-at-all",
    }
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    args = [
        "--stack",
        "local",
        "--outputs",
        str(tmp_path / "outputs.json"),
        "--kubeconfig",
        str(tmp_path / "none"),
    ]
    result = run_without_dev_packages("tools.verify", args, timeout=120)
    # Every check ran (and failed: nothing listens on port 9), none crashed on an import.
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "0 passed, 9 failed, 0 skipped", result.stdout
    assert "ModuleNotFoundError" not in result.stdout + result.stderr
