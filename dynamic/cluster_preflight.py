"""ClusterPreflight: before the program changes anything, look at what the namespace already holds.

A dynamic resource whose provider reads the cluster in `check`. The engine calls `check` for
every registered resource in `pulumi preview` and in `pulumi up`, before it diffs, creates or
updates it (https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/); a check
failure is reported as "<type> resource '<name>' has a problem: <reason>" (pulumi/pulumi
pkg/diag/errors.go GetResourceInvalidError) and ends the run. Everything that changes something
waits for this resource (platforms.py, __main__.py), so a failure here comes before any change,
in a preview as in an update.

What it reads, with the kubeconfig context (local) or kubeconfig (eks) the Kubernetes provider
uses: the credentials Secret and the Helm release's storage Secrets in the namespace (RBAC: get
and list Secrets there; a role without them, such as the read-only PR preview role, skips the
check). On eks, where the program installs External Secrets, the stack's first run (no preflight in
its state yet) also reads the ExternalSecret CRD and the operator's namespace (get on both, cluster
scope). `builders.preflight` decides. While the kubeconfig is unknown (a preview
of a cluster this run creates) nothing is read: a cluster that does not exist holds nothing.

It reads through clients.kube, the standard-library Kubernetes client tools.verify uses too (kubeconfig
merging, contexts, CA and client certificates, tokens, exec credential plugins such as `aws eks
get-token`), and runs its message through that client's Redactor. Like
dynamic/grafana_com_dashboard.py, this module imports only the standard library, pyyaml, Pulumi,
the pure builders and clients/, and does nothing at import.

What the state keeps: the inputs (the kubeconfig among them, a secret) and, as outputs, only the
namespace; `diff` needs nothing and `delete` is the default no-op.

DO NOT MOVE OR RENAME this module or `ClusterPreflightProvider`. As for
dynamic/grafana_com_dashboard.py, the engine stores the provider in every stack's state as a pickle
(input `__provider`, pulumi/dynamic/dynamic.py serialize_provider: dill, class by reference) that
names `dynamic.cluster_preflight` and `ClusterPreflightProvider`, and unpickles that stored copy to
diff, refresh and delete the resource (pulumi/dynamic/__main__.py get_provider). Moved, every existing
stack's `pulumi destroy` and `pulumi refresh` fail to import it. Keep the provider free of instance
attributes too: they would be pickled into state. tests/dynamic/test_cluster_preflight.py guards both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider
from pulumi.runtime import rpc

from builders.preflight import (
    EXTERNAL_SECRETS_CRD,
    ExternalSecretsSeen,
    HelmRevision,
    SecretSeen,
    external_secrets_message,
    handover_message,
    handovers,
    helm_history_selector,
)
from clients.http import RequestError
from clients.kube import KubeClient, client_for, default_kubeconfig_paths, load_kubeconfig, parse_kubeconfig
from clients.redact import Redactor

INPUT_KEYS = (
    "namespace",
    "secret_name",
    "release_name",
    "kube_context",
    "kubeconfig",
    "external_secrets_namespace",
)


@dataclass(frozen=True)
class Target:
    namespace: str
    secret_name: str
    release_name: str
    kube_context: str | None = None
    kubeconfig: str | None = None  # JSON or YAML text
    # Where the program installs External Secrets (eks, externalSecretsOperator: install); None: it
    # installs none (local, or the cluster's own External Secrets).
    external_secrets_namespace: str | None = None

    @classmethod
    def from_props(cls, props: dict[str, Any]) -> Target | None:
        """None while any input is still unknown (the engine's preview of an uncreated cluster)."""
        values: dict[str, Any] = {key: props.get(key) for key in INPUT_KEYS}
        if any(v == rpc.UNKNOWN for v in values.values()):
            return None
        return cls(**values)

    @property
    def cluster(self) -> str:
        return f"kubeconfig context {self.kube_context}" if self.kube_context else "the cluster's kubeconfig"


def read_namespace(target: Target, kube: KubeClient) -> tuple[SecretSeen | None, list[HelmRevision]]:
    """The credentials Secret (None if absent) and the release's Helm history, through the API."""
    secrets = f"/api/v1/namespaces/{target.namespace}/secrets"
    try:
        secret = SecretSeen.from_object(kube.get_json(f"{secrets}/{target.secret_name}"))
    except RequestError as err:
        if err.status != 404:
            raise
        secret = None
    history = kube.get_json(secrets, {"labelSelector": helm_history_selector(target.release_name)})
    return secret, [HelmRevision.from_storage_secret(s) for s in history.get("items") or []]


def read_external_secrets(target: Target, kube: KubeClient) -> ExternalSecretsSeen:
    """Whether External Secrets' CRD and the operator's namespace exist."""

    def exists(path: str) -> bool:
        try:
            kube.get_json(path)
        except RequestError as err:
            if err.status != 404:
                raise
            return False
        return True

    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    return ExternalSecretsSeen(
        crd=exists(f"{crds}/{EXTERNAL_SECRETS_CRD}"),
        namespace=exists(f"/api/v1/namespaces/{target.external_secrets_namespace or ''}"),
    )


def kube_client_for(target: Target, redactor: Redactor) -> KubeClient:
    """A Kubernetes API client configured like the program's Kubernetes provider."""
    if target.kubeconfig:
        return client_for(parse_kubeconfig(target.kubeconfig), None, redactor)
    # Default loading rules, as the provider's: $KUBECONFIG (a list of files) or ~/.kube/config.
    return client_for(load_kubeconfig(default_kubeconfig_paths()), target.kube_context, redactor)


def preflight_failure(target: Target, first_run: bool = False) -> str | None:
    """The hand-over message, or None when the namespace holds nothing in the way.

    `first_run`: no preflight in the stack's state yet, so an External Secrets installation found
    now is not one the program made on an earlier run (read only where the program installs one).
    A cluster that cannot be read fails the run too: without the read, nothing says the run
    would not stop half-way on the user's objects.
    """
    redactor = Redactor()  # what the client meets (tokens, exec credentials) stays out of the message
    try:
        kube = kube_client_for(target, redactor)
        secret, history = read_namespace(target, kube)
        external_secrets = (
            read_external_secrets(target, kube)
            if first_run and target.external_secrets_namespace
            else ExternalSecretsSeen(crd=False, namespace=False)
        )
    except RequestError as err:
        if err.status == 403:
            # A role that may not read Secrets there: the PR preview role, whose EKS access entry is
            # a view policy (view excludes Secrets). Its preview cannot check and passes; the
            # deploy role's `pulumi up` reads them and stops before any change (README).
            return None
        return redactor(f"cannot read namespace {target.namespace} through {target.cluster}: {err}")
    except Exception as err:
        return redactor(f"cannot read namespace {target.namespace} through {target.cluster}: {err}")
    found = handovers(target.namespace, secret, target.release_name, history)
    messages = [
        handover_message(target.namespace, found) if found else None,
        external_secrets_message(external_secrets, target.external_secrets_namespace or "", target.namespace),
    ]
    return "\n\n".join(m for m in messages if m) or None


class ClusterPreflightProvider(ResourceProvider):
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        target = Target.from_props(news)
        if target is None:
            return CheckResult(news, [])
        # No old inputs: the preflight is not in the stack's state, so this is the stack's first run.
        failure = preflight_failure(target, first_run=not olds)
        return CheckResult(news, [CheckFailure("", failure)] if failure else [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        # Outputs are state too: the namespace is all anyone reads (the kubeconfig stays an input only).
        return CreateResult(id_=f"preflight-{props['namespace']}", outs={"namespace": props["namespace"]})

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        # Nothing to change: `check` does the work, on every run.
        return DiffResult(changes=False, replaces=[], stables=[], delete_before_replace=False)


class ClusterPreflight(pulumi.dynamic.Resource, module="llmjudge", name="ClusterPreflight"):
    """Stops the run, before any change, if the namespace holds what this program did not make."""

    namespace: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        namespace: pulumi.Input[str],
        secret_name: str,
        release_name: str,
        kube_context: str | None = None,
        kubeconfig: pulumi.Input[str] | None = None,
        external_secrets_namespace: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "namespace": namespace,
            "secret_name": secret_name,
            "release_name": release_name,
            "kube_context": kube_context,
            # The kubeconfig holds no credential (it runs `aws eks get-token`), but it is a secret
            # where it comes from: keep it one in state.
            "kubeconfig": None if kubeconfig is None else pulumi.Output.secret(kubeconfig),
            "external_secrets_namespace": external_secrets_namespace,
        }
        super().__init__(ClusterPreflightProvider(), resource_name, props, opts)


__all__ = [
    "ClusterPreflight",
    "ClusterPreflightProvider",
    "Target",
    "kube_client_for",
    "preflight_failure",
    "read_external_secrets",
    "read_namespace",
]
