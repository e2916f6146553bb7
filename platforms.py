"""The two platforms' clusters: what differs between stack `local` and stack `eks`.

Each function composes the components of one platform and hands back a `Cluster`: the
Kubernetes provider, the namespace, the resources that put the collectors' credentials in place,
and what the collectors need on that platform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from builders import cloudwatch
from builders.config import StackConfig
from builders.credentials import secret_entries
from builders.iam import (
    EBS_CSI_MANAGED_POLICY,
    EBS_CSI_SERVICE_ACCOUNT,
    cloudwatch_metrics_read_policy,
    secret_read_policy,
)
from builders.k8s_monitoring import METRICS_RECEIVER
from components.alloy_monitoring import AlloyMonitoring
from components.credentials_secret import CredentialsSecret, CredentialsSecretArgs
from components.eks_cluster import EksCluster, EksClusterArgs, cluster_network
from components.external_credentials import ExternalCredentials, ExternalCredentialsArgs
from components.grafana_cloud_stack import GrafanaCloudStack
from components.irsa_roles import IrsaRole, IrsaRoles, IrsaRolesArgs
from components.namespace import AppNamespace, AppNamespaceArgs

RoleArn = tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]


def role_arn() -> RoleArn:
    """An IAM role's ARN, to be resolved once the role is declared."""
    return pulumi.deferred_output()


@dataclass
class Cluster:
    """What the rest of the program needs from a platform's cluster."""

    k8s_provider: k8s.Provider
    namespace: AppNamespace
    credentials: Sequence[pulumi.Resource]  # the collectors start once these exist
    metrics_service_account_annotations: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    metrics_extra_config: str = ""
    # Declared once the collectors' names are known (eks: their IAM roles).
    after_monitoring: Callable[[AlloyMonitoring], None] = lambda _: None
    outputs: dict[str, pulumi.Output] = field(default_factory=dict)


def local_cluster(config: StackConfig, cloud: GrafanaCloudStack) -> Cluster:
    """An existing local cluster; the program writes the credentials Secret itself."""
    k8s_provider = k8s.Provider("local-cluster", context=config.kube_context)
    namespace = AppNamespace("llm-judge", AppNamespaceArgs(name=config.namespace, k8s_provider=k8s_provider))
    secret = CredentialsSecret(
        "grafana-cloud-credentials",
        CredentialsSecretArgs(
            namespace=namespace.name, **credential_values(cloud), k8s_provider=k8s_provider
        ),
    )
    return Cluster(
        k8s_provider=k8s_provider,
        namespace=namespace,
        credentials=[secret],
        outputs={"credentialsSecretName": secret.secret_name},
    )


