"""Pinned grafana.com dashboards: catalog, URL, integrity check and the rewrite for a stack."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from builders.grafana_com import (
    PREBUILT_DASHBOARDS,
    DashboardInputError,
    DashboardIntegrityError,
    PrebuiltDashboard,
    content_sha256,
    dashboards_for_stack,
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
        assert d.stacks <= {"local", "eks"} and d.stacks
        assert "dotdc/grafana-dashboards-kubernetes" in d.source
    assert len({d.gnet_id for d in PREBUILT_DASHBOARDS}) == len(PREBUILT_DASHBOARDS)


def test_dashboards_for_stack() -> None:
    assert {d.gnet_id for d in dashboards_for_stack("local")} == {15757, 15758, 15759, 15760}
    assert {d.gnet_id for d in dashboards_for_stack("eks")} == {15757, 15758, 15759, 15760}
    assert dashboards_for_stack("nope") == ()


def test_a_bad_pin_is_refused() -> None:
    with pytest.raises(ValueError, match="sha256"):
        PrebuiltDashboard(1, 1, "x", "ABC", frozenset({"local"}), "here")


def test_download_url() -> None:
    assert download_url(15757, 45) == "https://grafana.com/api/dashboards/15757/revisions/45/download"
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


# Reproduces the pins from a clone of the source project (the pins' provenance, see the module
# docstring): DOTDC_DASHBOARDS_GIT=/path/to/grafana-dashboards-kubernetes(.git). Skipped otherwise;
# tests never fetch anything.
SOURCE_FILES = {
    15757: "dashboards/k8s-views-global.json",
    15758: "dashboards/k8s-views-namespaces.json",
    15759: "dashboards/k8s-views-nodes.json",
    15760: "dashboards/k8s-views-pods.json",
}


@pytest.mark.parametrize("pin", PREBUILT_DASHBOARDS, ids=lambda d: str(d.gnet_id))
def test_pins_match_the_source_project(pin: PrebuiltDashboard) -> None:
    git_dir = os.environ.get("DOTDC_DASHBOARDS_GIT")
    if not git_dir:
        pytest.skip("DOTDC_DASHBOARDS_GIT not set")
    commit = pin.source.split("commit ")[1].split()[0]
    raw = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{commit}:{SOURCE_FILES[pin.gnet_id]}"],
        check=True,
        capture_output=True,
    ).stdout
    assert json.loads(raw)["version"] == pin.revision  # the maintainer's version == revision convention
    assert json.loads(raw)["title"] == pin.title
    assert content_sha256(raw) == pin.sha256
