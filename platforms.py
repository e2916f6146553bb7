"""The two platforms' clusters: what differs between stack `local` and stack `eks`.

Each function composes the components of one platform and hands back a `Cluster`: the
Kubernetes provider, the namespace, the resources that put the collectors' credentials in place,
the preflight everything waits for, and what the collectors need on that platform.

Two Kubernetes providers per cluster: one that never overwrites an object it did not create
(`upsert_existing_objects=False`, set explicitly so PULUMI_K8S_UPSERT_EXISTING_OBJECTS in the
shell cannot turn it on), for everything; and one that adopts (`True`), for the namespace alone.
"""

from __future__ import annotations

import contextvars
import functools
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from builders import cloudwatch
from builders.config import StackConfig
from builders.credentials import SECRET_NAME, secret_entries
from builders.external_secrets import OPERATOR_ACCOUNT
from builders.iam import (
    EBS_CSI_MANAGED_POLICY,
    EBS_CSI_SERVICE_ACCOUNT,
    cloudwatch_metrics_read_policy,
    secret_read_policy,
)
from builders.k8s_monitoring import METRICS_RECEIVER
from components.alloy_monitoring import RELEASE_NAME, AlloyMonitoring
from components.credentials_secret import CredentialsSecret, CredentialsSecretArgs
from components.eks_cluster import EksCluster, EksClusterArgs, cluster_network, existing_cluster
from components.external_credentials import ExternalCredentials, ExternalCredentialsArgs
from components.grafana_cloud_stack import GrafanaCloudStack
from components.irsa_roles import IrsaRole, IrsaRoles, IrsaRolesArgs
from components.namespace import AppNamespace, AppNamespaceArgs
from dynamic.cluster_preflight import ClusterPreflight

RoleArn = tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]
Program = TypeVar("Program", bound=Callable[..., Any])


@dataclass
class _Deferred:
    what: str
    resolve: Callable[[pulumi.Output[Any]], None]
    resolved: bool = False


_pending: contextvars.ContextVar[list[_Deferred] | None] = contextvars.ContextVar("deferred", default=None)


def deferred(what: str) -> tuple[pulumi.Output[Any], Callable[[pulumi.Output[Any]], None]]:
    """A value to be resolved later in the program (a role ARN, the cluster preflight).

    Only inside `settles_deferred_outputs`: a deferred Output left unresolved keeps the run waiting.
    Every deferred Output of the program comes from here (tests/test_deferred_outputs.py checks it).
    """
    pending = _pending.get()
    if pending is None:
        raise RuntimeError(f"deferred({what!r}) outside settles_deferred_outputs")
    output, resolve = pulumi.deferred_output()  # type: ignore[var-annotated]
    entry = _Deferred(what, resolve)
    pending.append(entry)

    def resolve_once(value: pulumi.Output[Any]) -> None:
        entry.resolved = True
        resolve(value)

    return output, resolve_once


def role_arn(what: str) -> RoleArn:
    """An IAM role's ARN, to be resolved once the role is declared."""
    return deferred(what)


def settles_deferred_outputs(program: Program) -> Program:
    """Run `program` so that no deferred Output outlives it unresolved.

    After a program raises, the SDK still awaits every outstanding registration before it reports
    the error (pulumi/runtime/stack.py `run_pulumi_func`: the exception is kept, then
    `await wait_for_rpcs()`), and a resource whose input waits on a deferred Output nobody
    resolves never registers: an error between `role_arn()` and its resolution kept `pulumi up`
    (and the synth) waiting forever without a word. Here the program's error, or a resolution
    it forgot, fails every pending Output at once, so the run ends with that error's message.
    """

    @functools.wraps(program)
    def run(*args: Any, **kwargs: Any) -> Any:
        pending: list[_Deferred] = []
        token = _pending.set(pending)
        try:
            result = program(*args, **kwargs)
            forgotten = [d.what for d in pending if not d.resolved]
            if forgotten:
                raise RuntimeError(f"deferred outputs never resolved: {forgotten}")
            return result
        except BaseException as err:
            for deferred in pending:
                if not deferred.resolved:
                    deferred.resolved = True
                    deferred.resolve(_failed(err))
            raise
        finally:
            _pending.reset(token)

    return run  # type: ignore[return-value]


