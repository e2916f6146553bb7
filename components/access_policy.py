"""A Grafana Cloud access policy on one stack and its rotating token: the one way this program
grants Grafana Cloud access (the collectors', OpenCost's and tools.verify's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from builders.config import TokenPolicy


@dataclass
class PolicyToken:
    policy: grafana.cloud.AccessPolicy
    token: grafana.cloud.AccessPolicyRotatingToken


def policy_with_rotating_token(
    policy_resource: str,
    token_resource: str,
    *,
    policy_name: str,
    display_name: str,
    scopes: Sequence[str],
    stack_id: pulumi.Input[str],
    region: pulumi.Input[str],
    token_policy: TokenPolicy,
    delete_on_destroy: bool,
    opts: pulumi.ResourceOptions,
    label_selectors: Sequence[str] = (),
) -> PolicyToken:
    """An access policy on the stack `stack_id` alone, and its rotating token (lifetime and early
    rotation from `token_policy`; the token also carries `policy_name` as its name prefix).

    Rotation: the provider replaces a rotating token once it is inside its early-rotation window,
    and Pulumi creates the replacement before it deletes the old one; whatever carries the token
    follows in the same `pulumi up`. `delete_on_destroy` says what that delete does:
    - True: the old token is revoked at the end of the update. For a token read afresh on every
      use (tools.verify reads the stack output on each run).
    - False: the provider's delete only drops it from state and the token stays valid until its
      `expiresAt` (terraform-provider-grafana
      internal/resources/cloud/resource_cloud_access_policy_rotating_token.go,
      deleteCloudAccessPolicyRotatingToken). For a token its readers pick up only later
      (External Secrets' sync, then Alloy's re-read of the Secret; OpenCost at its rollout).
      Changing the flag is a state-only update (updateTokenHelper in
      resource_cloud_access_policy_token.go calls the API only for display_name).

    `label_selectors`: a read policy sees only the metrics and logs matching one of them
    (builders.grafana_cloud.cluster_selector); none for write policies.
    `opts` carries the parent component and the Grafana Cloud provider.
    """
    label_policies = [grafana.cloud.AccessPolicyRealmLabelPolicyArgs(selector=s) for s in label_selectors]
    policy = grafana.cloud.AccessPolicy(
        policy_resource,
        name=policy_name,
        display_name=display_name,
        region=region,
        scopes=list(scopes),
        realms=[
            grafana.cloud.AccessPolicyRealmArgs(
                type="stack", identifier=stack_id, label_policies=label_policies or None
            )
        ],
        opts=opts,
    )
    token = grafana.cloud.AccessPolicyRotatingToken(
        token_resource,
        access_policy_id=policy.policy_id,
        region=region,
        name_prefix=policy_name,
        expire_after=token_policy.expire_after,
        early_rotation_window=token_policy.early_rotation_window,
        delete_on_destroy=delete_on_destroy,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["token"])),
    )
    return PolicyToken(policy=policy, token=token)
