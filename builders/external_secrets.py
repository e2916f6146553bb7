"""External Secrets Operator on eks: its Helm values, the store and the ExternalSecret.

The ExternalSecret produces the same Secret, with the same keys, that the local stack writes
directly (`builders.credentials`), so the collectors are configured identically on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from builders.credentials import KEYS, SECRET_NAME
from builders.iam import ServiceAccountRef

API_VERSION = "external-secrets.io/v1"  # v1beta1 is no longer served (ESO 0.17+)
CHART = "external-secrets"
CHART_REPOSITORY = "https://charts.external-secrets.io"
OPERATOR_ACCOUNT = ServiceAccountRef(namespace="external-secrets", name="external-secrets")
# A namespaced SecretStore in the services' namespace, not a ClusterSecretStore: it serves
# ExternalSecrets of its own namespace only, whose readers may read the credentials Secret anyway.
# The same store whether the program installs External Secrets or the cluster runs its own
# (config externalSecretsOperator): nothing in it depends on the operator's service account.
STORE_KIND = "SecretStore"
STORE_NAME = "aws-secrets-manager"
# The store authenticates as this service account of the services' namespace, the one subject the
# IRSA role trusts. ESO asks the API server for its token (TokenRequest) and exchanges it with
# AssumeRoleWithWebIdentity for the role named in its `eks.amazonaws.com/role-arn` annotation; a
# SecretStore's serviceAccountRef is always read in the store's own namespace (a namespace in it
# counts for a ClusterSecretStore only): external-secrets providers/v1/aws/auth/auth.go,
# credsFromServiceAccount (v2.9.0).
READER_ACCOUNT_NAME = "grafana-cloud-credentials-reader"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
# A rotated token is pushed by `force_sync_annotation` in the same `pulumi up`; the periodic
# refresh only repairs drift (a Secret edited or deleted by hand).
REFRESH_INTERVAL = "15m"
FORCE_SYNC_ANNOTATION = "force-sync"


def force_sync_annotation(version: str) -> dict[str, str]:
    """ESO re-syncs an ExternalSecret whenever this annotation's value changes. Keyed to the
    expiry times of the tokens in the Secret (the collectors', OpenCost's), a rotated token reaches
    the cluster in the same update, instead of up to one refresh interval later; the old one is not
    deleted but expires on its own (README "Token rotation")."""
    return {FORCE_SYNC_ANNOTATION: version}


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def aws_secret_name(cluster_name: str) -> str:
    return f"{cluster_name}/{SECRET_NAME}"


def operator_values() -> dict[str, Any]:
    """Every pod has requests and limits. The controller's own service account has no AWS role:
    a store without `auth` runs with the controller's ambient AWS credentials
    (providers/v1/aws/auth/auth.go: `constructCredsProvider` returns none, then
    `config.LoadDefaultConfig`), and the chart lets every namespace editor create SecretStores
    (templates/rbac.yaml, the `-edit` ClusterRole aggregated to `edit`, `rbac.aggregateToEdit`
    true by default), so a role there would serve any namespace. The role sits on
    `READER_ACCOUNT_NAME` in the services' namespace instead."""
    return {
        "installCRDs": True,
        "serviceAccount": {"create": True, "name": OPERATOR_ACCOUNT.name},
        "resources": _resources("10m", "64Mi", "200m", "256Mi"),
        "webhook": {"resources": _resources("10m", "32Mi", "100m", "128Mi")},
        "certController": {"resources": _resources("10m", "32Mi", "100m", "128Mi")},
    }


def reader_annotations(role_arn: str) -> dict[str, str]:
    """The reader service account names the IRSA role ESO assumes for the store."""
    return {IRSA_ROLE_ANNOTATION: role_arn}


def secret_store_spec(region: str) -> dict[str, Any]:
    """AWS Secrets Manager, authenticated as `READER_ACCOUNT_NAME` of the store's namespace (JWT)."""
    return {
        "provider": {
            "aws": {
                "service": "SecretsManager",
                "region": region,
                "auth": {"jwt": {"serviceAccountRef": {"name": READER_ACCOUNT_NAME}}},
            }
        }
    }


def external_secret_spec(aws_secret: str, keys: Sequence[str] = KEYS.all()) -> dict[str, Any]:
    """One Secret `grafana-cloud-credentials`, one entry per credentials key, read from the
    JSON properties of the AWS secret: exactly the keys written there (`secret_entries`), since
    ESO fails the whole sync on a property the secret lacks."""
    return {
        "refreshInterval": REFRESH_INTERVAL,
        "secretStoreRef": {"kind": STORE_KIND, "name": STORE_NAME},
        "target": {"name": SECRET_NAME, "creationPolicy": "Owner"},
        "data": [{"secretKey": key, "remoteRef": {"key": aws_secret, "property": key}} for key in keys],
    }
