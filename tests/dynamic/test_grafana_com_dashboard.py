"""The grafana.com download provider, with urllib patched: no network in tests."""

from __future__ import annotations

import base64
import gzip
import io
import json
import pickletools
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

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


def stored_model(outs: dict[str, Any] | None) -> bytes:
    """The model text as state keeps it, decoded with the standard library."""
    assert outs is not None
    return gzip.decompress(base64.b64decode(outs["model_json_gz"]))


def cached_file(home: Path) -> Path:
    return home / ".cache" / "llm-judge-observability" / "dashboards" / "15757-r45.json"


def test_create_downloads_verifies_and_caches(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeGrafanaCom())
    result = gcd.GrafanaComDashboardProvider().create(dict(PROPS))
    assert fake.urls == [URL]
    assert fake.timeouts == [gcd.TIMEOUT_SECONDS]
    assert result.id == "grafana.com-15757"
    assert result.outs is not None
    assert stored_model(result.outs) == RAW  # exactly as published
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
    assert json.loads(stored_model(result.outs))["uid"] == "test-fixture"
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
    olds = {"gnet_id": 15757.0, "revision": 45.0, "sha256": SHA, "model_json_gz": "H4sI"}
    assert provider.diff("id", olds, dict(PROPS)).changes is False
    assert provider.diff("id", olds, {**PROPS, "revision": 46.0}).changes is True
    assert provider.diff("id", olds, {**PROPS, "sha256": "f" * 64}).changes is True
    assert provider.diff("id", {**olds, "model_json_gz": None}, dict(PROPS)).changes is True
    assert provider.diff("id", {}, dict(PROPS)).changes is True
    assert fake.urls == []


def test_state_of_the_uncompressed_shape_is_rewritten_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stacks deployed before the model was compressed hold `model_json`: the first `pulumi up`
    updates them (same pin, cache or download) into the small shape; the next one is a no-op."""
    serve(monkeypatch, FakeGrafanaCom())
    provider = gcd.GrafanaComDashboardProvider()
    before = {"gnet_id": 15757.0, "revision": 45.0, "sha256": SHA, "model_json": RAW.decode()}
    assert provider.diff("id", before, dict(PROPS)).changes is True
    after = provider.update("id", before, dict(PROPS)).outs
    assert after is not None and "model_json" not in after
    assert provider.diff("id", after, dict(PROPS)).changes is False


def test_state_keeps_the_pin_and_a_compressed_model(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dashboard the size of the pinned ones (80-100 kB): its outputs, which the engine keeps in
    state, are the pin and the model compressed to a fraction of it, decoding to the exact text."""
    panel = {"type": "timeseries", "title": "CPU", "targets": [{"expr": "sum(rate(x[5m])) by (pod)"}]}
    model = json.dumps({"uid": "big", "panels": [{**panel, "id": i} for i in range(800)]}, indent=2).encode()
    assert len(model) > 80_000
    serve(monkeypatch, FakeGrafanaCom(body=model))
    outs = gcd.GrafanaComDashboardProvider().create({**PROPS, "sha256": content_sha256(model)}).outs
    assert outs is not None and set(outs) == {"gnet_id", "revision", "sha256", "model_json_gz"}
    assert len(json.dumps(outs)) < len(model) // 10
    assert stored_model(outs) == model


def test_update_fetches_the_new_pin(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeGrafanaCom())
    olds = {"gnet_id": 15757.0, "revision": 44.0, "sha256": "e" * 64, "model_json_gz": "H4sI"}
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


# What every stack deployed with this provider holds in state as the resource's `__provider` input:
# `serialize_provider(GrafanaComDashboardProvider())`, base64 of a dill pickle that names the
# provider class by module and name. The engine unpickles this stored copy, not the program's, to
# diff, refresh and delete the resource (pulumi/dynamic/__main__.py get_provider).
STORED_PROVIDER = (
    "gASVRAAAAAAAAACMHWR5bmFtaWMuZ3JhZmFuYV9jb21fZGFzaGJvYXJk"
    "lIwbR3JhZmFuYUNvbURhc2hib2FyZFByb3ZpZGVylJOUKYGULg=="
)


def test_the_provider_pickle_in_existing_state_still_loads_and_works(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails when the module or class is moved or renamed: `pulumi destroy` and `pulumi refresh` of
    every existing stack would fail the same way."""
    provider = dill.loads(base64.b64decode(STORED_PROVIDER))
    assert isinstance(provider, gcd.GrafanaComDashboardProvider)
    olds = {"gnet_id": 15757.0, "revision": 45.0, "sha256": SHA, "model_json_gz": "H4sI"}
    assert provider.diff("id", olds, dict(PROPS)).changes is False
    provider.delete("grafana.com-15757", olds)  # the default no-op: nothing to delete at grafana.com


def test_the_provider_is_stored_by_reference_under_its_fixed_name() -> None:
    """New state stays what existing state holds: the same module and class, by reference (no
    pickled code, no instance attributes)."""
    serialized = serialize_provider(gcd.GrafanaComDashboardProvider())
    strings = [arg for op, arg, _ in pickletools.genops(base64.b64decode(serialized)) if isinstance(arg, str)]
    assert strings == ["dynamic.grafana_com_dashboard", "GrafanaComDashboardProvider"]
    assert serialized == STORED_PROVIDER
