"""builders/kubeconfig.py: the kubeconfig of an existing EKS cluster (pure)."""

from __future__ import annotations

from builders.kubeconfig import eks_kubeconfig


def test_existing_cluster_kubeconfig_is_the_documented_exec_form() -> None:
    # kubeconfig v1 with an exec credential plugin (client.authentication.k8s.io/v1beta1), as
    # `aws eks update-kubeconfig` writes it: https://docs.aws.amazon.com/eks/latest/userguide/create-kubeconfig.html
    assert eks_kubeconfig("shared", "https://x.eks.amazonaws.com", "Q0E=", "eu-west-1") == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "shared",
                "cluster": {"server": "https://x.eks.amazonaws.com", "certificate-authority-data": "Q0E="},
            }
        ],
        "contexts": [{"name": "shared", "context": {"cluster": "shared", "user": "shared"}}],
        "current-context": "shared",
        "users": [
            {
                "name": "shared",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            "shared",
                            "--region",
                            "eu-west-1",
                            # JSON whatever the user's AWS CLI `output` setting (text, yaml, table);
                            # pulumi-eks passes the same (nodejs/eks/cluster/cluster.ts generateKubeconfig).
                            "--output",
                            "json",
                        ],
                    }
                },
            }
        ],
    }
