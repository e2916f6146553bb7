"""EksCluster: the eks stack's cluster — created with pulumi_eks, or an existing one by name."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from builders.config import PROJECT, EksSettings
from builders.eks_access import access_grants
from builders.iam import NODE_MANAGED_POLICIES, ec2_trust_policy, role_name
from builders.kubeconfig import eks_kubeconfig
from builders.subnets import Subnet, SubnetSelectionError, cluster_subnets


@dataclass(frozen=True)
class ClusterNetwork:
    """Where a created cluster (and its managed node group) goes."""

    vpc_id: str
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class ExistingCluster:
    """An existing cluster as the program needs it (existing_cluster(...))."""

    name: str
    endpoint: str
    certificate_authority: str  # base64 PEM, as EKS returns it
    oidc_issuer_url: str  # https://oidc.eks.<region>.amazonaws.com/id/<id>
    oidc_provider_arn: str  # the account's IAM OIDC provider for that issuer (IRSA)


@dataclass
class EksClusterArgs:
    cluster_name: str
    settings: EksSettings
    aws_provider: aws.Provider
    namespace: str  # the services' namespace, which the preview role may read
    network: ClusterNetwork | None = None  # cluster_network(...); None for an existing cluster
    existing: ExistingCluster | None = None  # existing_cluster(...) with existingClusterName
    # The EBS CSI driver's IRSA role; it needs this cluster's OIDC provider, so it is
    # resolved after this component exists (a deferred Output). Unused for an existing cluster.
    ebs_csi_role_arn: pulumi.Input[str] | None = None


class EksCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]  # secret
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]  # without https://
    # What anything that schedules pods must wait for: the managed node group, and the admins'
    # access (a deployer listed for the first time gets its entry in the same run). Empty for an
    # existing cluster, which the program neither sizes nor gives access to.
    workload_dependencies: Sequence[pulumi.Resource]

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
        assert args.network is not None, "a created cluster needs cluster_network(...) first"
        cluster = eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=settings.kubernetes_version,
            # Access entries instead of the aws-auth ConfigMap.
            authentication_mode=eks.AuthenticationMode.API,
            create_oidc_provider=True,  # for IRSA
            skip_default_node_group=True,  # the managed node group below instead
            vpc_id=args.network.vpc_id,
            # Also the managed node group's: pulumi-eks gives a ManagedNodeGroup without subnetIds
            # the cluster's (nodejs/eks/nodes/nodegroup.ts, "Compute the node group subnets to use").
            subnet_ids=list(args.network.subnet_ids),
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
        admin_access = self._access_entries(name, args, cluster, child)
        self.workload_dependencies = [nodes, *admin_access]
        self.cluster_name = pulumi.Output.from_input(args.cluster_name).apply(lambda n: n)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_issuer = cluster.oidc_issuer

    def _access_entries(
        self, name: str, args: EksClusterArgs, cluster: eks.Cluster, child: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """An access entry and policy per configured principal (builders/eks_access.py says why);
        returns the admins' policy associations."""
        settings = args.settings
        admin_access: list[pulumi.Resource] = []
        for grant in access_grants(
            settings.cluster_admin_principals, settings.cluster_preview_role_arn, args.namespace
        ):
            entry = aws.eks.AccessEntry(
                f"{name}-{grant.key}",
                cluster_name=args.cluster_name,
                principal_arn=grant.principal_arn,
                type="STANDARD",
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[cluster])),
            )
            association = aws.eks.AccessPolicyAssociation(
                f"{name}-{grant.key}-policy",
                cluster_name=args.cluster_name,
                principal_arn=grant.principal_arn,
                policy_arn=grant.policy_arn,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type=grant.scope, namespaces=list(grant.namespaces) or None
                ),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[entry])),
            )
            if grant.admin:
                admin_access.append(association)
        return admin_access

    def _existing(self, args: EksClusterArgs) -> None:
        found = args.existing
        assert found is not None, "an existing cluster needs existing_cluster(...) first"
        region = args.settings.region
        kubeconfig = eks_kubeconfig(found.name, found.endpoint, found.certificate_authority, region)
        self.workload_dependencies = []
        self.cluster_name = pulumi.Output.from_input(found.name)
        self.kubeconfig = pulumi.Output.secret(json.dumps(kubeconfig))
        self.oidc_provider_arn = pulumi.Output.from_input(found.oidc_provider_arn)
        self.oidc_issuer = pulumi.Output.from_input(found.oidc_issuer_url.removeprefix("https://"))


