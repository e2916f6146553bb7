"""IrsaRoles on its own: a role list that names one key twice is refused."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from components.irsa_roles import IrsaRole, IrsaRoles, IrsaRolesArgs
from tools.program import prepare


@pulumi.runtime.test
def test_a_key_named_twice_is_refused():
    prepare("eks", {}, [])
    provider = aws.Provider("aws", region="eu-west-1")
    roles = [
        IrsaRole("alloy-metrics", "llm-judge", "alloy-metrics"),
        IrsaRole("alloy-metrics", "external-secrets", "external-secrets"),
    ]
    with pytest.raises(ValueError, match=r"role keys must be unique.*'alloy-metrics', 'alloy-metrics'"):
        # role_arn() looks a role up by key: two roles under one key would hand one of them out
        # for both service accounts, each trusted by the other's role.
        IrsaRoles(
            "irsa",
            IrsaRolesArgs(
                role_name_prefix="c1",
                oidc_provider_arn="arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X",
                oidc_issuer="https://oidc.eks.eu-west-1.amazonaws.com/id/X",
                roles=roles,
                aws_provider=provider,
            ),
        )
