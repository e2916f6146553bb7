"""Kubeconfig for an existing EKS cluster, authenticating through `aws eks get-token`."""

from __future__ import annotations

from typing import Any


def eks_kubeconfig(
    cluster_name: str, endpoint: str, certificate_authority: str, region: str
) -> dict[str, Any]:
    """No credential is stored: kubectl and the provider call the AWS CLI for a short-lived token.

    `--output json` because the exec credential plugin must print JSON, and the AWS CLI prints in
    the user's configured format (`output = text` or `yaml` in ~/.aws/config, or AWS_DEFAULT_OUTPUT),
    which the client cannot parse. pulumi-eks passes it too (nodejs/eks/cluster/cluster.ts,
    generateKubeconfig).
    """
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority},
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [
            {
                "name": cluster_name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                            "--output",
                            "json",
                        ],
                    }
                },
            }
        ],
    }
