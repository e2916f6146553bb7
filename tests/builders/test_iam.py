from __future__ import annotations

import pytest

from builders.iam import (
    ServiceAccountRef,
    cloudwatch_metrics_read_policy,
    issuer_host,
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