class ProgramStoppedError(Exception):
    """The program stopped before it resolved a deferred Output; the cause is why."""


def _failed(err: BaseException) -> pulumi.Output[str]:
    """An Output that fails with the program's error, so whatever awaits it ends the run with it.

    Not re-raised as it is: the SDK rewraps a ValueError at every input and resource it passes
    through (pulumi/runtime/rpc.py, runtime/resource.py "While processing ..."), and re-raises the
    failed registration's error `from` itself (runtime/stack.py `wait_for_rpcs`), which drops a
    cause. So a RunError (the one-message error, e.g. bad config) goes through unchanged, anything
    else (a bug) carries the program's own traceback in its message.
    """
    where = "".join(traceback.format_exception(err)).rstrip()

    def fail(_: object) -> str:
        if isinstance(err, pulumi.RunError):
            raise err
        raise ProgramStoppedError(f"{type(err).__name__}: {err}\n\nThe program stopped here:\n{where}")

    return pulumi.Output.from_input("").apply(fail)


@dataclass
class Cluster:
    """What the rest of the program needs from a platform's cluster."""

    k8s_provider: k8s.Provider
    namespace: AppNamespace
    credentials: Sequence[pulumi.Resource]  # the collectors start once these exist
    # Passed when the namespace holds nothing this program did not make; what changes anything
    # waits for it (dynamic/cluster_preflight.py).
    preflight: pulumi.Resource
    metrics_service_account_annotations: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    metrics_extra_config: str = ""
    # Declared once the collectors' names are known (eks: their IAM roles).
    after_monitoring: Callable[[AlloyMonitoring], None] = lambda _: None
    outputs: dict[str, pulumi.Output] = field(default_factory=dict)


