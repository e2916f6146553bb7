"""Pre-built dashboards from grafana.com, pinned by revision and content hash (pure).

Seed plan 7.1 corrected per DESIGN.md "Dashboards": 15757 is "Kubernetes / Views / Global"
(not Namespaces), Namespaces is 15758, 16686 is Jaeger's port and no dashboard.

The download happens at deploy time only (dynamic/grafana_com_dashboard.py); this module holds
the pins, the URL, the integrity check and the rewrite of a downloaded model for one stack.

How the pins were obtained (no access to grafana.com from where they were written):
15757-15760 are published by hand from github.com/dotdc/grafana-dashboards-kubernetes
(README, "Grafana.com dashboard id list"). The maintainer keeps each JSON file's top-level
`version` equal to its grafana.com revision: commit 914de6c "chore: version bump after double
post on grafana.com" bumps `version` only because a second upload consumed a revision, and the
README links "revision 43 on Grafana.com" of 15757 as the same dashboard as tag v2.10.1's
k8s-views-global.json, whose `version` is 43 (the only blob in the history with that version).
So revision N is taken to be the one file version with `"version": N`; each pinned one is the
newest in the repository (checked at commit 7fc1dc8, 2026-04-02) and unique in its history.
The hash is of that file's canonical JSON (see `content_sha256`), so whitespace or key-order
changes made when grafana.com stored the upload do not matter; any content change does.
Certainty: the revision<->file mapping rests on the maintainer's convention (strong evidence,
not a guarantee); that grafana.com serves the uploaded JSON unchanged is assumed. The first
`pulumi up` checks both: a mismatch stops with both hashes, nothing is imported unverified.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DOWNLOAD_URL = "https://grafana.com/api/dashboards/{gnet_id}/revisions/{revision}/download"

# `${DS_PROMETHEUS}`-style references to an import input (Grafana's "export for sharing
# externally" format). https://grafana.com/docs/grafana/latest/dashboards/share-dashboards-panels/
_INPUT_REF = re.compile(r"\$\{(DS_[A-Za-z0-9_]+)\}")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SOURCE = "github.com/dotdc/grafana-dashboards-kubernetes"


class DashboardIntegrityError(Exception):
    """Downloaded content is not what the pin says."""


class DashboardInputError(ValueError):
    """The dashboard needs an import input this stack has no value for."""


@dataclass(frozen=True)
class PrebuiltDashboard:
    """One grafana.com dashboard at one revision, and where its pin came from."""

    gnet_id: int
    revision: int
    title: str
    sha256: str  # content_sha256 of that revision
    platforms: frozenset[str]  # the platforms (local, eks) whose stacks import it
    source: str  # where the pinned content can be reviewed

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.describe()}: sha256 {self.sha256!r} must be 64 lowercase hex digits")

    def describe(self) -> str:
        return describe(self.gnet_id, self.revision, self.title)


_BOTH = frozenset({"local", "eks"})

# 17119 (the community "Kubernetes EKS Cluster (Prometheus)") is left out: its source is not a
# repository we can read, so no revision's content could be reviewed or hashed.
PREBUILT_DASHBOARDS: tuple[PrebuiltDashboard, ...] = (
    PrebuiltDashboard(
        15757,
        45,
        "Kubernetes / Views / Global",
        "67cd93a177de5799e62c93965e4fae74a85210ff9a753a6e6ca8c4b94c48ddd0",
        _BOTH,
        f"{_SOURCE} dashboards/k8s-views-global.json, commit 42a9975 (tags v3.0.1-v3.0.6)",
    ),
    PrebuiltDashboard(
        15758,
        46,
        "Kubernetes / Views / Namespaces",
        "794651b13ecf01e0f93c12634b0641efe5920dae5300d7026c5c7fd461938f1f",
        _BOTH,
        f"{_SOURCE} dashboards/k8s-views-namespaces.json, commit a5ce3d4 (tag v3.0.6)",
    ),
    PrebuiltDashboard(
        15759,
        40,
        "Kubernetes / Views / Nodes",
        "9619941740cf053cc96f52e3affd47de2f61ff33e798d3186da1936ddeae4491",
        _BOTH,
        f"{_SOURCE} dashboards/k8s-views-nodes.json, commit b4e0422 (tags v2.10.1-v3.0.6)",
    ),
    PrebuiltDashboard(
        15760,
        39,
        "Kubernetes / Views / Pods",
        "028694870a45af15476a94ea69be51101054224ce99b3d6d15607f8ceefad4ed",
        _BOTH,
        f"{_SOURCE} dashboards/k8s-views-pods.json, commit e77877f (tags v3.0.4-v3.0.6)",
    ),
)


def dashboards_for_platform(platform: str) -> tuple[PrebuiltDashboard, ...]:
    return tuple(d for d in PREBUILT_DASHBOARDS if platform in d.platforms)


def describe(gnet_id: int, revision: int, title: str | None = None) -> str:
    """How messages name a dashboard; the catalog's title when the caller has none."""
    if title is None:
        title = next((d.title for d in PREBUILT_DASHBOARDS if d.gnet_id == gnet_id), None)
    pin = f"grafana.com dashboard {gnet_id} revision {revision}"
    return f'"{title}" ({pin})' if title else pin


