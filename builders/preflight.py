"""What a cluster may already hold under this program's names, and what the program does about it.

Pure: the preflight (`dynamic/cluster_preflight.py` on a real cluster, `tools/mocks.py` on the
modelled one) reads two things from the namespace and hands them here:

- the Secret `grafana-cloud-credentials`: this program writes it (local: a Secret it owns;
  eks: External Secrets, from the program's ExternalSecret). One it did not write is the manual
  install's (the plan's phase 2): the run stops and names it.
- the history of the Helm release `grafana-k8s-monitoring` (Helm keeps it as Secrets labelled
  `owner=helm,name=<release>`). The program installs chart k8s-monitoring of major 4 only
  (`builders.config`); any other chart or major under that name is the manual install (the
  plan's phase 3, chart 1.x): the run stops and names it.

Why stop instead of adopting (README "Coming from the manual install"): Helm refuses to install
over a name with history ("cannot re-use a name that is still in use", helm/helm
pkg/action/install.go `availableName`), and adopting the 1.x release through `pulumi import`
would make the next run a `helm upgrade` from 1.x to 4.4.0, which the chart does not support in
place: its values were renamed at 2.0 and 4.0 (charts/k8s-monitoring/UPGRADING.md, "Version
2.0", "Version 4.0"; 1.x values migrate through 3.x first,
https://grafana.com/docs/grafana-cloud/monitor-infrastructure/kubernetes-monitoring/configuration/helm-chart-config/helm-chart/migrate-helm-chart/),
and from 3.0 the collectors are `Alloy` objects whose CRD ships in the alloy-operator
subchart's `crds/` directory, which Helm installs on `helm install` only
(UPGRADING.md "Version 3.0: ... you may need to install the Alloy CRD";
https://helm.sh/docs/chart_best_practices/custom_resource_definitions/). The Secret would be
overwritten with the program's own credentials; the program does not do that to a Secret it
did not write.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from builders.config import SUPPORTED_CHART_MAJOR

# The local stack's credentials Secret carries this label (components/credentials_secret.py);
# on eks the Secret is owned by the program's ExternalSecret (`creationPolicy: Owner`).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_PROGRAM = "pulumi"
EXTERNAL_SECRET_KIND = "ExternalSecret"
CHART = "k8s-monitoring"

# Helm's release storage (driver "secret", Helm's and pulumi-kubernetes' default): one Secret per
# revision, named sh.helm.release.v1.<release>.v<revision>, labelled owner=helm, name, status,
# version; data.release is base64 of the gzipped JSON release (helm/helm
# pkg/storage/driver/secrets.go newSecretsObject, pkg/storage/driver/util.go encodeRelease).
HELM_OWNER_LABEL = "owner"
HELM_OWNER = "helm"
_GZIP_MAGIC = b"\x1f\x8b\x08"


def helm_history_selector(release: str) -> str:
    """The label selector of a release's storage Secrets."""
    return f"{HELM_OWNER_LABEL}={HELM_OWNER},name={release}"


@dataclass(frozen=True)
class SecretSeen:
    """What the preflight needs of an existing Secret."""

    name: str
    labels: Mapping[str, str]
    owner_kinds: tuple[str, ...]
    keys: tuple[str, ...]

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> SecretSeen:
        """From a Secret as the Kubernetes API returns it (JSON, camelCase)."""
        meta = obj.get("metadata") or {}
        return cls(
            name=str(meta.get("name", "")),
            labels=dict(meta.get("labels") or {}),
            owner_kinds=tuple(str(o.get("kind", "")) for o in meta.get("ownerReferences") or ()),
            keys=tuple(sorted({**(obj.get("data") or {}), **(obj.get("stringData") or {})})),
        )

    @property
    def written_by_program(self) -> bool:
        return (
            self.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_PROGRAM
            or EXTERNAL_SECRET_KIND in self.owner_kinds
        )


@dataclass(frozen=True)
class HelmRevision:
    """One revision of a Helm release, decoded from its storage Secret."""

    release: str
    revision: int
    status: str
    chart: str
    chart_version: str

    @classmethod
    def from_storage_secret(cls, obj: Mapping[str, Any]) -> HelmRevision:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        record = decode_release((obj.get("data") or {})["release"])
        chart = (record.get("chart") or {}).get("metadata") or {}
        return cls(
            release=str(record.get("name") or labels.get("name", "")),
            revision=int(record.get("version") or labels.get("version") or 0),
            status=str((record.get("info") or {}).get("status") or labels.get("status", "unknown")),
            chart=str(chart.get("name", "")),
            chart_version=str(chart.get("version", "")),
        )

    @property
    def installed_by_program(self) -> bool:
        major = re.fullmatch(r"(\d+)\..*", self.chart_version)
        return self.chart == CHART and major is not None and int(major.group(1)) == SUPPORTED_CHART_MAJOR


def decode_release(secret_value: str) -> dict[str, Any]:
    """Helm's release record from a storage Secret's `data.release` as the API returns it
    (Kubernetes' base64 around Helm's base64 of gzipped JSON)."""
    helm_text = base64.b64decode(secret_value)
    raw = base64.b64decode(helm_text)
    if raw[:3] == _GZIP_MAGIC:
        raw = gzip.decompress(raw)
    record: dict[str, Any] = json.loads(raw)
    return record


def encode_release(record: Mapping[str, Any]) -> str:
    """The inverse of `decode_release`, as Helm and the API server store it (for models and tests)."""
    helm_text = base64.b64encode(gzip.compress(json.dumps(record).encode()))
    return base64.b64encode(helm_text).decode()


