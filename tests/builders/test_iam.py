from __future__ import annotations

import hashlib
import re

import pytest

from builders.iam import (
    EBS_CSI_MANAGED_POLICY,
    EBS_CSI_SERVICE_ACCOUNT,
    NODE_MANAGED_POLICIES,
    ROLE_NAME_MAX,
    ServiceAccountRef,
    cloudwatch_metrics_read_policy,
    ec2_trust_policy,
    issuer_host,
    role_name,
    secret_read_policy,
    web_identity_trust_policy,
)

ARN = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


@pytest.mark.parametrize("issuer", [ISSUER, f"https://{ISSUER}", f"https://{ISSUER}/"])
def test_trust_policy_conditions_on_subject_and_audience_of_this_issuer(issuer):
    trust = web_identity_trust_policy(ARN, issuer, ServiceAccountRef("llm-judge", "collector"))
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:llm-judge:collector",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }


def test_issuer_host_strips_scheme_only():
    assert issuer_host("https://a.example/id/X") == "a.example/id/X"


def test_cloudwatch_policy_grants_exactly_what_yace_static_jobs_call():
    # YACE v0.64 (pinned by Alloy v1.18): pkg/job/static.go runStaticJob calls GetMetricStatistics per
    # metric; pkg/job/scrape.go calls GetAccountAlias (iam:ListAccountAliases) on every scrape of a
    # static job and GetAccount (sts:GetCallerIdentity, which needs no permission). Nothing else:
    # no tag:GetResources, cloudwatch:ListMetrics or GetMetricData, which only discovery jobs call.
    (statement,) = cloudwatch_metrics_read_policy()["Statement"]
    assert statement["Action"] == ["cloudwatch:GetMetricStatistics", "iam:ListAccountAliases"]
    assert statement["Resource"] == "*"  # neither action takes a resource ARN


def test_secret_policy_is_scoped_to_the_secret_and_its_key():
    secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:c/grafana-AbCdEf"
    key = "arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-0b0a-0908-0706-050403020100"
    without_key = secret_read_policy(secret, None, "eu-west-1")["Statement"]
    assert [s["Resource"] for s in without_key] == [secret]
    with_key = secret_read_policy(secret, key, "eu-west-1")["Statement"]
    decrypt = with_key[1]
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == key
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }


# --- role names: unique and at most 64 characters, whatever the cluster name ----------------------

SUFFIXES = ("alloy-metrics", "external-secrets", "ebs-csi-driver", "nodes")


def test_role_names_that_fit_are_left_as_they_are():
    # A changed name replaces the role: names of today's clusters must not move.
    assert role_name("llm-judge-eks-prod", "external-secrets") == "llm-judge-eks-prod-external-secrets"
    assert len(role_name("c" * 47, "external-secrets")) == ROLE_NAME_MAX  # exactly 64: unchanged
    assert role_name("c" * 47, "external-secrets") == "c" * 47 + "-external-secrets"


@pytest.mark.parametrize("length", [48, 50, 55, 60, 63])
def test_long_cluster_names_give_distinct_names_within_the_limit(length):
    cluster = "c" * length
    names = [role_name(cluster, suffix) for suffix in SUFFIXES]
    assert all(len(name) <= ROLE_NAME_MAX for name in names)
    assert len(set(names)) == len(names)
    assert all(name.endswith(f"-{suffix}") for name, suffix in zip(names, SUFFIXES, strict=True))
    assert all(re.fullmatch(r"[\w+=,.@-]{1,64}", name) for name in names)  # IAM's RoleName pattern


def test_two_long_cluster_names_sharing_a_prefix_stay_apart():
    first, second = "x" * 62 + "a", "x" * 62 + "b"
    assert role_name(first, "nodes") != role_name(second, "nodes")
    assert role_name(first, "nodes") == role_name(first, "nodes")  # stable across runs


# --- whole documents, written out from AWS's documentation (pinned against mutation) --------------


def test_trust_policy_is_exactly_the_documented_irsa_trust_policy():
    # https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
    # ("Example trust policy"): Version 2012-10-17, Federated OIDC provider, AssumeRoleWithWebIdentity,
    # StringEquals on <issuer>:sub and <issuer>:aud.
    trust = web_identity_trust_policy(ARN, f"https://{ISSUER}", ServiceAccountRef("llm-judge", "collector"))
    assert trust == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:sub": "system:serviceaccount:llm-judge:collector",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def test_cloudwatch_policy_is_exactly_one_allow_statement():
    assert cloudwatch_metrics_read_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadCloudWatchMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricStatistics", "iam:ListAccountAliases"],
                "Resource": "*",
            }
        ],
    }


def test_secret_policy_is_exactly_read_and_decrypt_through_secrets_manager():
    secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:c/grafana-AbCdEf"
    key = "arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-0b0a-0908-0706-050403020100"
    read = {
        "Sid": "ReadGrafanaCloudCredentials",
        "Effect": "Allow",
        "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        "Resource": secret,
    }
    assert secret_read_policy(secret, None, "eu-west-1") == {"Version": "2012-10-17", "Statement": [read]}
    # kms:ViaService: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    assert secret_read_policy(secret, key, "eu-west-1") == {
        "Version": "2012-10-17",
        "Statement": [
            read,
            {
                "Sid": "DecryptThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
            },
        ],
    }


def test_node_role_trust_and_managed_policies_are_the_documented_ones():
    # https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html: EC2 assumes the node
    # role, which carries AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly and
    # AmazonEKS_CNI_Policy; the EBS CSI driver's role: AmazonEBSCSIDriverPolicy (service-role/ path),
    # https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html
    assert ec2_trust_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    assert sorted(NODE_MANAGED_POLICIES) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]
    assert EBS_CSI_MANAGED_POLICY == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    # The add-on's controller service account (aws-ebs-csi-driver chart: ebs-csi-controller-sa).
    assert (EBS_CSI_SERVICE_ACCOUNT.namespace, EBS_CSI_SERVICE_ACCOUNT.name) == (
        "kube-system",
        "ebs-csi-controller-sa",
    )


def test_a_long_name_is_prefix_hash_suffix_exactly_64_characters():
    # README "IAM role names": the suffix kept whole, an 8-hex hash of the full name in between.
    cluster = "c" * 63
    full = f"{cluster}-nodes"
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    expected = "c" * (64 - len("-nodes") - 1 - 8) + f"-{digest}-nodes"
    assert len(expected) == 64
    assert role_name(cluster, "nodes") == expected


def test_a_suffix_leaving_no_room_for_the_prefix_is_refused():
    # 64 = 1 character of prefix + "-" + 8 hex + "-" + 53 of suffix: the longest suffix that fits.
    fits = role_name("c" * 63, "s" * 53)
    assert len(fits) == 64 and fits.startswith("c-")
    with pytest.raises(ValueError, match="leaves no room"):
        role_name("c" * 63, "s" * 54)
