"""What one cluster's stack owns in the shared Grafana Cloud stack, and the names that make each object
its own: the one place these names are made.

Many clusters send to one Grafana Cloud stack (the free tier has exactly one; staging, production
and regions add clusters, not Grafana stacks), and each cluster is one stack of this program. The
decision (README "Many clusters, one Grafana Cloud stack"): every Grafana object a stack declares
belongs to that cluster alone and has the cluster in its identity; nothing is shared, nothing is a
singleton.

    access policies  <cluster>-alloy-collectors, <cluster>-opencost, <cluster>-verify-read
    service account  <cluster>-pulumi (manages the stack's Grafana)
    folder           uid llm-judge-<cluster>, title "LLM Judge (<cluster>)"
    dashboards       uid <name>-<cluster>: "LLM Judge" (llm-judge-overview-<cluster>) and the
                     grafana.com ones (grafana-com-<id>-<cluster>, replacing their own uid such
                     as k8s_views_global)
    rule groups      in the cluster's folder (Grafana keys a group by folder uid and name)
    alert rules      uid <rule key>-<cluster>
    contact points   llm-judge-<cluster>-email / -slack / -pagerduty
    routing          on each rule (its notification settings: contact point and grouping), so no
                     stack declares the organisation's one notification-policy tree

Why: with nothing shared there is nothing to coordinate. No stack has to be deployed first, a new
cluster's stack never needs a change in another stack's state, destroying a stack removes only its
own objects (it cannot reset another cluster's routing), and each cluster routes to its own
destinations (a local stack configured with email only never pages PagerDuty). The price: one copy
of the dashboards per cluster, kept apart by the per-cluster folders.

Grafana's uids are 1-40 characters of letters, digits, '-' and '_' (grafana/grafana
pkg/util/shortid_generator.go `IsValidShortUID`, `IsShortUIDTooLong`: len > 40; folders and
dashboards are refused with "uid too long, max 40 characters"; alert rules have the same limit). A
longer one is cut and ends in a hash of the whole name, so it stays stable and distinct per cluster.
Folders and dashboards must not share a uid either: Grafana's SQL store keeps a folder as a row of
the dashboard table, and saving a dashboard under a folder's uid fails with "Dashboard cannot be
changed to a folder" (pkg/services/dashboards/database/database.go,
`getExistingDashboardByIDOrUIDForUpdate`) -- hence the `-overview` of the LLM Judge dashboard.

Pure: no Pulumi.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Literal

from builders.names import DNS1123_LABEL

UID_MAX = 40
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
_NOT_UID = re.compile(r"[^a-zA-Z0-9_-]")
_HASH_CHARS = 8

Destination = Literal["email", "slack", "pagerduty"]
DESTINATIONS: tuple[Destination, ...] = ("email", "slack", "pagerduty")
OVERVIEW_DASHBOARD = "llm-judge-overview"


def grafana_uid(*parts: str) -> str:
    """The parts joined with '-' (other characters as '_'); past 40 characters, the first 31 (without a
    trailing '-' or '_'), '-' and 8 hex digits of the whole's sha256: a valid Grafana uid that differs
    whenever the parts do."""
    if not parts or any(not isinstance(p, str) or not p for p in parts):
        raise ValueError(f"uid parts {parts!r} must be non-empty strings")
    whole = _NOT_UID.sub("_", "-".join(parts))
    if len(whole) <= UID_MAX:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:_HASH_CHARS]
    return f"{whole[: UID_MAX - _HASH_CHARS - 1].rstrip('-_')}-{digest}"


def is_grafana_uid(value: object) -> bool:
    return isinstance(value, str) and bool(_UID.fullmatch(value))


def _cluster(cluster: str) -> str:
    if not isinstance(cluster, str) or not DNS1123_LABEL.fullmatch(cluster):
        raise ValueError(f"cluster {cluster!r} must be a DNS-1123 label (clusterName)")
    return cluster


def folder_uid(cluster: str) -> str:
    return grafana_uid("llm-judge", _cluster(cluster))


def folder_title(cluster: str) -> str:
    return f"LLM Judge ({_cluster(cluster)})"


def dashboard_uid(cluster: str, name: str) -> str:
    """A dashboard's uid in this cluster's folder: `name` is the dashboard's own (cluster-free) name."""
    return grafana_uid(name, _cluster(cluster))


def prebuilt_dashboard_uid(cluster: str, gnet_id: int) -> str:
    """A grafana.com dashboard's uid here: from its pin, not from its downloaded model (whose own uid,
    e.g. `k8s_views_global`, every cluster's copy would otherwise share)."""
    return dashboard_uid(cluster, f"grafana-com-{gnet_id}")


def with_uid(model: Mapping[str, Any], uid: str) -> dict[str, Any]:
    """A copy of a dashboard model under `uid`: Grafana, and the provider's `config_json`, take a
    dashboard's uid from its model."""
    if not is_grafana_uid(uid):
        raise ValueError(f"dashboard uid {uid!r} is not a Grafana uid (1-40 of letters, digits, '-', '_')")
    return {**model, "uid": uid}


def cluster_copy(model: Mapping[str, Any], uid: str, cluster: str) -> dict[str, Any]:
    """This cluster's copy of a dashboard model: under `uid`, and opening on `cluster` wherever it has
    a `cluster` template variable (the LLM Judge dashboard; the grafana.com Kubernetes views, whose
    variable is `label_values(kube_node_info, cluster)`, ../shared/dashboards/15757-k8s-views-global.json).
    The variable still lists every cluster; only where it opens changes."""
    cluster = _cluster(cluster)
    copy = with_uid(model, uid)
    templating = model.get("templating")
    if isinstance(templating, Mapping) and isinstance(templating.get("list"), list):
        opening = {"selected": True, "text": cluster, "value": cluster}
        variables = [
            {**v, "current": opening} if isinstance(v, Mapping) and v.get("name") == "cluster" else v
            for v in templating["list"]
        ]
        copy["templating"] = {**templating, "list": variables}
    return copy


def rule_uid(cluster: str, key: str) -> str:
    """An alert rule's uid: its key (the runbook anchor, the same in every cluster) and the cluster."""
    return grafana_uid(key, _cluster(cluster))


def contact_point_name(cluster: str, destination: Destination) -> str:
    """Contact points are identified by name in Grafana: `llm-judge-<cluster>-<destination>`."""
    if destination not in DESTINATIONS:
        raise ValueError(f"destination {destination!r} must be one of {DESTINATIONS}")
    return f"llm-judge-{_cluster(cluster)}-{destination}"


# Grafana Cloud access policies: names of lowercase letters, digits and '-', unique per organisation.
# The suffix tells the three kinds apart (builders.grafana_cloud.allowed_scopes, the policy pack).
COLLECTOR_POLICY_SUFFIX = "-alloy-collectors"
OPENCOST_POLICY_SUFFIX = "-opencost"
VERIFY_POLICY_SUFFIX = "-verify-read"


def collector_policy_name(cluster_name: str) -> str:
    return f"{cluster_name}{COLLECTOR_POLICY_SUFFIX}"


def opencost_policy_name(cluster_name: str) -> str:
    return f"{cluster_name}{OPENCOST_POLICY_SUFFIX}"


def verify_policy_name(cluster_name: str) -> str:
    return f"{cluster_name}{VERIFY_POLICY_SUFFIX}"


def automation_service_account_name(cluster_name: str) -> str:
    """The stack service account through which the program manages the stack's Grafana."""
    return f"{cluster_name}-pulumi"
