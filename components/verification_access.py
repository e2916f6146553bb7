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
from builders.grafana_objects import verify_policy_name
from builders.verification import VERIFY_SCOPES


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
        child = pulumi.ResourceOptions(parent=self, provider=args.cloud_provider)
        policy = grafana.cloud.AccessPolicy(
            f"{name}-policy",
            name=verify_policy_name(args.cluster_name),
            display_name=f"Read-only verification of {args.cluster_name}",
            region=args.region,
            scopes=list(VERIFY_SCOPES),
            realms=[grafana.cloud.AccessPolicyRealmArgs(type="stack", identifier=args.stack_id)],
            opts=child,
        )
        # Rotates like the collectors' token (components/grafana_cloud_stack.py): inside its early
        # rotation window the next `pulumi up` creates the replacement first, the stack output
        # follows in the same update, and the old token is deleted. tools.verify reads the output
        # on every run, so it always uses the current token.
        token = grafana.cloud.AccessPolicyRotatingToken(
            f"{name}-token",
            access_policy_id=policy.policy_id,
            region=args.region,
            name_prefix=verify_policy_name(args.cluster_name),
            expire_after=args.token_policy.expire_after,
            early_rotation_window=args.token_policy.early_rotation_window,
            delete_on_destroy=True,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(additional_secret_outputs=["token"])
            ),
        )
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