def download_url(gnet_id: int, revision: int) -> str:
    for label, value in (("gnet_id", gnet_id), ("revision", revision)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} {value!r} must be a positive integer")
    return DOWNLOAD_URL.format(gnet_id=gnet_id, revision=revision)


def content_sha256(raw: bytes) -> str:
    """sha256 of the dashboard's canonical JSON: sorted keys, no insignificant whitespace.

    Canonical rather than raw bytes because the pins were computed from the published source
    file, and grafana.com may re-serialize what it stores. Invalid JSON raises ValueError.
    """
    try:
        model = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not a JSON document: {err}") from err
    canonical = json.dumps(model, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def verify(raw: bytes, expected_sha256: str, gnet_id: int, revision: int) -> None:
    """Raise DashboardIntegrityError unless `raw` is the pinned content."""
    name = describe(gnet_id, revision)
    try:
        actual = content_sha256(raw)
    except ValueError as err:
        raise DashboardIntegrityError(f"{name}: downloaded content is {err}") from err
    if actual != expected_sha256:
        raise DashboardIntegrityError(
            f"{name}: content sha256 is {actual}, the pin expects {expected_sha256}. "
            "The published revision is not the content that was reviewed. Review what "
            f"{download_url(gnet_id, revision)} serves now (diff it against the pinned source), then "
            "update the pin's sha256 (and revision) in builders/grafana_com.py PREBUILT_DASHBOARDS."
        )


def prepare_for_stack(model: Mapping[str, Any], datasource_uids: Mapping[str, str]) -> dict[str, Any]:
    """The model ready for this stack's Grafana: input references resolved, import metadata gone.

    Every `${DS_…}` reference to a data-source input declared in `__inputs` is replaced, in any
    string anywhere in the model, by a uid from `datasource_uids`, looked up by the input's name
    (`DS_PROMETHEUS`) or else its plugin id (`prometheus`). `__inputs`, `__requires` and `id`
    are dropped (the dashboard API assigns the id). A needed input without a uid, an input that
    is not a data source, or a reference to an undeclared input raises DashboardInputError.
    The argument is not modified.
    """
    title = model.get("title", "<untitled>")
    values: dict[str, str] = {}
    for spec in model.get("__inputs") or []:
        name, kind = spec.get("name"), spec.get("type")
        if kind != "datasource":
            raise DashboardInputError(
                f"dashboard {title!r}: import input {name!r} has type {kind!r}; only data-source inputs "
                "are supported"
            )
        uid = datasource_uids.get(name) or datasource_uids.get(spec.get("pluginId", ""))
        if not uid:
            raise DashboardInputError(
                f"dashboard {title!r} needs data source input {name!r} (plugin {spec.get('pluginId')!r}); "
                f"no uid given for it (have: {sorted(datasource_uids)})"
            )
        values[name] = uid

    def resolve(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise DashboardInputError(
                    f"dashboard {title!r} references {match.group(0)}, which its __inputs do not declare"
                )
            return values[match.group(1)]

        return _INPUT_REF.sub(one, text)

    kept = {key: value for key, value in model.items() if key not in ("__inputs", "__requires", "id")}
    prepared: dict[str, Any] = _map_strings(kept, resolve)
    return prepared


def _map_strings(node: Any, fn: Callable[[str], str]) -> Any:
    """A copy of a JSON value with fn applied to every string, keys included."""
    if isinstance(node, str):
        return fn(node)
    if isinstance(node, list):
        return [_map_strings(item, fn) for item in node]
    if isinstance(node, dict):
        return {fn(key): _map_strings(value, fn) for key, value in node.items()}
    return node