def eks_cluster(config: StackConfig, cloud: GrafanaCloudStack) -> Cluster:
    """EKS: the cluster (created or existing), credentials through AWS Secrets Manager and
    External Secrets, IRSA roles, and SQS metrics from CloudWatch."""
    assert config.eks is not None  # parse_config guarantees it on platform eks
    eks = config.eks
    aws_provider = aws.Provider("aws", region=eks.region)
    # First: it may refuse the settings, and nothing below may be left waiting when it does.
    network = None if eks.existing_cluster_name else cluster_network(eks, aws_provider)
    # Each IRSA role needs a name only known later (the cluster's OIDC provider, a service
    # account); deferred Outputs let the roles be declared once, in one list, below.
    # (An unresolved deferred Output would keep the run waiting forever: only the roles that
    # exist get one.)
    ebs_csi_role = None if eks.existing_cluster_name else role_arn()
    operator_role, resolve_operator_role = role_arn()
    metrics_role, resolve_metrics_role = role_arn()

    cluster = EksCluster(
        "eks",
        EksClusterArgs(
            cluster_name=config.cluster_name,
            settings=eks,
            aws_provider=aws_provider,
            namespace=config.namespace,
            network=network,
            ebs_csi_role_arn=ebs_csi_role[0] if ebs_csi_role else None,
        ),
    )
    # Everything Kubernetes goes through this provider, so everything that schedules pods (the
    # External Secrets and k8s-monitoring releases, the services' patches) waits for the node group:
    # it comes up minutes after the cluster, and an `atomic` Helm release started before it times out.
    k8s_provider = k8s.Provider(
        "eks-cluster",
        kubeconfig=cluster.kubeconfig,
        opts=pulumi.ResourceOptions(depends_on=cluster.workload_dependencies),
    )
    namespace = AppNamespace("llm-judge", AppNamespaceArgs(name=config.namespace, k8s_provider=k8s_provider))
    credentials = ExternalCredentials(
        "grafana-cloud-credentials",
        ExternalCredentialsArgs(
            cluster_name=config.cluster_name,
            namespace=namespace.name,
            region=eks.region,
            chart_version=eks.external_secrets_chart_version,
            kms_key_arn=eks.secrets_kms_key_arn,
            entries=secret_entries(**credential_values(cloud)),
            operator_role_arn=operator_role,
            credentials_version=cloud.collector_token_expires_at,
            k8s_provider=k8s_provider,
            aws_provider=aws_provider,
        ),
    )

    eks_outputs: dict[str, pulumi.Output] = {
        "clusterName": cluster.cluster_name,
        "kubeconfig": cluster.kubeconfig,
        "credentialsSecretName": credentials.secret_name,
        "credentialsAwsSecretArn": credentials.aws_secret_arn,
    }

    def irsa_roles(monitoring: AlloyMonitoring) -> None:
        roles = [
            IrsaRole(
                "alloy-metrics",
                namespace.name,
                monitoring.metrics_service_account,
                policy=cloudwatch_metrics_read_policy(),
            ),
            IrsaRole(
                "external-secrets",
                credentials.operator_namespace,
                credentials.operator_service_account,
                policy=credentials.aws_secret_arn.apply(
                    lambda arn: secret_read_policy(arn, eks.secrets_kms_key_arn, eks.region)
                ),
            ),
        ]
        if ebs_csi_role:
            roles.append(
                IrsaRole(
                    "ebs-csi-driver",
                    EBS_CSI_SERVICE_ACCOUNT.namespace,
                    EBS_CSI_SERVICE_ACCOUNT.name,
                    managed_policy_arns=[EBS_CSI_MANAGED_POLICY],
                )
            )
        irsa = IrsaRoles(
            "irsa",
            IrsaRolesArgs(
                role_name_prefix=config.cluster_name,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                roles=roles,
                aws_provider=aws_provider,
            ),
        )
        resolve_metrics_role(irsa.role_arn("alloy-metrics"))
        resolve_operator_role(irsa.role_arn("external-secrets"))
        if ebs_csi_role:
            ebs_csi_role[1](irsa.role_arn("ebs-csi-driver"))
        eks_outputs["irsaRoleArns"] = irsa.role_arns

    return Cluster(
        k8s_provider=k8s_provider,
        namespace=namespace,
        credentials=[credentials],
        metrics_service_account_annotations=metrics_role.apply(
            lambda arn: {"eks.amazonaws.com/role-arn": arn}
        ),
        metrics_extra_config=cloudwatch.alloy_config(
            region=eks.region, queues=eks.sqs_queues, forward_to=METRICS_RECEIVER
        ),
        after_monitoring=irsa_roles,
        outputs=eks_outputs,
    )


def credential_values(cloud: GrafanaCloudStack) -> dict[str, pulumi.Output[str]]:
    """The credentials Secret's values, from the Grafana Cloud stack and the collectors' token."""
    return {
        "instance_id": cloud.stack_id,
        "token": cloud.collector_token,
        "otlp_endpoint": cloud.otlp_url,
        "prometheus_endpoint": cloud.prometheus_remote_write_endpoint,
        "prometheus_user": cloud.prometheus_user_id,
        "loki_endpoint": cloud.loki_push_url,
        "loki_user": cloud.logs_user_id,
    }
