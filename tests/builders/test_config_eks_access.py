"""parse_config for the eks cluster's access settings and subnet count (no Pulumi)."""

from __future__ import annotations

import json

import pytest

from builders.config import PROJECT, ConfigError, parse_config
from tests.builders.test_config import TOKEN_KEY, eks_raw

DEPLOY = "arn:aws:iam::111122223333:role/github-deploy"
SSO = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123abcd"
ALICE = "arn:aws:iam::111122223333:user/alice"
PREVIEW = "arn:aws:iam::111122223333:role/github-preview"


def parse(**values: str):
    return parse_config(eks_raw(**values), {TOKEN_KEY}, "eks")


def problems(**values: str) -> str:
    with pytest.raises(ConfigError) as raised:
        parse(**values)
    return str(raised.value)


def test_admin_principals_and_preview_role_are_typed():
    config = parse(clusterAdminPrincipals=json.dumps([DEPLOY, SSO, ALICE]), clusterPreviewRoleArn=PREVIEW)
    assert config.eks is not None
    assert config.eks.cluster_admin_principals == (DEPLOY, SSO, ALICE)
    assert config.eks.cluster_preview_role_arn == PREVIEW


def test_without_access_settings_nobody_but_the_creator_is_configured():
    config = parse()
    assert config.eks is not None
    assert config.eks.cluster_admin_principals == () and config.eks.cluster_preview_role_arn is None


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:sts::111122223333:assumed-role/github-deploy/session-1",  # a session, not the role
        "arn:aws:iam::111122223333:role/*",
        "arn:aws:iam::111122223333:group/admins",
        "arn:aws:iam::1111:role/deploy",
        "github-deploy",
    ],
)
def test_admin_principals_must_be_role_or_user_arns(bad):
    message = problems(clusterAdminPrincipals=json.dumps([DEPLOY, bad]))
    assert f"{PROJECT}:clusterAdminPrincipals = " in message
    assert bad in message
    assert "IAM role or user ARNs" in message and "assumed-role session ARN" in message


def test_admin_principals_are_each_listed_once():
    assert f"{PROJECT}:clusterAdminPrincipals = " in problems(
        clusterAdminPrincipals=json.dumps([DEPLOY, DEPLOY])
    )


@pytest.mark.parametrize("bad", [ALICE, "arn:aws:sts::111122223333:assumed-role/github-preview/run-9"])
def test_preview_role_must_be_a_role_arn(bad):
    message = problems(clusterPreviewRoleArn=bad)
    assert f'{PROJECT}:clusterPreviewRoleArn = "{bad}": must be an IAM role ARN' in message


def test_the_preview_role_cannot_also_be_an_admin():
    message = problems(clusterAdminPrincipals=json.dumps([PREVIEW]), clusterPreviewRoleArn=PREVIEW)
    assert f"{PROJECT}:clusterPreviewRoleArn" in message and "one access entry" in message


@pytest.mark.parametrize(
    ("key", "value"), [("clusterAdminPrincipals", json.dumps([DEPLOY])), ("clusterPreviewRoleArn", PREVIEW)]
)
def test_access_settings_are_refused_for_an_existing_cluster(key, value):
    message = problems(existingClusterName="shared-prod", **{key: value})
    assert f"{PROJECT}:{key}: only applies to a cluster the program creates" in message
    assert message.count("\n  - ") == 1


def test_one_subnet_cannot_span_two_zones():
    message = problems(vpcId="vpc-0123456789abcdef0", subnetIds='["subnet-0123456789abcdef0"]')
    assert f"{PROJECT}:subnetIds = " in message and "at least two" in message
    parse(vpcId="vpc-0123456789abcdef0", subnetIds='["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]')
