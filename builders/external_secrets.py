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
STORE_NAME = "aws-secrets-manager"
# A rotated token is pushed by `force_sync_annotation` in the same `pulumi up`; the periodic
# refresh only repairs drift (a Secret edited or deleted by hand).
REFRESH_INTERVAL = "15m"
FORCE_SYNC_ANNOTATION = "force-sync"


def force_sync_annotation(version: str) -> dict[str, str]:
    """ESO re-syncs an ExternalSecret whenever this annotation's value changes. Keyed to the
    collectors' token, the new token reaches the cluster before Pulumi deletes the old one at
    the end of the same update, instead of up to one refresh interval later."""
    return {FORCE_SYNC_ANNOTATION: version}


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def aws_secret_name(cluster_name: str) -> str:
    return f"{cluster_name}/{SECRET_NAME}"


def operator_values(role_arn: str) -> dict[str, Any]:
    """The operator runs as the IRSA service account; every pod has requests and limits."""
    return {
        "installCRDs": True,
        "serviceAccount": {
            "create": True,
            "name": OPERATOR_ACCOUNT.name,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "resources": _resources("10m", "64Mi", "200m", "256Mi"),
        "webhook": {"resources": _resources("10m", "32Mi", "100m", "128Mi")},
        "certController": {"resources": _resources("10m", "32Mi", "100m", "128Mi")},
    }


def cluster_secret_store_spec(region: str) -> dict[str, Any]:
    """AWS Secrets Manager, authenticated with the operator's own IRSA token (JWT)."""
    return {
        "provider": {
            "aws": {
                "service": "SecretsManager",
                "region": region,
                "auth": {
                    "jwt": {
                        "serviceAccountRef": {
                            "name": OPERATOR_ACCOUNT.name,
                            "namespace": OPERATOR_ACCOUNT.namespace,
                        }
                    }
                },
            }
        }
    }


# With the cluster's own External Secrets (config externalSecretsOperator: existing) the program
# installs nothing cluster-wide: a SecretStore in the services' namespace authenticates as a service
# account of its own there, which carries the IRSA role. For a SecretStore, ESO reads the service
# account in the store's own namespace, takes the role from its `eks.amazonaws.com/role-arn`
# annotation and requests a token for it with audience sts.amazonaws.com (external-secrets
# providers/v1/aws/auth/auth.go `credsFromServiceAccount`, v2.9.0); its controller may request tokens
# for service accounts with the chart's default `rbac.serviceAccountTokenCreate: true`.
READER_SERVICE_ACCOUNT = "grafana-cloud-credentials-reader"


def reader_service_account_annotations(role_arn: str) -> dict[str, str]:
    return {"eks.amazonaws.com/role-arn": role_arn}


def secret_store_spec(region: str) -> dict[str, Any]:
    """A namespaced SecretStore: AWS Secrets Manager as READER_SERVICE_ACCOUNT of the same namespace."""
    return {
        "provider": {
            "aws": {
                "service": "SecretsManager",
                "region": region,
                "auth": {"jwt": {"serviceAccountRef": {"name": READER_SERVICE_ACCOUNT}}},
            }
        }
    }


def external_secret_spec(
    aws_secret: str, keys: Sequence[str] = KEYS.all(), store_kind: str = "ClusterSecretStore"
) -> dict[str, Any]:
    """One Secret `grafana-cloud-credentials`, one entry per credentials key, read from the
    JSON properties of the AWS secret: exactly the keys written there (`secret_entries`), since
    ESO fails the whole sync on a property the secret lacks. `store_kind`: the program's
    ClusterSecretStore, or the SecretStore beside it with the cluster's own External Secrets."""
    return {
        "refreshInterval": REFRESH_INTERVAL,
        "secretStoreRef": {"kind": store_kind, "name": STORE_NAME},
        "target": {"name": SECRET_NAME, "creationPolicy": "Owner"},
        "data": [{"secretKey": key, "remoteRef": {"key": aws_secret, "property": key}} for key in keys],
    }