def existing_cluster(settings: EksSettings, aws_provider: aws.Provider) -> ExistingCluster:
    """`existingClusterName`: the cluster and the IAM OIDC provider its IRSA roles trust.

    Plain (blocking) lookups before anything else of the platform is declared, like
    `cluster_network`: a cluster that cannot be read, or one without an IAM OIDC provider, stops the
    run with one message saying what to do (pulumi.RunError), instead of the provider's raw lookup
    error. The provider's OIDC lookup lists the account's providers and matches the issuer; none
    matching is "reading IAM OIDC Provider (<url>): couldn't find resource" (terraform-provider-aws
    internal/service/iam/openid_connect_provider_data_source.go `findOpenIDConnectProviderByURL`).
    EKS creates no IAM OIDC provider for a cluster: its owner does, once
    (https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html).
    """
    name = settings.existing_cluster_name
    assert name, "existing_cluster(...) needs existingClusterName"
    invoke = pulumi.InvokeOptions(provider=aws_provider)
    try:
        found = aws.eks.get_cluster(name=name, opts=invoke)
    except Exception as err:  # the provider's lookup error, whatever it is, goes into the message
        raise pulumi.RunError(
            f'{PROJECT}:existingClusterName = "{name}": cannot read an EKS cluster of that name in '
            f"{settings.region} with the AWS credentials of this run (it needs eks:DescribeCluster): {err}"
        ) from None
    issuer = found.identities[0].oidcs[0].issuer
    try:
        provider = aws.iam.get_open_id_connect_provider(url=issuer, opts=invoke)
    except Exception as err:
        raise pulumi.RunError(
            f"EKS cluster {name} ({PROJECT}:existingClusterName) has no IAM OIDC provider for its issuer "
            f"{issuer} that this run can read, and its IRSA roles (alloy-metrics, external-secrets) must "
            "trust one. Nothing was changed. If it does not exist, its owner creates it once: "
            f"`eksctl utils associate-iam-oidc-provider --cluster {name} --region {settings.region} "
            f"--approve` (or `aws iam create-open-id-connect-provider --url {issuer} --client-id-list "
            "sts.amazonaws.com`); the identity running `pulumi up` also needs iam:ListOpenIDConnectProviders "
            f"and iam:GetOpenIDConnectProvider. The lookup said: {err}"
        ) from None
    return ExistingCluster(
        name=found.name,
        endpoint=found.endpoint,
        certificate_authority=found.certificate_authorities[0].data,
        oidc_issuer_url=issuer,
        oidc_provider_arn=provider.arn,
    )


def cluster_network(settings: EksSettings, aws_provider: aws.Provider) -> ClusterNetwork:
    """The VPC and subnets to create the cluster in: the configured ones, checked, or the default
    VPC's that EKS accepts (builders/subnets.py).

    Plain (blocking) lookups, called before anything else of the platform is declared: a setting
    that cannot work stops the run with one message (pulumi.RunError) instead of failing in
    CreateCluster. (Raised later, after the platform's deferred Outputs exist, the run would wait
    for them forever.)
    """
    region = settings.region
    invoke = pulumi.InvokeOptions(provider=aws_provider)
    if settings.vpc_id:
        vpc_id = settings.vpc_id
    else:
        # DescribeVpcs filter is-default: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcs.html
        default_vpcs = aws.ec2.get_vpcs(
            filters=[aws.ec2.GetVpcsFilterArgs(name="is-default", values=["true"])], opts=invoke
        ).ids
        if not default_vpcs:
            raise pulumi.RunError(
                f"{region} has no default VPC to create the cluster in: set {PROJECT}:vpcId and "
                f"{PROJECT}:subnetIds"
            )
        vpc_id = default_vpcs[0]
    filters = [aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc_id])]
    if settings.subnet_ids:
        filters.append(aws.ec2.GetSubnetsFilterArgs(name="subnet-id", values=list(settings.subnet_ids)))
    found = aws.ec2.get_subnets(filters=filters, opts=invoke).ids
    missing = [s for s in settings.subnet_ids if s not in found]
    if missing:
        raise pulumi.RunError(
            f"{PROJECT}:subnetIds: {', '.join(missing)} not found in {PROJECT}:vpcId {vpc_id} ({region})"
        )
    subnets = [Subnet(i, aws.ec2.get_subnet(id=i, opts=invoke).availability_zone_id) for i in found]
    instance_types = list(settings.node_group.instance_types)
    offerings = aws.ec2.get_instance_type_offerings(
        filters=[aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="instance-type", values=instance_types)],
        location_type="availability-zone-id",
        opts=invoke,
    )
    # Parallel lists: the i-th instance type is offered in the i-th location.
    offered: dict[str, set[str]] = {}
    for instance_type, zone_id in zip(offerings.instance_types, offerings.locations, strict=True):
        offered.setdefault(zone_id, set()).add(instance_type)
    source = (
        f"{PROJECT}:subnetIds = {json.dumps(list(settings.subnet_ids))}"
        if settings.subnet_ids
        else f"the default VPC {vpc_id} of {region}"
    )
    try:
        chosen = cluster_subnets(
            subnets,
            {zone: frozenset(types) for zone, types in offered.items()},
            instance_types,
            explicit=bool(settings.subnet_ids),
            source=source,
        )
    except SubnetSelectionError as err:
        raise pulumi.RunError(str(err)) from None
    return ClusterNetwork(vpc_id=vpc_id, subnet_ids=chosen)
