"""VerificationAccess: a read-only Grafana Cloud access policy and rotating token for `tools.verify`.

An access policy of its own, not the stack Grafana's data-source proxy with a Viewer service
account: it reads this stack's metrics, logs and traces and nothing else, and works without the
stack's Grafana (why in full: builders/verification.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from builders.config import TokenPolicy
from builders.grafana_cloud import cluster_selector
from builders.grafana_objects import verify_policy_name
from builders.verification import VERIFY_SCOPES
from components.access_policy import policy_with_rotating_token


@dataclass
class VerificationAccessArgs:
    cluster_name: str
    stack_id: pulumi.Input[str]  # the realm: this Grafana Cloud stack only
    region: pulumi.Input[str]  # the stack's region slug (where access policies live)
    token_policy: TokenPolicy  # the collectors' lifetime and rotation window
    cloud_provider: grafana.Provider  # Grafana Cloud API (access-policy token)


class VerificationAccess(pulumi.ComponentResource):
    policy_name: pulumi.Output[str]
    token: pulumi.Output[str]  # secret
    token_expires_at: pulumi.Output[str]

    def __init__(
        self, name: str, args: VerificationAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:VerificationAccess", name, None, opts)
        # Revoked once replaced (`delete_on_destroy=True`): tools.verify reads the stack output on
        # every run, so it always uses the current token (components/access_policy.py).
        access = policy_with_rotating_token(
            f"{name}-policy",
            f"{name}-token",
            policy_name=verify_policy_name(args.cluster_name),
            display_name=f"Read-only verification of {args.cluster_name}",
            scopes=VERIFY_SCOPES,
            stack_id=args.stack_id,
            region=args.region,
            token_policy=args.token_policy,
            delete_on_destroy=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.cloud_provider),
            # This cluster's metrics and logs only; every query of tools.verify selects them by this
            # label already (tools/verify/checks.py). Its traces:read still reads the whole stack's
            # traces: access policies have no label selectors for traces (builders/grafana_cloud.py).
            # The API takes label policies beside scopes they do not apply to: the provider's own
            # acceptance test creates one with logs:write and accesspolicies:* (terraform-provider-grafana
            # internal/resources/cloud/resource_cloud_access_policy_rotating_token_test.go,
            # testAccCloudAccessPolicyRotatingTokenConfigNoToken).
            label_selectors=[cluster_selector(args.cluster_name)],
        )
        policy, token = access.policy, access.token
        self.policy_name = policy.name
        # Explicitly secret: the provider marks it, but that marking is the engine's, not ours.
        self.token = pulumi.Output.secret(token.token)
        self.token_expires_at = token.expires_at
        self.register_outputs(
            {
                "policy_name": self.policy_name,
                "token": self.token,
                "token_expires_at": self.token_expires_at,
            }
        )
