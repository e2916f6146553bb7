"""tools.chart_data: the chart_check layout from a chart .tgz or directory (a small fake chart here)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from tools import chart_check, chart_data

CHART = {
    "apiVersion": "v2",
    "name": "k8s-monitoring",
    "version": "4.4.0",
    "dependencies": [
        {"alias": "clusterMetrics", "name": "feature-cluster-metrics", "repository": "", "version": "1.0.0"},
        {"alias": "telemetryServices", "name": "telemetry-services", "version": "1.0.0"},
        {"name": "alloy-operator", "version": "0.6.3", "repository": "https://grafana.github.io/helm-charts"},
    ],
}
SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}


def _tgz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _chart_files() -> dict[str, bytes]:
    schema = json.dumps(SCHEMA).encode()
    operator = _tgz(
        {"alloy-operator/Chart.yaml": b"name: alloy-operator\n", "alloy-operator/values.schema.json": schema}
    )
    return {
        "k8s-monitoring/Chart.yaml": yaml.safe_dump(CHART).encode(),
        "k8s-monitoring/values.yaml": b"cluster:\n  name: ''\nclusterMetrics:\n  enabled: false\n",
        "k8s-monitoring/values.schema.json": schema,
        "k8s-monitoring/templates/x.yaml": b"kind: ConfigMap\n",
        "k8s-monitoring/charts/feature-cluster-metrics/values.yaml": b"enabled: false\n",
        "k8s-monitoring/charts/feature-cluster-metrics/values.schema.json": schema,
        "k8s-monitoring/charts/feature-cluster-metrics/default-allow-lists/cadvisor.yaml": b"- up\n",
        "k8s-monitoring/charts/telemetry-services-1.0.0.tgz": _tgz(
            {
                "telemetry-services/Chart.yaml": b"name: telemetry-services\n",
                "telemetry-services/values.yaml": b"kube-state-metrics:\n  deploy: false\n",
                "telemetry-services/values.schema.json": schema,
            }
        ),
        "k8s-monitoring/charts/alloy-operator-0.6.3.tgz": operator,
    }


EXPECTED = [
    "Chart.yaml",
    "allowLists/cadvisor.yaml",
    "subcharts/feature-cluster-metrics/values.schema.json",
    "subcharts/feature-cluster-metrics/values.yaml",
    "subcharts/telemetry-services/values.schema.json",
    "subcharts/telemetry-services/values.yaml",
    "values.schema.json",
    "values.yaml",
]


def test_extracts_the_layout_from_a_tgz(tmp_path: Path) -> None:
    source = tmp_path / "k8s-monitoring-4.4.0.tgz"
    source.write_bytes(_tgz(_chart_files()))
    out = tmp_path / "data"
    assert chart_data.extract(source, out, expect_version="4.4.0") == EXPECTED
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == EXPECTED  # no templates, no remote alloy-operator
    data = chart_check.load_chart_data(out)
    assert set(data.subchart_schemas) == {"clusterMetrics", "telemetryServices"}
    assert data.defaults["telemetryServices"]["kube-state-metrics"] == {"deploy": False}


def test_extracts_the_layout_from_a_directory(tmp_path: Path) -> None:
    for name, data in _chart_files().items():
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_bytes(data)
    for source in (tmp_path / "src", tmp_path / "src" / "k8s-monitoring"):
        out = tmp_path / f"out-{source.name}"
        assert chart_data.extract(source, out) == EXPECTED


def test_refuses_a_wrong_version_and_a_non_chart(tmp_path: Path) -> None:
    source = tmp_path / "chart.tgz"
    source.write_bytes(_tgz(_chart_files()))
    with pytest.raises(chart_data.ChartError, match=r"expected 4\.5\.0"):
        chart_data.extract(source, tmp_path / "out", expect_version="4.5.0")
    (tmp_path / "empty.tgz").write_bytes(_tgz({"README.md": b"no chart"}))
    assert chart_data.main([str(tmp_path / "empty.tgz"), "--out", str(tmp_path / "o")]) == 2


def test_refuses_to_write_into_the_repository(tmp_path: Path) -> None:
    source = tmp_path / "chart.tgz"
    source.write_bytes(_tgz(_chart_files()))
    inside = chart_data.REPO_ROOT / "synth-out" / "chart-data"
    assert chart_data.main([str(source), "--out", str(inside)]) == 2
    assert not inside.exists()


def test_allow_lists_from_the_packaged_chart_are_the_datas_and_the_alloy_integrations() -> None:
    from tests.support import chart_path
    from tools.chart_check import data_dir
    from tools.chart_data import allow_lists
    from tools.metric_catalog import ALLOY_INTEGRATION_ALLOW_LIST, allow_list

    lists = allow_lists(chart_path())
    names = {p.stem for p in (data_dir() / "allowLists").glob("*.yaml")}
    assert set(lists) == names | {"alloy"}
    assert all(lists[name] == allow_list(name) for name in names)
    assert lists["alloy"] == ALLOY_INTEGRATION_ALLOW_LIST
