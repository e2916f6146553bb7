"""AppNamespace: the platform's namespace, created if missing, adopted if it exists."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass
class AppNamespaceArgs:
    name: str
    k8s_provider: k8s.Provider


class AppNamespace(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, args: AppNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:AppNamespace", name, None, opts)
        # With server-side apply (the provider's default since v4) creating an object that
        # already exists adopts it instead of failing, so this works on a fresh cluster and on
        # one where the services already run. `retain_on_delete`: the namespace holds the
        # user's services, so `pulumi destroy` never deletes it, whoever created it.
        # https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={"app.kubernetes.io/part-of": "llm-judge"},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider, retain_on_delete=True),
        )
        self.name = namespace.metadata.apply(lambda meta: str(meta.name))
        self.register_outputs({"name": self.name})
