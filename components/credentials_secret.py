"""CredentialsSecret: the Grafana Cloud credentials as a Kubernetes Secret (local stack)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from builders.credentials import SECRET_NAME, secret_entries
from builders.preflight import MANAGED_BY_LABEL, MANAGED_BY_PROGRAM


@dataclass
class CredentialsSecretArgs:
    namespace: pulumi.Input[str]
    instance_id: pulumi.Input[str]
    token: pulumi.Input[str]
    otlp_endpoint: pulumi.Input[str]
    prometheus_endpoint: pulumi.Input[str]
    prometheus_user: pulumi.Input[str]
    loki_endpoint: pulumi.Input[str]
    loki_user: pulumi.Input[str]
    k8s_provider: k8s.Provider
    opencost_token: pulumi.Input[str] | None = None  # OpenCost's read-only token (cost metrics on)


class CredentialsSecret(pulumi.ComponentResource):
    secret_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: CredentialsSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:CredentialsSecret", name, None, opts)
        entries = secret_entries(
            instance_id=args.instance_id,
            token=args.token,
            otlp_endpoint=args.otlp_endpoint,
            prometheus_endpoint=args.prometheus_endpoint,
            prometheus_user=args.prometheus_user,
            loki_endpoint=args.loki_endpoint,
            loki_user=args.loki_user,
            opencost_token=args.opencost_token,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRET_NAME,
                namespace=args.namespace,
                # How the cluster preflight tells this Secret from one made by hand.
                labels={MANAGED_BY_LABEL: MANAGED_BY_PROGRAM},
            ),
            type="Opaque",
            # The whole map is a secret: state and previews never show any entry.
            string_data=pulumi.Output.secret(entries),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )
        self.secret_name = secret.metadata.apply(lambda meta: str(meta.name))
        self.register_outputs({"secret_name": self.secret_name})
