"""The eks synth (resources.json) as a reviewer reads it: who can reach the cluster, what waits for
the nodes, which subnets the cluster gets, token rotation, the exporter's IAM actions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders.config import PROJECT
from tests.test_modelled_cluster import CHANGES, run_against, users_cluster
from tools import mocks, synth
from tools.program import ROOT, ProgramRun

DEPLOY = "arn:aws:iam::111122223333:role/github-deploy"
ALICE = "arn:aws:iam::111122223333:user/alice"
PREVIEW = "arn:aws:iam::111122223333:role/github-preview"
NODES = "eks:index:ManagedNodeGroup::eks-nodes"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
OFFERINGS = "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings"
OIDC_LOOKUP = "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider"


def run_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str], **settings: Any) -> tuple[int, str]:
    """`python -m tools.synth --stack eks` with Pulumi.eks.yaml plus `settings`."""
    document = yaml.safe_load((ROOT / "Pulumi.eks.yaml").read_text())
    document["config"].update({f"{PROJECT}:{key}": value for key, value in settings.items()})
    stack_file = tmp_path / "Pulumi.eks.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    code = synth.main(["--stack", "eks", "--out", str(tmp_path / "out"), "--stack-file", str(stack_file)])
    return code, capsys.readouterr().err


def synth_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], **settings: Any
) -> list[dict[str, Any]]:
    code, err = run_synth(tmp_path, capsys, **settings)
    assert code == 0, err
    records: list[dict[str, Any]] = json.loads((tmp_path / "out" / "resources.json").read_text())
    return records


def of_type(records: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] == type_]


def named(records: list[dict[str, Any]], type_: str, name: str) -> dict[str, Any]:
    (found,) = [r for r in of_type(records, type_) if r["name"] == name]
    return found


# --- 1. cluster access -------------------------------------------------------------------------


def test_admins_and_the_preview_role_get_access_entries_the_program_manages(tmp_path, capsys):
    records = synth_records(
        tmp_path, capsys, clusterAdminPrincipals=[DEPLOY, ALICE], clusterPreviewRoleArn=PREVIEW
    )
    entries = {r["inputs"]["principalArn"]: r for r in of_type(records, ENTRY)}
    assert set(entries) == {DEPLOY, ALICE, PREVIEW}
    for entry in entries.values():
        assert (
            entry["inputs"]["clusterName"] == "llm-judge-eks-prod" and entry["inputs"]["type"] == "STANDARD"
        )
        assert entry["parent"] == "eks" and entry["provider"] == "aws"
        assert "eks:index:Cluster::eks-cluster" in entry["dependsOn"]  # the cluster exists first
    policies = {r["inputs"]["principalArn"]: r for r in of_type(records, ASSOCIATION)}
    for admin in (DEPLOY, ALICE):
        assert policies[admin]["inputs"]["policyArn"] == (
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        assert policies[admin]["inputs"]["accessScope"] == {"type": "cluster"}
        assert f"{ENTRY}::{entries[admin]['name']}" in policies[admin]["dependsOn"]
    assert (
        policies[PREVIEW]["inputs"]["policyArn"]
        == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    )
    assert policies[PREVIEW]["inputs"]["accessScope"] == {"type": "namespace", "namespaces": ["llm-judge"]}
    # A deployer listed for the first time can reach the cluster in the same run: Kubernetes
    # resources wait for the admins' access (not for the preview role's), through either provider.
    admin_policies = {f"{ASSOCIATION}::{policies[a]['name']}" for a in (DEPLOY, ALICE)}
    for name in ("eks-cluster", "eks-cluster-adopting"):
        provider = named(records, "pulumi:providers:kubernetes", name)
        assert admin_policies <= set(provider["dependsOn"]), name
        assert f"{ASSOCIATION}::{policies[PREVIEW]['name']}" not in provider["dependsOn"], name


def test_without_access_settings_no_entries_are_declared(tmp_path, capsys):
    records = synth_records(tmp_path, capsys)
    assert of_type(records, ENTRY) == [] and of_type(records, ASSOCIATION) == []


def test_an_existing_cluster_gets_no_access_entries_and_a_json_token_command(tmp_path, capsys):
    records = synth_records(tmp_path, capsys, existingClusterName="shared-prod")
    assert of_type(records, ENTRY) == [] and of_type(records, "eks:index:Cluster") == []
    provider = named(records, "pulumi:providers:kubernetes", "eks-cluster")
    assert provider["dependsOn"] == []  # nothing the program creates to wait for
    # the kubeconfig is a secret in resources.json; the placeholders name the cluster read instead
    placeholders = json.loads((tmp_path / "out" / "placeholders.json").read_text())
    assert "aws:eks/getCluster:getCluster" in [lookup["invoke"] for lookup in placeholders["lookups"]]


def test_an_existing_cluster_without_an_iam_oidc_provider_is_one_message_saying_what_to_do(
    tmp_path, capsys, monkeypatch
):
    def none_matching(args: dict[str, Any]) -> dict[str, Any]:
        # What the provider answers when no provider of the account matches the issuer
        # (terraform-provider-aws openid_connect_provider_data_source.go, retry.NotFoundError).
        message = f"reading IAM OIDC Provider ({args['url']}): couldn't find resource"
        raise mocks.ProviderLookupError(message)

    monkeypatch.setitem(mocks.INVOKES, OIDC_LOOKUP, none_matching)
    code, err = run_synth(tmp_path, capsys, existingClusterName="shared-prod")
    assert code == 2
    issuer = f"https://{mocks.PLACEHOLDER_OIDC_ISSUER}"
    assert f"EKS cluster shared-prod ({PROJECT}:existingClusterName) has no IAM OIDC provider" in err
    assert "eksctl utils associate-iam-oidc-provider --cluster shared-prod --region us-east-1" in err
    assert f"reading IAM OIDC Provider ({issuer}): couldn't find resource" in err
    assert "Nothing was changed" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "resources.json").exists()
    # Nothing that changes anything was declared to the engine before the refusal.
    runs: list[ProgramRun] = []
    with pytest.raises(Exception, match="has no IAM OIDC provider"):
        run_against(users_cluster(), "eks", holder=runs, existingClusterName="shared-prod")
    declared = [r.name for r in runs[0].monitor.registrations if r.custom and r.type.startswith(CHANGES)]
    assert declared == []


def test_an_existing_cluster_that_cannot_be_read_is_one_message(tmp_path, capsys, monkeypatch):
    def not_found(args: dict[str, Any]) -> dict[str, Any]:
        message = f"reading EKS Cluster ({args['name']}): couldn't find resource"
        raise mocks.ProviderLookupError(message)

    monkeypatch.setitem(mocks.INVOKES, "aws:eks/getCluster:getCluster", not_found)
    code, err = run_synth(tmp_path, capsys, existingClusterName="shared-prdo")
    assert code == 2
    assert f'{PROJECT}:existingClusterName = "shared-prdo": cannot read an EKS cluster of that name' in err
    assert "couldn't find resource" in err and "Traceback" not in err


# --- 2. workloads wait for nodes ---------------------------------------------------------------


def test_every_helm_release_and_kubernetes_object_comes_after_the_node_group(tmp_path, capsys):
    records = synth_records(tmp_path, capsys)
    releases = of_type(records, HELM_RELEASE)
    assert {r["inputs"]["chart"] for r in releases} == {"external-secrets", "k8s-monitoring"}
    on_cluster = [r for r in records if r["provider"] in ("eks-cluster", "eks-cluster-adopting")]
    assert len(on_cluster) > len(releases)
    # The providers themselves too: whatever goes through either waits for the nodes.
    on_cluster += of_type(records, "pulumi:providers:kubernetes")
    for resource in on_cluster:
        assert NODES in resource["dependsOn"], resource["name"]


# --- 3. subnets EKS accepts ----------------------------------------------------------------------


def test_default_vpc_subnets_in_zones_eks_refuses_are_left_out(tmp_path, capsys):
    records = synth_records(tmp_path, capsys)
    (cluster,) = of_type(records, "eks:index:Cluster")
    unsupported = next(s for s, zone in mocks.PLACEHOLDER_SUBNETS.items() if zone == "use1-az3")
    assert cluster["inputs"]["vpcId"] == mocks.PLACEHOLDER_VPC_ID
    assert cluster["inputs"]["subnetIds"] == sorted(set(mocks.PLACEHOLDER_SUBNETS) - {unsupported})
    (nodes,) = of_type(records, "eks:index:ManagedNodeGroup")
    assert "subnetIds" not in nodes["inputs"]  # pulumi-eks gives the node group the cluster's


def test_zones_without_the_node_instance_types_are_left_out(tmp_path, capsys, monkeypatch):
    def offered_in_az1_and_az2(args: dict[str, Any]) -> dict[str, Any]:
        zones = ["use1-az1", "use1-az2"]
        return {"instanceTypes": ["t3.large"] * len(zones), "locations": zones, "locationTypes": []}

    monkeypatch.setitem(mocks.INVOKES, OFFERINGS, offered_in_az1_and_az2)
    (cluster,) = of_type(synth_records(tmp_path, capsys), "eks:index:Cluster")
    assert cluster["inputs"]["subnetIds"] == ["subnet-00000000000000001", "subnet-00000000000000002"]


def test_a_default_vpc_without_two_usable_zones_is_refused_before_the_cluster(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(
        mocks.INVOKES,
        OFFERINGS,
        lambda args: {"instanceTypes": ["t3.large", "t3.large"], "locations": ["use1-az1", "use1-az3"]},
    )
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert (
        "the default VPC vpc-00000000000000000 of us-east-1: usable subnets in 1 Availability Zone(s)" in err
    )
    assert "subnet-00000000000000003 (EKS does not create control planes in use1-az3)" in err
    assert "Set vpcId and subnetIds" in err
    assert "Traceback" not in err


def test_an_account_without_a_default_vpc_is_told_to_set_the_subnets(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(mocks.INVOKES, "aws:ec2/getVpcs:getVpcs", lambda args: {"ids": []})
    code, err = run_synth(tmp_path, capsys)
    assert code == 2
    assert (
        f"us-east-1 has no default VPC to create the cluster in: set {PROJECT}:vpcId and {PROJECT}:subnetIds"
        in err
    )


def test_explicit_subnets_in_a_zone_eks_refuses_are_refused(tmp_path, capsys):
    code, err = run_synth(
        tmp_path,
        capsys,
        vpcId=mocks.PLACEHOLDER_VPC_ID,
        subnetIds=["subnet-00000000000000002", "subnet-00000000000000003"],
    )
    assert code == 2
    assert f'{PROJECT}:subnetIds = ["subnet-00000000000000002", "subnet-00000000000000003"]' in err
    assert "subnet-00000000000000003 (EKS does not create control planes in use1-az3;" in err
    assert "t3.large is not offered in use1-az3)" in err


def test_explicit_subnets_that_work_are_used_as_given(tmp_path, capsys):
    chosen = ["subnet-00000000000000004", "subnet-00000000000000001"]
    records = synth_records(tmp_path, capsys, vpcId=mocks.PLACEHOLDER_VPC_ID, subnetIds=chosen)
    (cluster,) = of_type(records, "eks:index:Cluster")
    assert cluster["inputs"]["subnetIds"] == sorted(chosen)


def test_explicit_subnets_outside_the_vpc_are_refused(tmp_path, capsys):
    code, err = run_synth(
        tmp_path,
        capsys,
        vpcId="vpc-0123456789abcdef0",
        subnetIds=["subnet-00000000000000001", "subnet-00000000000000002"],
    )
    assert code == 2
    assert "subnet-00000000000000001, subnet-00000000000000002 not found in" in err
    assert f"{PROJECT}:vpcId vpc-0123456789abcdef0" in err


# --- 5. rotation, 6. IAM -------------------------------------------------------------------------


def test_the_collectors_token_is_left_to_expire_not_deleted(tmp_path, capsys):
    records = synth_records(tmp_path, capsys)
    token = named(
        records,
        "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken",
        "grafana-cloud-collectors-token",
    )
    assert token["inputs"]["deleteOnDestroy"] is False


def test_the_cloudwatch_exporters_role_may_call_exactly_what_static_jobs_call(tmp_path, capsys):
    records = synth_records(tmp_path, capsys)
    policy = json.loads(
        named(records, "aws:iam/rolePolicy:RolePolicy", "irsa-alloy-metrics")["inputs"]["policy"]
    )
    assert policy["Statement"] == [
        {
            "Sid": "ReadCloudWatchMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricStatistics", "iam:ListAccountAliases"],
            "Resource": "*",
        }
    ]
    values = yaml.safe_load((tmp_path / "out" / synth.VALUES_FILE).read_text())
    extra = values["collectors"]["alloy-metrics"]["extraConfig"]
    assert 'static "queue_inference_queue"' in extra
    assert "discovery" not in extra and "custom_namespace" not in extra  # which would call more
