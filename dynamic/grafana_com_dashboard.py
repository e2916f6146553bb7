"""Deploy-time download of a pinned grafana.com dashboard revision, as a Pulumi dynamic resource.

Why a dynamic resource: the download must happen on `pulumi up` only. Tests and the offline
synth run the program under Pulumi's mocks, where a dynamic resource is registered like any
other and its provider is never called, so nothing here touches the network there. The
provider runs in a separate process that unpickles it and imports what it references
(https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/), hence this module
imports only the standard library, Pulumi and the pure builders, and does nothing at import.

`create`/`update` fetch the pinned revision, check its hash and return the text as
`model_json`; `diff` compares the pins only (no network during preview). Downloads are cached
in `$XDG_CACHE_HOME` (default `~/.cache`) `/llm-judge-observability/dashboards/<id>-r<rev>.json`
and a cached file is used only while its hash still matches the pin.
"""

from __future__ import annotations

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
            "model_json": model_json,
        }


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
            changed = Pin.from_props(olds) != Pin.from_props(news) or not olds.get("model_json")
        except (KeyError, ValueError):
            changed = True  # state from an older shape of this resource: refresh it
        return DiffResult(changes=changed, replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        pin = Pin.from_props(news)
        return UpdateResult(outs=pin.outputs(fetch_model_json(pin)))


class GrafanaComDashboard(pulumi.dynamic.Resource, module="llmjudge", name="GrafanaComDashboard"):
    """A grafana.com dashboard revision, downloaded and verified on `pulumi up`.

    Output `model_json` is the dashboard's JSON text exactly as published; pass it through
    `builders.grafana_com.prepare_for_stack` before giving it to Grafana.
    """

    gnet_id: pulumi.Output[int]
    revision: pulumi.Output[int]
    sha256: pulumi.Output[str]
    model_json: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        gnet_id: int,
        revision: int,
        sha256: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        download_url(gnet_id, revision)  # validates both now, in the program, not in the provider
        props = {"gnet_id": gnet_id, "revision": revision, "sha256": sha256, "model_json": None}
        super().__init__(GrafanaComDashboardProvider(), resource_name, props, opts)


__all__ = [
    "DashboardIntegrityError",
    "GrafanaComDashboard",
    "GrafanaComDashboardProvider",
    "GrafanaComDownloadError",
    "Pin",
    "cache_path",
    "fetch_model_json",
]
