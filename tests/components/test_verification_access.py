"""tools.verify's read-only access, in the whole program under mocks: policy, token, stack outputs."""

from __future__ import annotations

import pulumi

from builders.verification import VERIFY_SCOPES, query_endpoints
from tests.support import named, prepared, settled
from tools.mocks import PLACEHOLDER_STACK, placeholder_policy_id, placeholder_token

POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
TOKEN = "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken"


@pulumi.runtime.test
def test_policy_reads_this_stack_and_this_clusters_metrics_and_logs_only():
    run = prepared("local").start()

    def check(run):
        policy = named(run, POLICY, "verify-policy")
        assert policy.inputs["name"] == "llm-judge-local-verify-read"
        assert policy.inputs["scopes"] == list(VERIFY_SCOPES)
        assert policy.inputs["realms"] == [
            {
                "type": "stack",
                "identifier": PLACEHOLDER_STACK["id"],
                "labelPolicies": [{"selector": '{cluster="llm-judge-local"}'}],  # its metrics, logs
            }
        ]
        assert policy.inputs["region"] == PLACEHOLDER_STACK["regionSlug"]

    return settled(run, check)


@pulumi.runtime.test
def test_token_rotates_like_the_collectors_token():
    run = prepared("local", collectorTokenLifetimeDays="60", collectorTokenRotateBeforeDays="10").start()

    def check(run):
        token = named(run, TOKEN, "verify-token")
        collectors = named(run, TOKEN, "grafana-cloud-collectors-token")
        assert token.inputs["expireAfter"] == collectors.inputs["expireAfter"] == "1440h"
        assert token.inputs["earlyRotationWindow"] == collectors.inputs["earlyRotationWindow"] == "240h"
        assert token.inputs["deleteOnDestroy"] is True
        assert token.inputs["namePrefix"] == "llm-judge-local-verify-read"
        # the verification policy's policyId (the mock gives each policy its own)
        assert token.inputs["accessPolicyId"] == placeholder_policy_id("llm-judge-local-verify-read")

    return settled(run, check)


@pulumi.runtime.test
def test_outputs_carry_the_secret_token_and_the_endpoints_of_the_stack_lookup():
    run = prepared("eks").start()
    token = run.outputs["verifyToken"]

    def check(values):
        is_secret, value, endpoints, expires_at = values
        assert is_secret
        assert value == placeholder_token("llm-judge-eks-prod-verify-read")  # the mock token's value
        # Built from the lookup's camelCase answer, not from copies of the placeholder URLs.
        assert endpoints == query_endpoints(PLACEHOLDER_STACK)
        assert endpoints["tempoUrl"] == PLACEHOLDER_STACK["tracesUrl"] + "/tempo"
        assert endpoints["tempoUserId"] == str(PLACEHOLDER_STACK["tracesUserId"])
        assert expires_at.endswith("Z")

    return pulumi.Output.all(
        pulumi.Output.from_input(token.is_secret()),
        token,
        run.outputs["verifyEndpoints"],
        run.outputs["verifyTokenExpiresAt"],
    ).apply(check)
