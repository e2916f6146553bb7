"""CredentialsSecret: the Grafana Cloud credentials as a Kubernetes Secret (local stack)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from builders.credentials import SECRET_NAME
from builders.preflight import MANAGED_BY_LABEL, MANAGED_BY_PROGRAM


@dataclass
class CredentialsSecretArgs:
    namespace: pulumi.Input[str]
    entries: Mapping[str, pulumi.Input[str]]  # builders.credentials.secret_entries(...)
    k8s_provider: k8s.Provider


class CredentialsSecret(pulumi.ComponentResource):
    secret_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: CredentialsSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:CredentialsSecret", name, None, opts)
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
            string_data=pulumi.Output.secret(args.entries),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )
        self.secret_name = secret.metadata.apply(lambda meta: str(meta.name))
        self.register_outputs({"secret_name": self.secret_name})