def local_cluster(config: StackConfig, cloud: GrafanaCloudStack) -> Cluster:
    """An existing local cluster; the program writes the credentials Secret itself."""
    k8s_provider = k8s.Provider("local-cluster", context=config.kube_context, upsert_existing_objects=False)
    adopting = k8s.Provider(
        "local-cluster-adopting", context=config.kube_context, upsert_existing_objects=True
    )
    preflight = cluster_preflight(config, kube_context=config.kube_context)
    after_preflight = pulumi.ResourceOptions(depends_on=[preflight])
    namespace = AppNamespace(
        "llm-judge", AppNamespaceArgs(name=config.namespace, adopting_provider=adopting), after_preflight
    )
    secret = CredentialsSecret(
        "grafana-cloud-credentials",
        CredentialsSecretArgs(
            namespace=namespace.name,
            entries=credential_entries(cloud),
            k8s_provider=k8s_provider,
        ),
        after_preflight,
    )
    return Cluster(
        k8s_provider=k8s_provider,
        namespace=namespace,
        credentials=[secret],
        preflight=preflight,
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
    existing = existing_cluster(eks, aws_provider) if eks.existing_cluster_name else None
    # Each IRSA role needs a name only known later (the cluster's OIDC provider, a service
    # account); deferred Outputs let the roles be declared once, in one list, below.
    # (`settles_deferred_outputs` fails them if the program stops before resolving them.)
    ebs_csi_role = None if eks.existing_cluster_name else role_arn("ebs-csi-driver")
    reader_role, resolve_reader_role = role_arn("external-secrets")
    metrics_role, resolve_metrics_role = role_arn("alloy-metrics")

    cluster = EksCluster(
        "eks",
        EksClusterArgs(
            cluster_name=config.cluster_name,
            settings=eks,
            aws_provider=aws_provider,
            namespace=config.namespace,
            network=network,
            existing=existing,
            ebs_csi_role_arn=ebs_csi_role[0] if ebs_csi_role else None,
        ),
    )
    # Everything Kubernetes goes through these providers, so everything that schedules pods (the
    # External Secrets and k8s-monitoring releases, the services' patches) waits for the node group:
    # it comes up minutes after the cluster, and an `atomic` Helm release started before it times out.
    after_nodes = pulumi.ResourceOptions(depends_on=cluster.workload_dependencies)
    k8s_provider = k8s.Provider(
        "eks-cluster", kubeconfig=cluster.kubeconfig, upsert_existing_objects=False, opts=after_nodes
    )
    adopting = k8s.Provider(
        "eks-cluster-adopting", kubeconfig=cluster.kubeconfig, upsert_existing_objects=True, opts=after_nodes
    )
    # The preflight reads the cluster with the same kubeconfig, so it waits for the same access entries.
    preflight = cluster_preflight(
        config,
        kubeconfig=cluster.kubeconfig,
        # Where the program installs External Secrets: the first run stops if the cluster runs it already.
        external_secrets_namespace=(
            OPERATOR_ACCOUNT.namespace if eks.external_secrets_chart_version is not None else None
        ),
        opts=after_nodes,
    )
    after_preflight = pulumi.ResourceOptions(depends_on=[preflight])
    namespace = AppNamespace(
        "llm-judge", AppNamespaceArgs(name=config.namespace, adopting_provider=adopting), after_preflight
    )
    credentials = ExternalCredentials(
        "grafana-cloud-credentials",
        ExternalCredentialsArgs(
            cluster_name=config.cluster_name,
            namespace=namespace.name,
            region=eks.region,
            # None with externalSecretsOperator: existing (the cluster's own External Secrets).
            chart_version=eks.external_secrets_chart_version,
            kms_key_arn=eks.secrets_kms_key_arn,
            entries=credential_entries(cloud),
            reader_role_arn=reader_role,
            # Changes whenever one of the tokens in the Secret is rotated.
            credentials_version=cloud.cluster_tokens_expire_at.apply(",".join),
            k8s_provider=k8s_provider,
            aws_provider=aws_provider,
        ),
        after_preflight,
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
                credentials.reader_namespace,
                credentials.reader_service_account,
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
            after_preflight,
        )
        resolve_metrics_role(irsa.role_arn("alloy-metrics"))
        resolve_reader_role(irsa.role_arn("external-secrets"))
        if ebs_csi_role:
            ebs_csi_role[1](irsa.role_arn("ebs-csi-driver"))
        eks_outputs["irsaRoleArns"] = irsa.role_arns

    return Cluster(
        k8s_provider=k8s_provider,
        namespace=namespace,
        credentials=[credentials],
        preflight=preflight,
        metrics_service_account_annotations=metrics_role.apply(
            lambda arn: {"eks.amazonaws.com/role-arn": arn}
        ),
        metrics_extra_config=cloudwatch.alloy_config(
            region=eks.region, queues=eks.sqs_queues, forward_to=METRICS_RECEIVER
        ),
        after_monitoring=irsa_roles,
        outputs=eks_outputs,
    )


def cluster_preflight(
    config: StackConfig,
    kube_context: str | None = None,
    kubeconfig: pulumi.Input[str] | None = None,
    external_secrets_namespace: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> ClusterPreflight:
    """Reads the cluster as the Kubernetes providers will (same context or kubeconfig)."""
    return ClusterPreflight(
        "cluster-preflight",
        namespace=config.namespace,
        secret_name=SECRET_NAME,
        release_name=RELEASE_NAME,
        kube_context=kube_context,
        kubeconfig=kubeconfig,
        external_secrets_namespace=external_secrets_namespace,
        opts=opts,
    )


def credential_entries(cloud: GrafanaCloudStack) -> dict[str, pulumi.Output[str]]:
    """The credentials Secret's entries, the same on both platforms: the Grafana Cloud stack's
    endpoints and users, the collectors' token and, when there is one, OpenCost's read-only token."""
    return secret_entries(
        instance_id=cloud.stack_id,
        token=cloud.collector_token,
        otlp_endpoint=cloud.otlp_url,
        prometheus_endpoint=cloud.prometheus_remote_write_endpoint,
        prometheus_user=cloud.prometheus_user_id,
        loki_endpoint=cloud.loki_push_url,
        loki_user=cloud.logs_user_id,
        opencost_token=cloud.opencost_token,
    )
