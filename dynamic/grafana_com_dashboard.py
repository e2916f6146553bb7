"""Deploy-time download of a pinned grafana.com dashboard revision, as a Pulumi dynamic resource.

Why a dynamic resource: the download must happen on `pulumi up` only. Tests and the offline
synth run the program under Pulumi's mocks, where a dynamic resource is registered like any
other and its provider is never called, so nothing here touches the network there. The
provider runs in a separate process that unpickles it and imports what it references
(https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/), hence this module
imports only the standard library, Pulumi and the pure builders, and does nothing at import.

`create`/`update` fetch the pinned revision, check its hash and return the text, gzip-compressed
and base64-encoded, as `model_json_gz`; `diff` compares the pins only (no network during preview).
Downloads are cached in `$XDG_CACHE_HOME` (default `~/.cache`)
`/llm-judge-observability/dashboards/<id>-r<rev>.json` and a cached file is used only while its
hash still matches the pin.

What the state keeps: the pin (all `diff` needs; `delete` is the default no-op) and the model,
compressed. The model must be there: `components/dashboards.py` builds the grafana.oss.Dashboard's
`config_json` from it on every run, and on a run where the pin is unchanged the engine calls no
provider method and hands the program this resource's outputs from state. Compressed, the four
pinned dashboards take about 30 kB of state instead of 340 kB.

DO NOT MOVE OR RENAME this module or `GrafanaComDashboardProvider`. The engine stores the provider
in every stack's state as a pickle (input `__provider`, pulumi/dynamic/dynamic.py
serialize_provider: dill, class by reference) that names `dynamic.grafana_com_dashboard` and
`GrafanaComDashboardProvider`, and unpickles that stored copy to diff, refresh and delete the
resource (pulumi/dynamic/__main__.py get_provider). Moved, every existing stack's `pulumi destroy`
and `pulumi refresh` fail to import it. Keep the provider free of instance attributes too: they
would be pickled into state. tests/dynamic/test_grafana_com_dashboard.py guards both.
"""

from __future__ import annotations

import base64
import gzip
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from builders.grafana_com import DashboardIntegrityError, content_sha256, describe, download_url, verify

TIMEOUT_SECONDS = 30.0
CACHE_SUBDIR = Path("llm-judge-observability") / "dashboards"
# grafana.com answers urllib's default User-Agent, but naming the caller is polite and greppable.
USER_AGENT = "llm-judge-observability (pulumi dynamic provider)"
INPUT_KEYS = ("gnet_id", "revision", "sha256")
MODEL_KEY = "model_json_gz"  # the output holding the model; older states hold `model_json` instead


class GrafanaComDownloadError(Exception):
    """The pinned revision could not be downloaded; the message names dashboard, URL and cause."""


@dataclass(frozen=True)
class Pin:
    gnet_id: int
    revision: int
    sha256: str

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> Pin:
        """Read a pin from resource properties; the engine hands numbers over as floats."""
        return cls(_whole(props, "gnet_id"), _whole(props, "revision"), str(props["sha256"]))

    def outputs(self, model_json: str) -> dict[str, Any]:
        # Inputs are repeated in the outputs: `diff` receives the old *outputs*.
        return {
            "gnet_id": self.gnet_id,
            "revision": self.revision,
            "sha256": self.sha256,
            MODEL_KEY: compress_model(model_json),
        }


def compress_model(model_json: str) -> str:
    """The model as kept in state: gzip (no timestamp, so the same text gives the same output),
    base64-encoded to travel as a string."""
    return base64.b64encode(gzip.compress(model_json.encode("utf-8"), compresslevel=9, mtime=0)).decode(
        "ascii"
    )


def decompress_model(stored: str) -> str:
    """The dashboard's JSON text exactly as published, from `model_json_gz`."""
    return gzip.decompress(base64.b64decode(stored)).decode("utf-8")


def _whole(props: dict[str, Any], key: str) -> int:
    value = props[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"{key} {value!r} must be a whole number")
    return int(value)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / CACHE_SUBDIR


def cache_path(pin: Pin) -> Path:
    return cache_dir() / f"{pin.gnet_id}-r{pin.revision}.json"


def fetch_model_json(pin: Pin, timeout: float = TIMEOUT_SECONDS) -> str:
    """The pinned revision's JSON text: from the cache if it still matches, else downloaded."""
    path = cache_path(pin)
    cached = _cached(path, pin)
    if cached is not None:
        return cached
    raw = _download(pin, timeout)
    verify(raw, pin.sha256, pin.gnet_id, pin.revision)  # raises DashboardIntegrityError
    _write_atomically(path, raw)
    return raw.decode("utf-8")


def _cached(path: Path, pin: Pin) -> str | None:
    try:
        raw = path.read_bytes()
        if content_sha256(raw) == pin.sha256:
            return raw.decode("utf-8")
    except (OSError, ValueError):
        pass  # unreadable or stale cache: download again and overwrite it
    return None


def _download(pin: Pin, timeout: float) -> bytes:
    url = download_url(pin.gnet_id, pin.revision)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as err:
        cause = f"HTTP {err.code} {err.reason}"
    except OSError as err:  # URLError (DNS, refused, TLS) and timeouts are OSErrors
        cause = str(getattr(err, "reason", err)) or type(err).__name__
    raise GrafanaComDownloadError(
        f"{describe(pin.gnet_id, pin.revision)}: download of {url} failed: {cause}. "
        "pulumi up needs HTTPS access to grafana.com for dashboards not yet in the cache "
        f"({cache_dir()})."
    )


def _write_atomically(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(raw)
    partial.replace(path)


class GrafanaComDashboardProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        pin = Pin.from_props(props)
        return CreateResult(id_=f"grafana.com-{pin.gnet_id}", outs=pin.outputs(fetch_model_json(pin)))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        try:
            # No model in the old outputs: state from before `model_json_gz` (the uncompressed
            # `model_json`): rewrite it, once, in the new shape.
            changed = Pin.from_props(olds) != Pin.from_props(news) or not olds.get(MODEL_KEY)
        except (KeyError, ValueError):
            changed = True  # state from an older shape of this resource: refresh it
        return DiffResult(changes=changed, replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        pin = Pin.from_props(news)
        return UpdateResult(outs=pin.outputs(fetch_model_json(pin)))


class GrafanaComDashboard(pulumi.dynamic.Resource, module="llmjudge", name="GrafanaComDashboard"):
    """A grafana.com dashboard revision, downloaded and verified on `pulumi up`.

    Output `model_json_gz` is the dashboard's JSON text exactly as published, compressed
    (`decompress_model`); pass the text through `builders.grafana_com.prepare_for_stack` before
    giving it to Grafana.
    """

    gnet_id: pulumi.Output[int]
    revision: pulumi.Output[int]
    sha256: pulumi.Output[str]
    model_json_gz: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        gnet_id: int,
        revision: int,
        sha256: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        download_url(gnet_id, revision)  # validates both now, in the program, not in the provider
        props = {"gnet_id": gnet_id, "revision": revision, "sha256": sha256, MODEL_KEY: None}
        super().__init__(GrafanaComDashboardProvider(), resource_name, props, opts)


__all__ = [
    "DashboardIntegrityError",
    "GrafanaComDashboard",
    "GrafanaComDashboardProvider",
    "GrafanaComDownloadError",
    "Pin",
    "cache_path",
    "compress_model",
    "decompress_model",
    "fetch_model_json",
]
