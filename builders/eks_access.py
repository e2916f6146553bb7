"""Who may reach a cluster the program creates: EKS access entries, as plain data (pure).

pulumi-eks creates the cluster with `bootstrapClusterCreatorAdminPermissions: true` hard-coded
(nodejs/eks/cluster/cluster.ts, accessConfig of the aws.eks.Cluster), so EKS gives the identity
that runs the first `pulumi up` an access entry of its own, outside the program. Everyone else
who deploys (the CI deploy role, people) needs an entry the program manages, or `pulumi up` run by
them cannot reach the cluster. EKS keeps one access entry per principal, so the creator must not
be listed again (CreateAccessEntry answers 409 ResourceInUseException; pulumi/pulumi-eks#2373).

Access policies: https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"  # cluster-admin; cluster scope only
VIEW_POLICY = "AmazonEKSViewPolicy"  # Kubernetes' `view`: get/list/watch, no Secrets

_PRINCIPAL = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):(?P<kind>role|user)/(.+/)?(?P<name>[^/]+)"
)


@dataclass(frozen=True)
class AccessGrant:
    """One access entry and the one access policy associated with it."""

    key: str  # stable per principal: part of the resources' logical names
    principal_arn: str
    policy_arn: str
    scope: str  # "cluster" or "namespace"
    namespaces: tuple[str, ...] = ()
    admin: bool = False  # whoever deploys: Kubernetes resources wait for these


def access_policy_arn(principal_arn: str, policy: str) -> str:
    """An EKS access policy's ARN, in the principal's partition (aws, aws-cn, aws-us-gov)."""
    return f"arn:{_parts(principal_arn)['partition']}:eks::aws:cluster-access-policy/{policy}"


def principal_key(principal_arn: str) -> str:
    """`role-<account>-<name>` / `user-<account>-<name>`: unique per principal and stable when the
    list is reordered (an index would move entries between principals and briefly drop access)."""
    parts = _parts(principal_arn)
    return f"{parts['kind']}-{parts['account']}-{parts['name']}"


def access_grants(
    admin_principals: Sequence[str], preview_role_arn: str | None, namespace: str
) -> list[AccessGrant]:
    """Admins get cluster-admin on the whole cluster; the preview role reads the app namespace.

    The preview role only previews: pulumi-kubernetes tolerates a Forbidden server-side dry run in a
    preview and falls back to the client-side diff (provider/pkg/provider/provider.go at v4.32.0,
    Create line 1800 and Update line 2455: `req.GetPreview() && apierrors.IsForbidden(...)`), and a
    Helm release's preview does not contact the cluster (provider/pkg/provider/helm_release.go,
    Create and Update call Helm only `if !req.GetPreview()`). What a preview does read is the
    services' Deployments and app ConfigMap in `namespace`, which the view policy allows.
    """
    grants = [
        AccessGrant(
            key=f"admin-{principal_key(arn)}",
            principal_arn=arn,
            policy_arn=access_policy_arn(arn, CLUSTER_ADMIN_POLICY),
            scope="cluster",
            admin=True,
        )
        for arn in admin_principals
    ]
    if preview_role_arn is not None:
        grants.append(
            AccessGrant(
                key=f"preview-{principal_key(preview_role_arn)}",
                principal_arn=preview_role_arn,
                policy_arn=access_policy_arn(preview_role_arn, VIEW_POLICY),
                scope="namespace",
                namespaces=(namespace,),
            )
        )
    return grants


def _parts(principal_arn: str) -> dict[str, str]:
    match = _PRINCIPAL.fullmatch(principal_arn)
    if match is None:
        raise ValueError(f"{principal_arn!r} is not an IAM role or user ARN")
    return match.groupdict()
