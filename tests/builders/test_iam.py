from __future__ import annotations

import re

import pytest

from builders.iam import (
    ROLE_NAME_MAX,
    ServiceAccountRef,
    cloudwatch_metrics_read_policy,
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
