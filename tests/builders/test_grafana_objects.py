"""Each cluster's Grafana objects and their names (builders.grafana_objects), pure."""

from __future__ import annotations

import hashlib
import itertools
import re

import pytest

from builders.grafana_objects import (
    OVERVIEW_DASHBOARD,
    automation_service_account_name,
    cluster_copy,
    collector_policy_name,
    contact_point_name,
    dashboard_uid,
    folder_title,
    folder_uid,
    grafana_uid,
    opencost_policy_name,
    prebuilt_dashboard_uid,
    rule_uid,
    verify_policy_name,
    with_uid,
)

GRAFANA_UID = re.compile(r"[a-zA-Z0-9_-]{1,40}")  # pkg/util/shortid_generator.go: valid and <= 40
LONGEST_CLUSTER = "c" * 62 + "x"  # a DNS-1123 label can be 63 characters


def all_names(cluster: str) -> dict[str, str]:
    return {
        "collectors' access policy": collector_policy_name(cluster),
        "OpenCost's access policy": opencost_policy_name(cluster),
        "verification access policy": verify_policy_name(cluster),
        "service account": automation_service_account_name(cluster),
        "folder uid": folder_uid(cluster),
        "folder title": folder_title(cluster),
        "overview dashboard uid": dashboard_uid(cluster, OVERVIEW_DASHBOARD),
        **{f"dashboard {g}": prebuilt_dashboard_uid(cluster, g) for g in (15757, 15758, 15759, 15760)},
        "rule uid": rule_uid(cluster, "llmj-5xx-persistence-service"),
        **{f"contact point {d}": contact_point_name(cluster, d) for d in ("email", "slack", "pagerduty")},
    }


def test_the_names_of_the_local_cluster_written_out() -> None:
    assert all_names("llm-judge-local") == {
        "collectors' access policy": "llm-judge-local-alloy-collectors",
        "OpenCost's access policy": "llm-judge-local-opencost",
        "verification access policy": "llm-judge-local-verify-read",
        "service account": "llm-judge-local-pulumi",
        "folder uid": "llm-judge-llm-judge-local",
        "folder title": "LLM Judge (llm-judge-local)",
        "overview dashboard uid": "llm-judge-overview-llm-judge-local",
        "dashboard 15757": "grafana-com-15757-llm-judge-local",
        "dashboard 15758": "grafana-com-15758-llm-judge-local",
        "dashboard 15759": "grafana-com-15759-llm-judge-local",
        "dashboard 15760": "grafana-com-15760-llm-judge-local",
        # 44 characters as a whole: cut to 31, then the first 8 hex digits of the whole's sha256.
        "rule uid": "llmj-5xx-persistence-service-ll-"
        + hashlib.sha256(b"llmj-5xx-persistence-service-llm-judge-local").hexdigest()[:8],
        "contact point email": "llm-judge-llm-judge-local-email",
        "contact point slack": "llm-judge-llm-judge-local-slack",
        "contact point pagerduty": "llm-judge-llm-judge-local-pagerduty",
    }


@pytest.mark.parametrize("cluster", ["a", "llm-judge-eks-prod", LONGEST_CLUSTER])
def test_every_uid_is_a_grafana_uid_and_folder_and_dashboards_differ(cluster: str) -> None:
    uids = {k: v for k, v in all_names(cluster).items() if "uid" in k}
    assert all(GRAFANA_UID.fullmatch(uid) for uid in uids.values()), uids
    # A folder is a row of Grafana's dashboard table: no dashboard may take its uid.
    assert len(set(uids.values())) == len(uids)


def test_two_clusters_share_no_name_even_when_they_differ_in_the_last_character_only() -> None:
    clusters = ["llm-judge-local", "llm-judge-eks-prod", LONGEST_CLUSTER, "c" * 62 + "y"]
    for a, b in itertools.combinations(clusters, 2):
        shared = set(all_names(a).values()) & set(all_names(b).values())
        assert shared == set(), (a, b)


def test_long_names_are_cut_with_a_hash_of_the_whole() -> None:
    assert grafana_uid("short", "one") == "short-one"
    whole = "x" * 41
    assert grafana_uid(whole) == "x" * 31 + "-" + hashlib.sha256(whole.encode()).hexdigest()[:8]
    assert grafana_uid("a b", "c.d") == "a_b-c_d"  # characters Grafana refuses become '_'


@pytest.mark.parametrize("cluster", ["Edge_1", "", "-x", "x" * 64, "llm-judge-local\n"])
def test_a_cluster_name_that_is_no_dns_label_is_refused(cluster: str) -> None:
    with pytest.raises(ValueError, match="DNS-1123"):
        folder_uid(cluster)


def test_bad_parts_and_destinations_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        grafana_uid("a", "")
    with pytest.raises(ValueError, match="destination 'sms'"):
        contact_point_name("c", "sms")  # type: ignore[arg-type]


def test_with_uid_replaces_a_models_uid_and_refuses_an_invalid_one() -> None:
    model = {"uid": "k8s_views_global", "title": "Kubernetes / Views / Global"}
    assert with_uid(model, "grafana-com-15757-c1") == {"uid": "grafana-com-15757-c1", "title": model["title"]}
    assert model["uid"] == "k8s_views_global"  # the argument is not modified
    with pytest.raises(ValueError, match="not a Grafana uid"):
        with_uid(model, "x" * 41)


def test_a_cluster_copy_opens_its_cluster_variable_on_the_cluster() -> None:
    # The shape of the pinned Kubernetes views' variables (../shared/dashboards/15757-k8s-views-global.json).
    variables = [
        {"name": "datasource", "type": "datasource", "current": {}},
        {
            "name": "cluster",
            "type": "query",
            "current": {},
            "query": {"query": "label_values(kube_node_info,cluster)"},
        },
        {"name": "namespace", "type": "query", "current": {}},
    ]
    model = {"uid": "k8s_views_global", "templating": {"list": variables}, "panels": []}
    copy = cluster_copy(model, "grafana-com-15757-c1", "c1")
    assert copy["uid"] == "grafana-com-15757-c1"
    assert [v["current"] for v in copy["templating"]["list"]] == [
        {},
        {"selected": True, "text": "c1", "value": "c1"},
        {},
    ]
    assert copy["templating"]["list"][1]["query"] == variables[1]["query"]
    assert variables[1]["current"] == {}  # the argument is not modified
    assert cluster_copy({"panels": []}, "u", "c1") == {"panels": [], "uid": "u"}  # no variables: uid only
    with pytest.raises(ValueError, match="DNS-1123"):
        cluster_copy(model, "u", "C1")
