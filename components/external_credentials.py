"""ExternalCredentials (eks): the Grafana Cloud credentials in AWS Secrets Manager, brought into
the cluster by the External Secrets Operator as Secret `grafana-cloud-credentials`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from builders.credentials import SECRET_NAME
from builders.external_secrets import (
    API_VERSION,
    CHART,
    CHART_REPOSITORY,
    OPERATOR_ACCOUNT,
    STORE_NAME,
    aws_secret_name,
    cluster_secret_store_spec,
    external_secret_spec,
    operator_values,
)

OPERATOR_READY_TIMEOUT_SECONDS = 300  # three small Deployments; images pull in well under that


@dataclass
class ExternalCredentialsArgs:
    cluster_name: str
    namespace: pulumi.Input[str]  # where the Secret must appear
    region: str
    chart_version: str
    kms_key_arn: str | None
    entries: Mapping[str, pulumi.Input[str]]  # builders.credentials.secret_entries(...)
    operator_role_arn: pulumi.Input[str]  # the operator's IRSA role
    k8s_provider: k8s.Provider
    aws_provider: aws.Provider


class ExternalCredentials(pulumi.ComponentResource):
    aws_secret_arn: pulumi.Output[str]
    secret_name: pulumi.Output[str]
    operator_namespace: pulumi.Output[str]
    operator_service_account: pulumi.Output[str]

    def __init__(
        self, name: str, args: ExternalCredentialsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:ExternalCredentials", name, None, opts)
        on_aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        on_k8s = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)

        secret = aws.secretsmanager.Secret(
            f"{name}-aws-secret",
            name=aws_secret_name(args.cluster_name),
            description="Grafana Cloud credentials of the Alloy collectors (managed by Pulumi)",
            kms_key_id=args.kms_key_arn,  # None: the account's aws/secretsmanager key
            recovery_window_in_days=7,
            opts=on_aws,
        )
        entries_json: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(**args.entries).apply(lambda entries: json.dumps(entries))
        )
        secret_value = aws.secretsmanager.SecretVersion(
            f"{name}-aws-secret-value",
            secret_id=secret.id,
            secret_string=entries_json,
            opts=on_aws,
        )

        operator_namespace = k8s.core.v1.Namespace(
            f"{name}-operator-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=OPERATOR_ACCOUNT.namespace),
            opts=on_k8s,
        )
        operator = k8s.helm.v3.Release(
            f"{name}-operator",
            name="external-secrets",
            namespace=OPERATOR_ACCOUNT.namespace,
            chart=CHART,
            version=args.chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            values=pulumi.Output.from_input(args.operator_role_arn).apply(operator_values),
            atomic=True,
            cleanup_on_fail=True,
            timeout=OPERATOR_READY_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions.merge(
                on_k8s, pulumi.ResourceOptions(depends_on=[operator_namespace])
            ),
        )
        store = k8s.apiextensions.CustomResource(
            f"{name}-store",
            api_version=API_VERSION,
            kind="ClusterSecretStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=STORE_NAME),
            spec=cluster_secret_store_spec(args.region),
            opts=pulumi.ResourceOptions.merge(on_k8s, pulumi.ResourceOptions(depends_on=[operator])),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-external-secret",
            api_version=API_VERSION,
            kind="ExternalSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRET_NAME,
                namespace=args.namespace,
                # Wait until the operator has written the Secret, so whatever depends on this
                # component (the collectors) starts with its credentials in place.
                annotations={"pulumi.com/waitFor": "condition=Ready"},
            ),
            spec=external_secret_spec(aws_secret_name(args.cluster_name)),
            opts=pulumi.ResourceOptions.merge(
                on_k8s, pulumi.ResourceOptions(depends_on=[store, secret_value])
            ),
        )

        self.aws_secret_arn = secret.arn
        self.secret_name = pulumi.Output.from_input(SECRET_NAME)
        self.operator_namespace = pulumi.Output.from_input(OPERATOR_ACCOUNT.namespace)
        self.operator_service_account = pulumi.Output.from_input(OPERATOR_ACCOUNT.name)
        self.register_outputs(
            {
                "aws_secret_arn": self.aws_secret_arn,
                "secret_name": self.secret_name,
                "operator_namespace": self.operator_namespace,
                "operator_service_account": self.operator_service_account,
            }
        )
