"""The grafana.com download provider, with urllib patched: no network in tests."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pulumi
import pytest

from builders.grafana_com import DashboardIntegrityError, content_sha256
from dynamic import grafana_com_dashboard as gcd

FIXTURE = Path(__file__).parent.parent / "fixtures" / "grafana_com_dashboard.json"
RAW = FIXTURE.read_bytes()
SHA = content_sha256(RAW)
URL = "https://grafana.com/api/dashboards/15757/revisions/45/download"
# As the engine hands them to the provider: numbers arrive as floats.
PROPS: dict[str, Any] = {"gnet_id": 15757.0, "revision": 45.0, "sha256": SHA}


class FakeGrafanaCom:
    """Stands in for urllib.request.urlopen; records the URLs asked for."""

    def __init__(self, body: bytes = RAW, error: Exception | None = None) -> None:
        self.body = body
        self.error = error
        self.urls: list[str] = []
        self.timeouts: list[float] = []

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        self.urls.append(request.full_url)
        self.timeouts.append(timeout)
        if self.error is not None:
            raise self.error
        return io.BytesIO(self.body)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return tmp_path


def serve(monkeypatch: pytest.MonkeyPatch, fake: FakeGrafanaCom) -> FakeGrafanaCom:
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    return fake


def cached_file(home: Path) -> Path:
    return home / ".cache" / "llm-judge-observability" / "dashboards" / "15757-r45.json"


def test_create_downloads_verifies_and_caches(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeGrafanaCom())
    result = gcd.GrafanaComDashboardProvider().create(dict(PROPS))
    assert fake.urls == [URL]
    assert fake.timeouts == [gcd.TIMEOUT_SECONDS]
    assert result.id == "grafana.com-15757"
    assert result.outs is not None
    assert json.loads(result.outs["model_json"]) == json.loads(RAW)
    assert result.outs["gnet_id"] == 15757 and result.outs["revision"] == 45 and result.outs["sha256"] == SHA
    assert cached_file(home).read_bytes() == RAW
    assert not list(cached_file(home).parent.glob("*.part"))


def test_a_cached_revision_is_not_downloaded_again(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeGrafanaCom())
    provider = gcd.GrafanaComDashboardProvider()
    first = provider.create(dict(PROPS))
    second = provider.create(dict(PROPS))
    assert fake.urls == [URL]
    assert first.outs == second.outs


def test_xdg_cache_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    serve(monkeypatch, FakeGrafanaCom())
    gcd.GrafanaComDashboardProvider().create(dict(PROPS))
    assert (tmp_path / "xdg" / "llm-judge-observability" / "dashboards" / "15757-r45.json").exists()


def test_a_cache_file_that_no_longer_matches_is_replaced(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached_file(home).parent.mkdir(parents=True)
    cached_file(home).write_text('{"title": "tampered"}')
    fake = serve(monkeypatch, FakeGrafanaCom())
    result = gcd.GrafanaComDashboardProvider().create(dict(PROPS))
    assert fake.urls == [URL]
    assert result.outs is not None and json.loads(result.outs["model_json"])["uid"] == "test-fixture"
    assert cached_file(home).read_bytes() == RAW


def test_hash_mismatch_fails_and_caches_nothing(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = json.dumps({**json.loads(RAW), "title": "republished"}).encode()
    serve(monkeypatch, FakeGrafanaCom(body=changed))
    with pytest.raises(DashboardIntegrityError) as caught:
        gcd.GrafanaComDashboardProvider().create(dict(PROPS))
    message = str(caught.value)
    assert "15757 revision 45" in message
    assert SHA in message and content_sha256(changed) in message
    assert "update the pin" in message
    assert not cached_file(home).exists()


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (urllib.error.HTTPError(URL, 404, "Not Found", hdrs=None, fp=None), "HTTP 404 Not Found"),  # type: ignore[arg-type]
        (urllib.error.URLError("Name or service not known"), "Name or service not known"),
        (TimeoutError("timed out"), "timed out"),
    ],
)
def test_download_failure_is_one_clear_error(
    home: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, cause: str
) -> None:
    serve(monkeypatch, FakeGrafanaCom(error=error))
    with pytest.raises(gcd.GrafanaComDownloadError) as caught:
        gcd.GrafanaComDashboardProvider().create(dict(PROPS))
    message = str(caught.value)
    assert '"Kubernetes / Views / Global" (grafana.com dashboard 15757 revision 45)' in message
    assert URL in message
    assert cause in message
    assert not cached_file(home).exists()


def test_diff_compares_the_pins_without_network(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeGrafanaCom(error=AssertionError("diff must not download")))
    provider = gcd.GrafanaComDashboardProvider()
    olds = {"gnet_id": 15757.0, "revision": 45.0, "sha256": SHA, "model_json": "{}"}
    assert provider.diff("id", olds, dict(PROPS)).changes is False
    assert provider.diff("id", olds, {**PROPS, "revision": 46.0}).changes is True
    assert provider.diff("id", olds, {**PROPS, "sha256": "f" * 64}).changes is True
    assert provider.diff("id", {**olds, "model_json": None}, dict(PROPS)).changes is True
    assert provider.diff("id", {}, dict(PROPS)).changes is True
    assert fake.urls == []


def test_update_fetches_the_new_pin(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeGrafanaCom())
    olds = {"gnet_id": 15757.0, "revision": 44.0, "sha256": "e" * 64, "model_json": "{}"}
    result = gcd.GrafanaComDashboardProvider().update("id", olds, dict(PROPS))
    assert fake.urls == [URL]
    assert result.outs is not None and result.outs["revision"] == 45


def test_non_whole_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="revision"):
        gcd.Pin.from_props({**PROPS, "revision": 45.5})


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.types: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.types.append(args.typ)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def test_resource_registers_under_mocks_without_calling_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, FakeGrafanaCom(error=AssertionError("mocks must not download")))
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, preview=False)

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        resource = gcd.GrafanaComDashboard("k8s-views-global", gnet_id=15757, revision=45, sha256=SHA)

        def assert_inputs(values: list[Any]) -> None:
            assert values == [15757, 45, SHA]
            assert mocks.types == ["pulumi-python:dynamic/llmjudge:GrafanaComDashboard"]

        return pulumi.Output.all(resource.gnet_id, resource.revision, resource.sha256).apply(assert_inputs)

    check()


def test_resource_refuses_a_bad_pin_in_the_program() -> None:
    with pytest.raises(ValueError, match="revision"):
        gcd.GrafanaComDashboard("bad", gnet_id=15757, revision=0, sha256=SHA)
