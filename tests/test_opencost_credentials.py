"""OpenCost's credential may read, on both stacks: followed through what the program registers.

From the Helm values OpenCost is given (Secret and key names) to the value the cluster's Secret
holds under that key (local: the Secret the program writes; eks: the Secrets Manager value the
ExternalSecret copies, property by property), to the access-policy token that value is, to that
token's policy: it must grant `metrics:read`, which reading Grafana Cloud's Mimir needs
(https://grafana.com/docs/grafana-cloud/security-and-account-management/authentication-and-permissions/access-policies/#scopes),
and pass the policy pack's scope rule. Mock tokens and policy ids are distinct per policy
(tools.mocks.placeholder_token / placeholder_policy_id), so the value identifies its token.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from builders.credentials import SECRET_NAME
from policy.rules import violations
from tests.support import stack_registrations, stack_values
from tools.mocks import PLACEHOLDER_STACK, Registration, computed_outputs, placeholder_policy_id, unwrap

POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
TOKEN = "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken"


def _only(registrations: list[Registration], what: str) -> Registration:
    assert len(registrations) == 1, f"expected one {what}, found {[r.name for r in registrations]}"
    return registrations[0]


def secret_value(stack: str, secret_name: str, key: str) -> Any:
    """What the cluster's Secret `secret_name` holds under `key`, as this stack delivers it."""
    registrations = stack_registrations(stack)
    secrets = [
        r
        for r in registrations
        if r.type == "kubernetes:core/v1:Secret" and r.inputs["metadata"]["name"] == secret_name
    ]
    if stack == "local":
        return unwrap(_only(secrets, "Secret").inputs["stringData"])[key]
    assert secrets == [], "on eks External Secrets writes the Secret"
    external = _only(
        [
            r
            for r in registrations
            if r.type == "kubernetes:external-secrets.io/v1:ExternalSecret"
            and r.inputs["spec"]["target"]["name"] == secret_name
        ],
        "ExternalSecret",
    )
    (entry,) = [d for d in external.inputs["spec"]["data"] if d["secretKey"] == key]
    version = _only(
        [r for r in registrations if r.type == "aws:secretsmanager/secretVersion:SecretVersion"],
        "SecretVersion",
    )
    return json.loads(unwrap(version.inputs["secretString"]))[entry["remoteRef"]["property"]]


def policy_of_token_value(stack: str, value: Any) -> Registration:
    registrations = stack_registrations(stack)
    now = dt.datetime.now(dt.UTC)
    token = _only(
        [
            r
            for r in registrations
            if r.type == TOKEN and computed_outputs(r.type, r.inputs, now)["token"] == value
        ],
        "token with that value",
    )
    return _only(
        [
            r
            for r in registrations
            if r.type == POLICY and placeholder_policy_id(r.inputs["name"]) == token.inputs["accessPolicyId"]
        ],
        "policy of that token",
    )


@pytest.mark.parametrize("stack", ["local", "eks"])
def test_opencosts_credential_may_read_metrics(stack: str) -> None:
    prometheus = stack_values(stack)["telemetryServices"]["opencost"]["opencost"]["prometheus"]
    assert prometheus["existingSecretName"] == SECRET_NAME
    user = secret_value(stack, SECRET_NAME, prometheus["username_key"])
    assert user == str(PLACEHOLDER_STACK["prometheusUserId"])  # the stack's Mimir tenant
    policy = policy_of_token_value(stack, secret_value(stack, SECRET_NAME, prometheus["password_key"]))
    assert "metrics:read" in policy.inputs["scopes"]
    (realm,) = policy.inputs["realms"]
    assert (realm["type"], realm["identifier"]) == ("stack", PLACEHOLDER_STACK["id"])  # its label policy:
    # tests/test_read_policies_one_cluster.py
    assert violations(policy.type, policy.inputs, policy.name) == []


@pytest.mark.parametrize("stack", ["local", "eks"])
def test_only_opencost_may_read_and_it_may_only_read(stack: str) -> None:
    """Least privilege both ways: the collectors' token writes, OpenCost's reads metrics only (the
    third policy is tools.verify's read-only one, tests/components/test_verification_access.py)."""
    scopes = {r.inputs["name"]: r.inputs["scopes"] for r in stack_registrations(stack) if r.type == POLICY}
    cluster = stack_values(stack)["cluster"]["name"]
    assert set(scopes) == {f"{cluster}-alloy-collectors", f"{cluster}-opencost", f"{cluster}-verify-read"}
    assert scopes[f"{cluster}-opencost"] == ["metrics:read"]
    collectors = scopes[f"{cluster}-alloy-collectors"]
    assert "metrics:write" in collectors and all(s.endswith(":write") for s in collectors)
