"""IAM documents for the eks stack: IRSA trust policies and least-privilege permissions.

Plain dicts in the IAM policy grammar; the components serialize them with json.dumps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]
VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"

# Exactly what Alloy's prometheus.exporter.cloudwatch calls for the `static` jobs that
# builders/cloudwatch.py configures (and no `discovery` job, which would add tag:GetResources,
# cloudwatch:ListMetrics and cloudwatch:GetMetricData). Alloy v1.18 pins YACE v0.64
# (go.mod; a fork of v0.64.1 via `replace`), whose every scrape of a static job calls, per region:
# - sts:GetCallerIdentity for the account id (pkg/job/scrape.go, GetAccount): needs no permission,
#   https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
# - iam:ListAccountAliases for the `account_alias` label (pkg/job/scrape.go, GetAccountAlias;
#   pkg/clients/account/client.go): denied, it warns on every scrape and the label is empty;
# - cloudwatch:GetMetricStatistics once per metric (pkg/job/static.go, runStaticJob).
# Neither action accepts a resource ARN, only "*" (the "Resource types" column is empty):
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_identityandaccessmanagement.html
CLOUDWATCH_EXPORTER_ACTIONS = (
    "cloudwatch:GetMetricStatistics",
    "iam:ListAccountAliases",
)
# The service account the EBS CSI add-on's controller runs as, and the driver's own
# AWS-maintained policy: what the driver needs, kept current by AWS.
EBS_CSI_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
NODE_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)


# RoleName: 1-64 characters of [\w+=,.@-] (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
ROLE_NAME_MAX = 64
_HASH_LENGTH = 8


def role_name(prefix: str, suffix: str) -> str:
    """`<prefix>-<suffix>`, unique per (prefix, suffix) and at most 64 characters.

    A name that would be longer keeps the whole suffix and as much of the prefix as fits, with a
    hash of the full name in between: cutting at 64 alone made the roles of a cluster name near
    63 characters one and the same name. Names that fit are unchanged (a new name replaces a role).
    """
    full = f"{prefix}-{suffix}"
    if len(full) <= ROLE_NAME_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    keep = ROLE_NAME_MAX - len(suffix) - _HASH_LENGTH - 2
    if keep < 1:
        raise ValueError(f"role name suffix {suffix!r} leaves no room for the prefix")
    return f"{prefix[:keep]}-{digest}-{suffix}"


@dataclass(frozen=True)
class ServiceAccountRef:
    namespace: str
    name: str

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


def issuer_host(oidc_issuer: str) -> str:
    """IAM condition keys use the issuer without its scheme."""
    return oidc_issuer.removeprefix("https://").rstrip("/")


def web_identity_trust_policy(
    oidc_provider_arn: str, oidc_issuer: str, account: ServiceAccountRef
) -> Document:
    """Only this service account of this cluster, and only for STS, may assume the role."""
    host = issuer_host(oidc_issuer)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:sub": account.subject,
                        f"{host}:aud": STS_AUDIENCE,
                    }
                },
            }
        ],
    }


def cloudwatch_metrics_read_policy() -> Document:
    """What Alloy's CloudWatch exporter calls to read the SQS metrics of its static jobs."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadCloudWatchMetrics",
                "Effect": "Allow",
                "Action": list(CLOUDWATCH_EXPORTER_ACTIONS),
                "Resource": "*",
            }
        ],
    }


def secret_read_policy(secret_arn: str, kms_key_arn: str | None, region: str) -> Document:
    """Read one Secrets Manager secret; decrypt with its key only through Secrets Manager."""
    statements: list[Document] = [
        {
            "Sid": "ReadGrafanaCloudCredentials",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Resource": secret_arn,
        }
    ]
    if kms_key_arn:
        statements.append(
            {
                "Sid": "DecryptThroughSecretsManager",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            }
        )
    return {"Version": VERSION, "Statement": statements}


def ec2_trust_policy() -> Document:
    """The managed node group's instances assume the node role."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


EBS_CSI_SERVICE_ACCOUNT = ServiceAccountRef(namespace="kube-system", name="ebs-csi-controller-sa")
