"""IrsaRoles: IAM roles for Kubernetes service accounts, from one declarative list."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from builders.iam import Document, ServiceAccountRef, role_name, web_identity_trust_policy


@dataclass
class IrsaRole:
    """One role: who may assume it (one service account) and what it may do."""

    key: str  # unique in the list; the role's name suffix and output key
    namespace: pulumi.Input[str]
    service_account: pulumi.Input[str]
    policy: pulumi.Input[Document] | None = None  # an inline policy document
    managed_policy_arns: Sequence[str] = ()


@dataclass
class IrsaRolesArgs:
    role_name_prefix: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    roles: Sequence[IrsaRole]
    aws_provider: aws.Provider


class IrsaRoles(pulumi.ComponentResource):
    role_arns: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: IrsaRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:IrsaRoles", name, None, opts)
        keys = [role.key for role in args.roles]
        if len(set(keys)) != len(keys):
            raise ValueError(f"IrsaRoles {name}: role keys must be unique, got {keys}")
        child = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        self._arns: dict[str, pulumi.Output[str]] = {}
        for role in args.roles:
            self._arns[role.key] = self._role(name, args, role, child)
        self.role_arns = pulumi.Output.all(**self._arns)
        self.register_outputs({"role_arns": self.role_arns})

    def role_arn(self, key: str) -> pulumi.Output[str]:
        return self._arns[key]

    def _role(
        self, name: str, args: IrsaRolesArgs, role: IrsaRole, child: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        trust = pulumi.Output.all(
            args.oidc_provider_arn, args.oidc_issuer, role.namespace, role.service_account
        )
        iam_role = aws.iam.Role(
            f"{name}-{role.key}",
            name=role_name(args.role_name_prefix, role.key),
            description=f"IRSA role of a Kubernetes service account ({role.key})",
            assume_role_policy=trust.apply(
                lambda t: json.dumps(web_identity_trust_policy(t[0], t[1], ServiceAccountRef(t[2], t[3])))
            ),
            opts=child,
        )
        grants: list[pulumi.Resource] = []
        if role.policy is not None:
            policy = aws.iam.RolePolicy(
                f"{name}-{role.key}",
                role=iam_role.id,
                policy=pulumi.Output.from_input(role.policy).apply(json.dumps),
                opts=child,
            )
            grants.append(policy)
        for index, arn in enumerate(role.managed_policy_arns):
            attachment = aws.iam.RolePolicyAttachment(
                f"{name}-{role.key}-{index}", role=iam_role.name, policy_arn=arn, opts=child
            )
            grants.append(attachment)
        # The ARN handed on carries the permissions too: whatever uses the role (a service
        # account annotation, an add-on) starts only once they are attached.
        return pulumi.Output.all(iam_role.arn, *[grant.urn for grant in grants]).apply(lambda r: str(r[0]))
