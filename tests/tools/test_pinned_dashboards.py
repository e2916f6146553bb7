"""tools.pinned_dashboards: the CI download of the pinned dashboards (the fetch itself is stubbed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders.grafana_com import PREBUILT_DASHBOARDS, DashboardIntegrityError
from tools import pinned_dashboards


def test_writes_each_pin_where_the_tests_read_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched = []

    def fetch(pin):  # what dynamic.grafana_com_dashboard returns: the verified JSON text
        fetched.append(pin)
        return json.dumps({"gnet": pin.gnet_id})

    monkeypatch.setattr(pinned_dashboards, "fetch_model_json", fetch)
    assert pinned_dashboards.main(["--out", str(tmp_path)]) == 0
    assert [(p.gnet_id, p.revision, p.sha256) for p in fetched] == [
        (d.gnet_id, d.revision, d.sha256) for d in PREBUILT_DASHBOARDS
    ]
    for pinned in PREBUILT_DASHBOARDS:
        (path,) = tmp_path.glob(f"{pinned.gnet_id}-*.json")  # tests.support.pinned_dashboard's pattern
        assert json.loads(path.read_text()) == {"gnet": pinned.gnet_id}
    assert (tmp_path / "15759-kubernetes-views-nodes.json").is_file()


def test_a_hash_mismatch_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fetch(pin):
        raise DashboardIntegrityError("content sha256 is x, the pin expects y")

    monkeypatch.setattr(pinned_dashboards, "fetch_model_json", fetch)
    assert pinned_dashboards.main(["--out", str(tmp_path)]) == 1


def test_refuses_to_write_into_the_work_tree() -> None:
    assert pinned_dashboards.main(["--out", str(pinned_dashboards.REPO_ROOT / "dashboards")]) == 2
