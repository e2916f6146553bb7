"""AppNamespace: the platform's namespace, created if missing, adopted on purpose if it exists."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass
class AppNamespaceArgs:
    name: str
    # A provider with `upsert_existing_objects=True`, used for the namespace alone (platforms.py).
    adopting_provider: k8s.Provider


class AppNamespace(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, args: AppNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:AppNamespace", name, None, opts)
        # The namespace exists wherever the services already run (local, an existing EKS cluster).
        # Since pulumi-kubernetes 4.29 a create is a client-side create, and an object that exists
        # fails it with AlreadyExists, unless the provider has upsertExistingObjects: then the
        # create is a server-side apply that adopts the object (provider/pkg/await/await.go
        # `Creation`, l.190 the upsert branch, l.236-246 the client-side create, at 94977969;
        # CHANGELOG 4.29.0).
        # So the namespace alone goes through an upserting provider: adopted on purpose, while
        # every other object keeps failing loudly if it already exists.
        # `retain_on_delete`: the namespace holds the user's services, so `pulumi destroy` never
        # deletes it, whoever created it.
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={"app.kubernetes.io/part-of": "llm-judge"},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.adopting_provider, retain_on_delete=True),
        )
        self.name = namespace.metadata.apply(lambda meta: str(meta.name))
        self.register_outputs({"name": self.name})
