"""EksCluster: the eks stack's cluster — created with pulumi_eks, or an existing one by name."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from builders.config import EksSettings
from builders.iam import NODE_MANAGED_POLICIES, ec2_trust_policy, role_name
from builders.kubeconfig import eks_kubeconfig


@dataclass
class EksClusterArgs:
    cluster_name: str
    settings: EksSettings
    aws_provider: aws.Provider
    # The EBS CSI driver's IRSA role; it needs this cluster's OIDC provider, so it is
    # resolved after this component exists (a deferred Output). Unused for an existing cluster.
    ebs_csi_role_arn: pulumi.Input[str] | None = None


class EksCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]  # secret
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]  # without https://

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:EksCluster", name, None, opts)
        if args.settings.existing_cluster_name:
            self._existing(args)
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
            }
        )

    def _create(self, name: str, args: EksClusterArgs) -> None:
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        # pulumi_eks components take their AWS provider through `providers`.
        component = pulumi.ResourceOptions(parent=self, providers={"aws": args.aws_provider})
        node_role = aws.iam.Role(
            f"{name}-node-role",
            name=role_name(args.cluster_name, "nodes"),
            assume_role_policy=json.dumps(ec2_trust_policy()),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-role-{i}", role=node_role.name, policy_arn=arn, opts=child
            )
            for i, arn in enumerate(NODE_MANAGED_POLICIES)
        ]
        cluster = eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=settings.kubernetes_version,
            # Access entries instead of the aws-auth ConfigMap.
            authentication_mode=eks.AuthenticationMode.API,
            create_oidc_provider=True,  # for IRSA
            skip_default_node_group=True,  # the managed node group below instead
            vpc_id=settings.vpc_id,
            subnet_ids=list(settings.subnet_ids) or None,
            opts=component,
        )
        nodes = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            node_role=node_role,
            instance_types=list(settings.node_group.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=settings.node_group.min_size,
                desired_size=settings.node_group.desired_size,
                max_size=settings.node_group.max_size,
            ),
            opts=pulumi.ResourceOptions.merge(component, pulumi.ResourceOptions(depends_on=attachments)),
        )
        if args.ebs_csi_role_arn is not None:
            aws.eks.Addon(
                f"{name}-ebs-csi-driver",
                cluster_name=args.cluster_name,
                addon_name="aws-ebs-csi-driver",
                service_account_role_arn=args.ebs_csi_role_arn,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[cluster, nodes])),
            )
        self.cluster_name = pulumi.Output.from_input(args.cluster_name).apply(lambda n: n)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_issuer = cluster.oidc_issuer

    def _existing(self, args: EksClusterArgs) -> None:
        name = args.settings.existing_cluster_name or ""
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=args.aws_provider)
        found = aws.eks.get_cluster_output(name=name, opts=invoke)
        issuer_url = found.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        provider = aws.iam.get_open_id_connect_provider_output(url=issuer_url, opts=invoke)
        # Read the typed field before Output.all, which turns typed results into plain dicts.
        certificate_authority = found.certificate_authorities.apply(lambda cas: cas[0].data)
        kubeconfig = pulumi.Output.all(found.endpoint, certificate_authority).apply(
            lambda r: json.dumps(eks_kubeconfig(name, r[0], r[1], args.settings.region))
        )
        self.cluster_name = found.name
        self.kubeconfig = pulumi.Output.secret(kubeconfig)
        self.oidc_provider_arn = provider.arn
        self.oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))