@dataclass(frozen=True)
class Handover:
    """An object the run cannot proceed over, and how its owner hands it over."""

    what: str
    why: str
    commands: tuple[str, ...]
    effect: str


def handovers(
    namespace: str,
    secret: SecretSeen | None,
    release_name: str,
    release_history: Sequence[HelmRevision],
) -> list[Handover]:
    """What stops the run: nothing when the namespace holds only what this program made."""
    found: list[Handover] = []
    latest = max(release_history, key=lambda r: r.revision, default=None)
    if latest is not None and not latest.installed_by_program:
        found.append(_release_handover(namespace, release_name, latest))
    if secret is not None and not secret.written_by_program:
        found.append(_secret_handover(namespace, secret))
    return found


def _release_handover(namespace: str, name: str, latest: HelmRevision) -> Handover:
    chart = f"{latest.chart}-{latest.chart_version}" if latest.chart else "unknown chart"
    return Handover(
        what=(
            f"Helm release {namespace}/{name} (chart {chart}, revision {latest.revision}, "
            f"status {latest.status})"
        ),
        why=(
            f"not installed by this program, which installs chart {CHART} {SUPPORTED_CHART_MAJOR}.x "
            "under this name; Helm cannot install over it, and chart 1.x cannot be upgraded in place "
            "to 4.x (values renamed at 2.0 and 4.0; the Alloy CRD of 3.0+ is installed by "
            "`helm install` only)"
        ),
        commands=(
            f"helm get values {name} -n {namespace} > {name}-{latest.chart_version}-values.yaml",
            f"helm get manifest {name} -n {namespace}    # exactly what the uninstall removes",
            f"helm uninstall {name} -n {namespace}",
        ),
        effect=(
            "The uninstall removes every object of that manifest (its Alloy collectors, kube-state-metrics, "
            "node-exporter, OpenCost, their Services, ConfigMaps, RBAC, the Secrets the chart "
            "made; CRDs it installed as templates unless annotated helm.sh/resource-policy: keep) "
            "and the release's history; collection stops until `pulumi up` installs "
            f"{CHART} 4.x; data already in Grafana Cloud stays."
        ),
    )


def _secret_handover(namespace: str, secret: SecretSeen) -> Handover:
    keys = ", ".join(secret.keys) or "none"
    return Handover(
        what=f"Secret {namespace}/{secret.name} (keys: {keys})",
        why=(
            "not written by this program, which writes it itself (local: from the token it "
            "creates and rotates; eks: through External Secrets) and does not overwrite a "
            "Secret it did not write"
        ),
        commands=(
            f"kubectl get secret {secret.name} -n {namespace} -o yaml > {secret.name}-manual.yaml",
            f"kubectl delete secret {secret.name} -n {namespace}",
        ),
        effect=(
            "The program then writes its own. The API key in the old Secret stays valid in "
            "Grafana Cloud: revoke it there once the new collectors send data."
        ),
    )


def handover_message(namespace: str, found: Sequence[Handover]) -> str:
    """One message naming every object and the exact commands that hand it over."""
    lines = [
        f"namespace {namespace} holds objects under this program's names that it did not make "
        "(the manual install of the plan's phases 2-3?). Nothing was changed. "
        "Hand them over, then run `pulumi up` again:"
    ]
    for handover in found:
        lines.append(f"- {handover.what}: {handover.why}.")
        lines.extend(f"    {command}" for command in handover.commands)
        lines.append(f"  {handover.effect}")
    lines.append('See README.md, "Coming from the manual install".')
    return "\n".join(lines)


# --- External Secrets already running (eks, externalSecretsOperator: install) -------------------
# The program installs External Secrets through a provider that never adopts: its namespace, then a
# Helm release whose CRDs are templates (`installCRDs: true`, builders/external_secrets.py). On a
# cluster that already runs External Secrets either fails part-way, after the AWS side exists: the
# namespace with AlreadyExists, or Helm refusing CRDs another release or installer owns ("invalid
# ownership metadata", helm/helm pkg/action/validate.go `existingResourceConflict`). The stack's first
# run reads both first; an installation of its own from an earlier run is in the stack's state.
EXTERNAL_SECRETS_CRD = "externalsecrets.external-secrets.io"


@dataclass(frozen=True)
class ExternalSecretsSeen:
    """What the first run finds of an External Secrets installation it did not make."""

    crd: bool  # the ExternalSecret CRD exists
    namespace: bool  # the namespace the program would install the operator into exists


def external_secrets_message(
    seen: ExternalSecretsSeen, operator_namespace: str, namespace: str
) -> str | None:
    """One message when the cluster already runs External Secrets; None when it does not."""
    found = [f"CustomResourceDefinition {EXTERNAL_SECRETS_CRD}"] * seen.crd + [
        f"namespace {operator_namespace}"
    ] * seen.namespace
    if not found:
        return None
    return (
        f"this cluster already runs External Secrets ({' and '.join(found)} "
        f"{'exist' if len(found) > 1 else 'exists'}), and this program "
        f"would install its own over it (Helm release external-secrets with its CRDs, in namespace "
        f"{operator_namespace}) and fail part-way. Nothing was changed. To use the cluster's "
        "installation (External Secrets 0.17 or later, serving external-secrets.io/v1), run "
        "`pulumi config set externalSecretsOperator existing` and "
        "`pulumi config rm externalSecretsChartVersion`, "
        f"then `pulumi up` again: the program then adds only a service account, a SecretStore and the "
        f'ExternalSecret in namespace {namespace}. See README.md, "Using a cluster\'s own External Secrets".'
    )
