"""Pinned grafana.com dashboards: catalog, URL, integrity check and the rewrite for a stack."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from builders.grafana_com import (
    PREBUILT_DASHBOARDS,
    DashboardInputError,
    DashboardIntegrityError,
    PrebuiltDashboard,
    content_sha256,
    dashboards_for_platform,
    download_url,
    prepare_for_stack,
    verify,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "grafana_com_dashboard.json"


def fixture_bytes() -> bytes:
    return FIXTURE.read_bytes()


def fixture_model() -> dict[str, Any]:
    model: dict[str, Any] = json.loads(fixture_bytes())
    return model


def test_catalog_ids_and_titles_as_corrected_in_design() -> None:
    titles = {d.gnet_id: d.title for d in PREBUILT_DASHBOARDS}
    assert titles == {
        15757: "Kubernetes / Views / Global",
        15758: "Kubernetes / Views / Namespaces",
        15759: "Kubernetes / Views / Nodes",
        15760: "Kubernetes / Views / Pods",
    }
    assert 16686 not in titles  # Jaeger's port, no dashboard


def test_catalog_entries_are_pinned() -> None:
    for d in PREBUILT_DASHBOARDS:
        assert d.revision >= 1
        assert len(d.sha256) == 64
        assert d.platforms <= {"local", "eks"} and d.platforms
        assert "dotdc/grafana-dashboards-kubernetes" in d.source
    assert len({d.gnet_id for d in PREBUILT_DASHBOARDS}) == len(PREBUILT_DASHBOARDS)


def test_dashboards_for_platform() -> None:
    assert {d.gnet_id for d in dashboards_for_platform("local")} == {15757, 15758, 15759, 15760}
    assert {d.gnet_id for d in dashboards_for_platform("eks")} == {15757, 15758, 15759, 15760}
    assert dashboards_for_platform("nope") == ()


def test_a_bad_pin_is_refused() -> None:
    with pytest.raises(ValueError, match="sha256"):
        PrebuiltDashboard(1, 1, "x", "ABC", frozenset({"local"}), "here")


def test_download_url() -> None:
    assert download_url(15757, 45) == "https://grafana.com/api/dashboards/15757/revisions/45/download"
    assert download_url(1, 1) == "https://grafana.com/api/dashboards/1/revisions/1/download"
    for bad in ((0, 1), (15757, 0), (True, 1), ("15757", 1)):
        with pytest.raises(ValueError):
            download_url(*bad)  # type: ignore[arg-type]


def test_content_hash_ignores_formatting_but_not_content() -> None:
    model = fixture_model()
    raw = fixture_bytes()
    compact = json.dumps(model, separators=(",", ":")).encode()
    reordered = json.dumps(dict(reversed(list(model.items()))), indent=4).encode()
    assert content_sha256(raw) == content_sha256(compact) == content_sha256(reordered)
    changed = json.dumps({**model, "title": "something else"}).encode()
    assert content_sha256(changed) != content_sha256(raw)
    with pytest.raises(ValueError, match="not a JSON document"):
        content_sha256(b"<html>rate limited</html>")


def test_verify_passes_on_the_pinned_content() -> None:
    verify(fixture_bytes(), content_sha256(fixture_bytes()), 15757, 45)


def test_verify_failure_names_dashboard_hashes_and_next_step() -> None:
    raw = fixture_bytes()
    actual = content_sha256(raw)
    expected = "0" * 64
    with pytest.raises(DashboardIntegrityError) as caught:
        verify(raw, expected, 15757, 45)
    message = str(caught.value)
    assert '"Kubernetes / Views / Global" (grafana.com dashboard 15757 revision 45)' in message
    assert actual in message and expected in message
    assert "https://grafana.com/api/dashboards/15757/revisions/45/download" in message
    assert "Review" in message and "update the pin" in message
    assert "PREBUILT_DASHBOARDS" in message


def test_verify_failure_on_non_json() -> None:
    with pytest.raises(DashboardIntegrityError, match=r"15760 revision 39.*not a JSON document"):
        verify(b"", "0" * 64, 15760, 39)


def test_prepare_for_stack_replaces_every_input_reference() -> None:
    raw_text = fixture_bytes().decode()
    assert raw_text.count("${DS_PROMETHEUS}") == 5  # the fixture exercises them
    prepared = prepare_for_stack(fixture_model(), {"DS_PROMETHEUS": "grafanacloud-prom"})
    text = json.dumps(prepared)
    assert "DS_PROMETHEUS" not in text
    assert "${" not in text
    assert prepared["panels"][0]["datasource"] == {"type": "prometheus", "uid": "grafanacloud-prom"}
    assert prepared["panels"][0]["targets"][0]["datasource"]["uid"] == "grafanacloud-prom"
    assert prepared["panels"][0]["title"] == "Up on grafanacloud-prom"
    assert prepared["panels"][1]["panels"][0]["datasource"]["uid"] == "grafanacloud-prom"
    assert prepared["templating"]["list"][0]["datasource"]["uid"] == "grafanacloud-prom"
    # Dashboard variables are not import inputs and stay.
    assert "$cluster" in prepared["panels"][0]["targets"][0]["expr"]


def test_prepare_for_stack_drops_import_metadata_and_keeps_the_rest() -> None:
    model = fixture_model()
    prepared = prepare_for_stack(model, {"DS_PROMETHEUS": "u"})
    for key in ("__inputs", "__requires", "id"):
        assert key not in prepared
    assert prepared["uid"] == "test-fixture"
    assert prepared["title"] == model["title"]
    assert "__inputs" in model  # the argument is untouched


def test_prepare_for_stack_accepts_the_plugin_id_as_key() -> None:
    prepared = prepare_for_stack(fixture_model(), {"prometheus": "by-plugin"})
    assert prepared["panels"][0]["datasource"]["uid"] == "by-plugin"


def test_prepare_for_stack_errors_on_a_missing_input() -> None:
    with pytest.raises(
        DashboardInputError, match=r"needs data source input 'DS_PROMETHEUS'.*have: \['loki'\]"
    ):
        prepare_for_stack(fixture_model(), {"loki": "logs"})


def test_prepare_for_stack_errors_on_an_undeclared_reference() -> None:
    model = fixture_model()
    model["panels"][0]["datasource"]["uid"] = "${DS_LOKI}"
    with pytest.raises(DashboardInputError, match=r"\$\{DS_LOKI\}.*do not declare"):
        prepare_for_stack(model, {"DS_PROMETHEUS": "u", "DS_LOKI": "l"})


def test_prepare_for_stack_errors_on_a_non_datasource_input() -> None:
    model = fixture_model()
    model["__inputs"].append({"name": "VAR_CLUSTER", "type": "constant", "value": "x"})
    with pytest.raises(DashboardInputError, match=r"VAR_CLUSTER.*constant"):
        prepare_for_stack(model, {"DS_PROMETHEUS": "u"})


# The pinned revisions themselves, as test data: ../shared/dashboards/ holds each dashboard at the
# commit its pin names (README there), or PINNED_DASHBOARDS=<dir> names another copy. Skipped only
# where neither exists; a PINNED_DASHBOARDS that does not exist fails.
PINNED_ENV = "PINNED_DASHBOARDS"
SHARED_DASHBOARDS = Path(__file__).resolve().parents[2].parent / "shared" / "dashboards"


def pinned_dashboards() -> Path:
    configured = os.environ.get(PINNED_ENV)
    if configured:
        if not Path(configured).is_dir():
            pytest.fail(f"{PINNED_ENV}={configured} does not exist")
        return Path(configured)
    if not SHARED_DASHBOARDS.is_dir():
        pytest.skip(f"no pinned dashboards: {SHARED_DASHBOARDS} is absent and {PINNED_ENV} is not set")
    return SHARED_DASHBOARDS


@pytest.mark.parametrize("pin", PREBUILT_DASHBOARDS, ids=lambda d: str(d.gnet_id))
def test_pins_match_the_pinned_dashboards(pin: PrebuiltDashboard) -> None:
    directory = pinned_dashboards()
    (path,) = directory.glob(f"{pin.gnet_id}-*.json")
    raw = path.read_bytes()
    model = json.loads(raw)
    assert model["version"] == pin.revision  # the maintainer's version == revision convention
    assert model["title"] == pin.title
    assert content_sha256(raw) == pin.sha256
    # The README beside them names the commit each was taken from: the one the pin cites.
    commit = pin.source.split("commit ")[1].split()[0]
    rows = [
        line for line in (directory / "README.md").read_text().splitlines() if f"| {pin.gnet_id} |" in line
    ]
    assert len(rows) == 1 and f"| {pin.revision} | {commit} |" in rows[0]


def test_the_pinned_dashboards_path_is_not_silently_ignored(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(PINNED_ENV, str(tmp_path / "missing"))
    with pytest.raises(pytest.fail.Exception, match="does not exist"):
        pinned_dashboards()
