"""EKS access entries as data: who is admin, what the preview role may read (no Pulumi)."""

from __future__ import annotations

import pytest

from builders.eks_access import access_grants, access_policy_arn, principal_key

DEPLOY = "arn:aws:iam::111122223333:role/github-deploy"
SSO = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123abcd"
ALICE = "arn:aws:iam::111122223333:user/alice"
PREVIEW = "arn:aws:iam::111122223333:role/github-preview"


def test_admins_get_cluster_admin_on_the_whole_cluster():
    grants = access_grants([DEPLOY, SSO, ALICE], None, "llm-judge")
    assert [g.principal_arn for g in grants] == [DEPLOY, SSO, ALICE]
    for grant in grants:
        assert grant.policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert grant.scope == "cluster" and grant.namespaces == () and grant.admin


def test_the_preview_role_views_the_app_namespace_only():
    (grant,) = access_grants([], PREVIEW, "llm-judge")
    assert grant.policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    assert grant.scope == "namespace" and grant.namespaces == ("llm-judge",)
    assert not grant.admin


def test_keys_are_per_principal_stable_across_order_and_distinct_across_accounts():
    other_account = "arn:aws:iam::444455556666:role/github-deploy"
    keys = [g.key for g in access_grants([DEPLOY, other_account, ALICE], PREVIEW, "ns")]
    assert keys == [
        "admin-role-111122223333-github-deploy",
        "admin-role-444455556666-github-deploy",
        "admin-user-111122223333-alice",
        "preview-role-111122223333-github-preview",
    ]
    assert [g.key for g in access_grants([ALICE, DEPLOY], None, "ns")] == [
        "admin-user-111122223333-alice",
        "admin-role-111122223333-github-deploy",
    ]
    assert principal_key(SSO) == "role-111122223333-AWSReservedSSO_Admin_0123abcd"  # the path is dropped


def test_policy_arns_follow_the_principals_partition():
    assert access_policy_arn("arn:aws-us-gov:iam::111122223333:role/x", "AmazonEKSViewPolicy") == (
        "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    )


def test_a_session_arn_is_not_a_principal():
    with pytest.raises(ValueError, match="not an IAM role or user ARN"):
        access_grants(["arn:aws:sts::111122223333:assumed-role/github-deploy/s"], None, "ns")
