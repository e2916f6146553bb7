"""The policy pack's rules on hand-written inputs, including the eks shapes (IRSA, IAM documents).

Imports policy/rules.py only: policy/__main__.py starts the analyzer server when imported.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from builders.grafana_cloud import ALLOWED_COLLECTOR_SCOPES, cluster_selector
from builders.grafana_objects import collector_policy_name, verify_policy_name
from policy import rules
from policy.rules import (
    RULES,
    SECRET_MARKER,
    collector_scopes,
    container_resources,
    is_credential_key,
    least_privilege,
    literal_credentials,
    pinned_chart_version,
    policy_validation,
    read_policies_one_cluster,
    secret_stores_serve_one_namespace,
    web_identity_trust,
)

SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
SUB = "system:serviceaccount:llm-judge:grafana-k8s-monitoring-alloy-metrics"
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}


# --- (a) credentials ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "GRAFANA_CLOUD_API_KEY",
        "password",
        "adminPassword",
        "token",
        "bearer_token",
        "client-secret",
        "accessKey",
    ],
)
def test_credential_keys(key: str) -> None:
    assert is_credential_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "passwordKey",
        "usernameKey",
        "password_key",
        "username_key",
        "tokenKey",
        "existingSecretName",
        "existingSecret",
        "secretName",
        "secretKeyRef",
        "tokenFile",
        "passwordFrom",
        "GRAFANA_CLOUD_PROMETHEUS_USER",
        "GRAFANA_CLOUD_OTLP_ENDPOINT",
        "url",
    ],
)
def test_reference_and_plain_keys(key: str) -> None:
    assert not is_credential_key(key)


def _secret(string_data: Any = None, data: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {"metadata": {"name": "grafana-cloud-credentials"}}
    if string_data is not None:
        props["stringData"] = string_data
    if data is not None:
        props["data"] = data
    return props


def test_secret_from_secret_outputs_passes() -> None:
    props = _secret({"GRAFANA_CLOUD_API_KEY": SECRET_MARKER, "GRAFANA_CLOUD_OTLP_ENDPOINT": "https://otlp"})
    assert literal_credentials(SECRET, props, "creds") == []
    # synth: a map holding one secret arrives wrapped whole
    assert literal_credentials(SECRET, _secret(SECRET_MARKER), "creds") == []


def test_secret_with_literal_credential_is_refused() -> None:
    found = literal_credentials(SECRET, _secret({"GRAFANA_CLOUD_API_KEY": "glc_abc123"}), "creds")
    assert len(found) == 1
    assert "Secret 'creds'" in found[0] and "stringData.GRAFANA_CLOUD_API_KEY" in found[0]
    assert "secret Output" in found[0]


def test_secret_data_is_checked_base64_decoded() -> None:
    encoded = base64.b64encode(b"changeme").decode()
    live = literal_credentials(SECRET, _secret(data={"PASSWORD": encoded}), "db", secrets_visible=False)
    assert live and "placeholder" in live[0]
    assert literal_credentials(SECRET, _secret(data={"PASSWORD": SECRET_MARKER}), "db") == []


def test_live_pack_cannot_see_secretness_so_only_refuses_placeholders() -> None:
    # pulumi-policy hands validators the plaintext of secret inputs: a real token must pass live
    real = _secret({"GRAFANA_CLOUD_API_KEY": "glc_eyJvIjoiMTIzNDU2In0="})
    assert literal_credentials(SECRET, real, "creds", secrets_visible=False) == []
    for placeholder in ("changeme", "TODO", "<your token>", "xxxx", "${TOKEN}"):
        props = _secret({"GRAFANA_CLOUD_API_KEY": placeholder})
        assert literal_credentials(SECRET, props, "creds", secrets_visible=False), placeholder


def test_empty_and_non_credential_values_pass() -> None:
    props = _secret({"PASSWORD": "", "GRAFANA_CLOUD_LOKI_USER": "123456", "TOKEN_PATH": "/var/run/token"})
    assert literal_credentials(SECRET, props, "x") == []


def _release(values: dict[str, Any], version: Any = "4.4.0", chart: str = "k8s-monitoring") -> dict[str, Any]:
    return {"chart": chart, "version": version, "name": "grafana-k8s-monitoring", "values": values}


def test_helm_values_referencing_a_secret_pass() -> None:
    values = {
        "destinations": {
            "grafana-cloud-metrics": {
                "type": "prometheus",
                "auth": {"type": "basic", "usernameKey": "USER", "passwordKey": "GRAFANA_CLOUD_API_KEY"},
                "secret": {"create": False, "name": "grafana-cloud-credentials", "namespace": "llm-judge"},
            }
        },
        "telemetryServices": {
            "opencost": {
                "opencost": {
                    "prometheus": {
                        "existingSecretName": "grafana-cloud-credentials",
                        "username_key": "USER",
                        "password_key": "GRAFANA_CLOUD_API_KEY",
                    }
                }
            }
        },
    }
    assert literal_credentials(RELEASE, _release(values), "k8s-monitoring-release") == []


def test_helm_values_with_credentials_are_refused_secret_or_not() -> None:
    values = {
        "destinations": {"m": {"auth": {"type": "basic", "username": "123", "password": "glc_abc"}}},
        # A secret Output in Helm values still lands in the release Secret, readable by `helm get values`.
        "grafana": {"adminPassword": "hunter2", "apiKey": SECRET_MARKER},
        "list": [{"token": "abc"}],
    }
    for secrets_visible in (True, False):  # the same on the synth and live
        found = literal_credentials(RELEASE, _release(values), "rel", secrets_visible=secrets_visible)
        paths = sorted(re.findall(r"values\.(\S+) holds a credential", " ".join(found)))
        assert paths == [
            "destinations.m.auth.password",
            "grafana.adminPassword",
            "grafana.apiKey",
            "list.0.token",
        ]
        assert all("reference a Kubernetes Secret" in f for f in found)


def test_secrets_manager_secret_string() -> None:
    version = "aws:secretsmanager/secretVersion:SecretVersion"
    assert literal_credentials(version, {"secretString": SECRET_MARKER}, "v") == []
    assert literal_credentials(version, {"secretString": '{"GRAFANA_CLOUD_API_KEY": "glc_x"}'}, "v")
    live = {"secretString": json.dumps({"GRAFANA_CLOUD_API_KEY": "changeme"})}
    assert literal_credentials(version, live, "v", secrets_visible=False)
    real = {"secretString": json.dumps({"GRAFANA_CLOUD_API_KEY": "glc_real"})}
    assert literal_credentials(version, real, "v", secrets_visible=False) == []


def test_env_list_entries_count_as_their_name() -> None:
    values = {
        "alloy": {
            "extraEnv": [{"name": "API_TOKEN", "value": "abc"}, {"name": "LOG_LEVEL", "value": "info"}]
        },
        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
    }
    found = literal_credentials(RELEASE, _release(values), "rel")
    assert len(found) == 1 and "values.alloy.extraEnv.0.API_TOKEN holds a credential" in found[0]


@pytest.mark.parametrize(
    ("text", "attributes"),
    [
        ('basic_auth {\n  username = "1"\n  password = "hunter2"\n}', ["password"]),
        ("bearer_token = `raw-token-literal`", ["bearer_token"]),
        ('password = remote.kubernetes.secret.creds.data["KEY"]', []),
        ('password = sys.env("PASSWORD")', []),
        ('password_file = "/run/secrets/password"', []),
        ('password = ""', []),
        ('name = "secret"\nsecret_name = "creds"', []),
    ],
)
def test_alloy_config_literals(text: str, attributes: list[str]) -> None:
    assert rules.alloy_literal_credentials(text) == attributes


def test_annotation_and_label_keys_are_not_settings() -> None:
    values = {
        "controller": {
            "podAnnotations": {"secret.reloader.stakater.com/reload": "creds", "checksum/secret": "abc"},
            "podLabels": {"token-rotation": "weekly"},
        },
        "serviceAccount": {"annotations": {"vault.hashicorp.com/agent-inject-token": "true"}},
    }
    assert literal_credentials(RELEASE, _release(values), "rel") == []


def test_container_env_with_a_credential_is_refused_secret_or_not() -> None:
    for value in ("sk-live", SECRET_MARKER):
        kind, props = _deployment({"name": "app", "env": [{"name": "OPENAI_API_KEY", "value": value}]})
        found = literal_credentials(kind, props, "web")
        assert len(found) == 1 and "container 'app' env OPENAI_API_KEY holds a credential" in found[0]
    kind, props = _deployment({"name": "app", "env": [{"name": "OTEL_SERVICE_NAME", "value": "app"}]})
    assert literal_credentials(kind, props, "web") == []


EXTERNAL = "kubernetes:external-secrets.io/v1:ExternalSecret"


@pytest.mark.parametrize(
    "find",
    [
        {},
        {"name": {"regexp": ".*"}},
        {"name": {"regexp": "grafana"}},
        {"name": {"regexp": "^.*"}},
        {"path": "/"},
    ],
)
def test_a_find_that_matches_every_secret_is_refused(find: dict[str, Any]) -> None:
    props = {"metadata": {"name": "all"}, "spec": {"dataFrom": [{"find": find}]}}
    found = rules.external_secret_scope(EXTERNAL, props, "es")
    assert len(found) == 1 and "spec.dataFrom[0].find matches every secret" in found[0]
    cluster_wide = {"spec": {"externalSecretSpec": {"dataFrom": [{"find": find}]}}}
    assert rules.external_secret_scope(
        "kubernetes:external-secrets.io/v1:ClusterExternalSecret", cluster_wide
    )


@pytest.mark.parametrize(
    "source",
    [
        {"find": {"path": "llm-judge/"}},
        {"find": {"tags": {"team": "llm-judge"}}},
        {"find": {"name": {"regexp": "^llm-judge/"}}},
        {"extract": {"key": "llm-judge/grafana-cloud-credentials"}},
    ],
)
def test_a_narrowed_find_or_an_extract_passes(source: dict[str, Any]) -> None:
    assert rules.external_secret_scope(EXTERNAL, {"spec": {"dataFrom": [source]}}, "es") == []


CLUSTER_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"


def _cluster_store(conditions: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"provider": {"aws": {"service": "SecretsManager"}}}
    if conditions is not None:
        spec["conditions"] = conditions
    return {"metadata": {"name": "aws-secrets-manager"}, "spec": spec}


def test_a_cluster_secret_store_naming_its_namespaces_passes() -> None:
    for conditions in ([{"namespaces": ["llm-judge"]}], [{"namespaces": ["a"]}, {"namespaces": ["b", "c"]}]):
        assert secret_stores_serve_one_namespace(CLUSTER_STORE, _cluster_store(conditions), "s") == []


@pytest.mark.parametrize(
    "conditions",
    [
        None,
        [],
        [{}],
        [{"namespaces": []}],
        [{"namespaceSelector": {"matchLabels": {"team": "x"}}}],
        [{"namespaces": ["llm-judge"], "namespaceRegexes": [".*"]}],
        [{"namespaces": ["llm-judge"]}, {"namespaceSelector": {}}],
    ],
)
def test_a_cluster_secret_store_serving_unnamed_namespaces_is_refused(conditions: Any) -> None:
    found = secret_stores_serve_one_namespace(CLUSTER_STORE, _cluster_store(conditions), "s")
    assert len(found) == 1 and "ClusterSecretStore 's'" in found[0] and "namespaces" in found[0]


def test_the_external_secrets_controller_has_no_aws_role() -> None:
    def release(values: dict[str, Any], chart: str = "external-secrets") -> dict[str, Any]:
        return {"chart": chart, "version": "2.10.0", "values": values}

    role = {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/eso"}}
    found = secret_stores_serve_one_namespace(RELEASE, release({"serviceAccount": role}), "eso")
    assert len(found) == 1 and "eks.amazonaws.com/role-arn" in found[0]
    assert (
        secret_stores_serve_one_namespace(RELEASE, release({"serviceAccount": {"create": True}}), "eso") == []
    )
    assert secret_stores_serve_one_namespace(RELEASE, release({}), "eso") == []
    # Another chart's service-account role is not this rule's business (the collectors' IRSA).
    assert (
        secret_stores_serve_one_namespace(RELEASE, release({"serviceAccount": role}, "k8s-monitoring"), "m")
        == []
    )


# --- (b) IRSA trust policies (JSON strings, as the eks stack passes them) ----------------------


def _trust(condition: dict[str, Any] | None, action: Any = "sts:AssumeRoleWithWebIdentity") -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER_ARN},
        "Action": action,
    }
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_irsa_trust_with_sub_and_aud_passes() -> None:
    policy = _trust({"StringEquals": {f"{ISSUER}:sub": SUB, f"{ISSUER}:aud": "sts.amazonaws.com"}})
    assert web_identity_trust(ROLE, {"assumeRolePolicy": policy}, "alloy-metrics") == []
    # a map instead of a string, and a list of exact subjects
    both = {"StringEquals": {f"{ISSUER}:sub": [SUB, SUB + "-2"], f"{ISSUER}:aud": ["sts.amazonaws.com"]}}
    assert web_identity_trust(ROLE, {"assumeRolePolicy": json.loads(_trust(both))}, "r") == []


def test_irsa_trust_without_aud_is_refused() -> None:
    policy = _trust({"StringEquals": {f"{ISSUER}:sub": SUB}})
    found = web_identity_trust(ROLE, {"assumeRolePolicy": policy}, "alloy-metrics")
    assert len(found) == 1
    assert "Role 'alloy-metrics'" in found[0] and f"['{ISSUER}:aud'] = 'sts.amazonaws.com'" in found[0]


def test_irsa_trust_without_sub_or_condition_is_refused() -> None:
    no_sub = web_identity_trust(
        ROLE, {"assumeRolePolicy": _trust({"StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"}})}
    )
    assert len(no_sub) == 1 and ":sub" in no_sub[0]
    assert len(web_identity_trust(ROLE, {"assumeRolePolicy": _trust(None)})) == 2


def test_irsa_trust_with_wildcard_or_stringlike_sub_is_refused() -> None:
    like = {"StringLike": {f"{ISSUER}:sub": "system:serviceaccount:llm-judge:*"}}
    like["StringEquals"] = {f"{ISSUER}:aud": "sts.amazonaws.com"}
    assert web_identity_trust(ROLE, {"assumeRolePolicy": _trust(like)})  # StringLike does not count
    wild = {
        "StringEquals": {
            f"{ISSUER}:sub": "system:serviceaccount:llm-judge:*",
            f"{ISSUER}:aud": "sts.amazonaws.com",
        }
    }
    assert any("wildcards" in f for f in web_identity_trust(ROLE, {"assumeRolePolicy": _trust(wild)}))
    other_issuer = {
        "StringEquals": {"oidc.example.com:sub": SUB, "oidc.example.com:aud": "sts.amazonaws.com"}
    }
    assert len(web_identity_trust(ROLE, {"assumeRolePolicy": _trust(other_issuer)})) == 2


def test_wildcard_action_trust_counts_as_web_identity() -> None:
    assert web_identity_trust(ROLE, {"assumeRolePolicy": _trust(None, action=["sts:*"])})


def test_non_web_identity_roles_and_bad_documents() -> None:
    service = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    assert web_identity_trust(ROLE, {"assumeRolePolicy": json.dumps(service)}, "cluster") == []
    assert "not valid JSON" in web_identity_trust(ROLE, {"assumeRolePolicy": "{nope"}, "r")[0]
    assert web_identity_trust(POLICY, {"policy": "{}"}) == []


# --- (c) IAM policies ----------------------------------------------------------------------------


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:llm-judge/grafana-cloud-AbCdEf"


def test_cloudwatch_exporter_and_secret_reader_policies_pass() -> None:
    cloudwatch = _policy(
        {
            "Effect": "Allow",
            "Action": [
                "tag:GetResources",
                "cloudwatch:GetMetricData",
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:ListMetrics",
            ],
            "Resource": "*",
        }
    )
    assert least_privilege(POLICY, {"policy": cloudwatch}, "alloy-cloudwatch") == []
    static_jobs = _policy(
        {
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricStatistics", "iam:ListAccountAliases"],
            "Resource": "*",
        }
    )
    assert least_privilege(ROLE_POLICY, {"policy": static_jobs}, "irsa-alloy-metrics") == []
    reader = _policy(
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": [SECRET_ARN],
        }
    )
    assert least_privilege(ROLE_POLICY, {"policy": reader}, "external-secrets") == []
    deny_all = _policy({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert least_privilege(POLICY, {"policy": deny_all}) == []


@pytest.mark.parametrize("action", ["*", "secretsmanager:*", "secretsmanager:Get*", "s3:?etObject"])
def test_wildcard_actions_are_refused(action: str) -> None:
    found = least_privilege(
        POLICY, {"policy": _policy({"Effect": "Allow", "Action": action, "Resource": SECRET_ARN})}, "p"
    )
    assert found and "wildcard action" in found[0] and "Policy 'p'" in found[0]


def test_star_resource_for_resource_level_actions_is_refused() -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "cloudwatch:ListMetrics"],
            "Resource": "*",
        }
    )
    found = least_privilege(ROLE_POLICY, {"policy": policy}, "eso")
    assert len(found) == 1 and "['secretsmanager:GetSecretValue']" in found[0]


def test_iam_actions_with_resource_level_permissions_still_need_arns() -> None:
    """iam:ListAccountAliases is allowed on "*" (it has no resource type); other IAM reads are not."""
    policy = _policy(
        {"Effect": "Allow", "Action": ["iam:ListAccountAliases", "iam:GetRole", "iam:List*"], "Resource": "*"}
    )
    found = least_privilege(ROLE_POLICY, {"policy": policy}, "p")
    assert len(found) == 2
    assert "wildcard action(s) ['iam:List*']" in found[0]
    assert "Resource '*' for ['iam:GetRole', 'iam:List*']" in found[1]


def test_not_action_and_inline_role_policies() -> None:
    not_action = _policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert any("NotAction" in f for f in least_privilege(POLICY, {"policy": not_action}))
    role = {
        "assumeRolePolicy": "{}",
        "inlinePolicies": [
            {"name": "all", "policy": _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})}
        ],
    }
    found = least_privilege(ROLE, role, "r")
    assert found and "inlinePolicies[0].policy" in found[0]


def test_statement_as_a_single_object() -> None:
    document = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}
    assert len(least_privilege(POLICY, {"policy": document})) == 2


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
        "arn:aws:secretsmanager:*:123456789012:secret:llm-judge/grafana-cloud-AbCdEf",
        "arn:aws:iam::123456789012:role/*",
        "arn:aws:s3:::bucket/*",
    ],
)
def test_wildcards_inside_arns_are_refused(resource: str) -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [SECRET_ARN, resource]}
    )
    found = least_privilege(ROLE_POLICY, {"policy": policy}, "p")
    assert len(found) == 1 and f"Resource ['{resource}'] match every resource" in found[0]


def test_the_random_suffix_placeholder_is_no_wildcard() -> None:
    policy = _policy(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": SECRET_ARN[:-6] + "??????"}
    )
    assert least_privilege(ROLE_POLICY, {"policy": policy}, "p") == []


ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        (ATTACH, {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        (ATTACH, {"policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}),
        (ATTACH, {"policyArn": "arn:aws:iam::123456789012:policy/made-elsewhere"}),
        ("aws:iam/policyAttachment:PolicyAttachment", {"policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}),
        (ROLE, {"managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]}),
        (
            "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
            {"policyArns": ["arn:aws-cn:iam::aws:policy/AdministratorAccess"]},
        ),
    ],
)
def test_managed_policies_beyond_the_allow_list_are_refused(type_: str, props: dict[str, Any]) -> None:
    found = rules.managed_policy_attachments(type_, props, "a")
    assert len(found) == 1 and "are not among the managed policies this stack needs" in found[0]


def test_the_stacks_managed_policies_pass_in_every_partition() -> None:
    for arn in sorted(rules.ALLOWED_MANAGED_POLICIES):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            props = {"policyArn": arn.replace("arn:aws:", f"arn:{partition}:")}
            assert rules.managed_policy_attachments(ATTACH, props, "a") == []
    assert rules.managed_policy_attachments(ROLE, {"assumeRolePolicy": "{}"}, "r") == []  # none attached


def test_allowed_managed_policies_are_the_builders_and_pulumi_eks_ones() -> None:
    from builders.iam import EBS_CSI_MANAGED_POLICY, NODE_MANAGED_POLICIES

    assert {
        EBS_CSI_MANAGED_POLICY,
        *NODE_MANAGED_POLICIES,
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
    } == rules.ALLOWED_MANAGED_POLICIES


# --- (d) chart versions ------------------------------------------------------------------------


def test_exact_chart_version_passes() -> None:
    assert pinned_chart_version(RELEASE, _release({}), "r") == []


@pytest.mark.parametrize(
    "version", [None, "", "latest", "^4.4.0", "~4.4", ">=4.0.0", "4.x", "4.4", "4.4.0-rc.1", "v4.4.0"]
)
def test_unpinned_chart_versions_are_refused(version: Any) -> None:
    props = _release({}, version=version)
    if version is None:
        del props["version"]
    found = pinned_chart_version(RELEASE, props, "k8s-monitoring-release")
    assert found and "'k8s-monitoring'" in found[0] and "MAJOR.MINOR.PATCH" in found[0]


# --- (e) resources --------------------------------------------------------------------------------


def _deployment(
    container: dict[str, Any], kind: str = "kubernetes:apps/v1:Deployment"
) -> tuple[str, dict[str, Any]]:
    return kind, {"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [container]}}}}


def test_containers_with_requests_and_limits_pass() -> None:
    assert container_resources(*_deployment({"name": "app", "image": "app:1", "resources": RESOURCES})) == []
    # a patch that only adds env to a container defined elsewhere has nothing to check
    patch = _deployment(
        {"name": "app", "env": [{"name": "A", "value": "1"}]}, "kubernetes:apps/v1:DeploymentPatch"
    )
    assert container_resources(*patch) == []


@pytest.mark.parametrize(
    "kind",
    [
        "kubernetes:apps/v1:Deployment",
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:apps/v1:DeploymentPatch",
    ],
)
def test_containers_without_resources_are_refused(kind: str) -> None:
    limits_only = {"limits": RESOURCES["limits"]}
    found = container_resources(
        *_deployment({"name": "app", "image": "app:1", "resources": limits_only}, kind)
    )
    assert found == [
        f"{kind.rsplit(':', 1)[-1]} 'web': container 'app' has no resources requests.cpu, requests.memory"
    ]


def test_pods_and_init_containers() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"initContainers": [{"name": "init", "image": "busybox"}], "containers": []},
    }
    assert "container 'init'" in container_resources("kubernetes:core/v1:Pod", pod)[0]


def _monitoring_values() -> dict[str, Any]:
    return {
        "collectors": {
            "alloy-metrics": {
                "alloy": {"resources": RESOURCES},
                "configReloader": {"resources": RESOURCES},
                "presets": ["clustered", "statefulset"],
            },
            "alloy-logs": {"alloy": {"resources": RESOURCES}, "configReloader": {"enabled": False}},
        },
        "telemetryServices": {
            "kube-state-metrics": {"deploy": True, "resources": RESOURCES},
            "opencost": {"deploy": True, "opencost": {"exporter": {"resources": RESOURCES}}},
            "kepler": {"deploy": False},
        },
        "alloy-operator": {"resources": RESOURCES, "waitForAlloyRemoval": {"resources": RESOURCES}},
    }


def test_k8s_monitoring_workloads_with_resources_pass() -> None:
    assert container_resources(RELEASE, _release(_monitoring_values()), "k8s-monitoring-release") == []


def test_k8s_monitoring_workloads_without_resources_are_refused() -> None:
    values = _monitoring_values()
    values["collectors"]["alloy-logs"]["alloy"]["resources"] = {"requests": RESOURCES["requests"]}
    del values["telemetryServices"]["opencost"]["opencost"]["exporter"]["resources"]
    values["telemetryServices"]["node-exporter"] = {"deploy": True}
    values["alloy-operator"] = {}
    del values["collectors"]["alloy-metrics"]["configReloader"]
    found = container_resources(RELEASE, _release(values), "rel")
    all_four = "requests.cpu, requests.memory, limits.cpu, limits.memory"
    assert found == [
        f"Release 'rel': values.collectors.alloy-metrics.configReloader.resources lacks {all_four}",
        "Release 'rel': values.collectors.alloy-logs.alloy.resources lacks limits.cpu, limits.memory",
        "Release 'rel': values.telemetryServices.opencost.opencost.exporter.resources lacks "
        "requests.cpu, requests.memory, limits.cpu, limits.memory",
        "Release 'rel': values.telemetryServices.node-exporter.resources lacks "
        "requests.cpu, requests.memory, limits.cpu, limits.memory",
        "Release 'rel': values.alloy-operator.resources lacks "
        "requests.cpu, requests.memory, limits.cpu, limits.memory",
        f"Release 'rel': values.alloy-operator.waitForAlloyRemoval.resources lacks {all_four}",
    ]


def _eso_values() -> dict[str, Any]:
    return {
        "resources": RESOURCES,
        "webhook": {"resources": RESOURCES},
        "certController": {"resources": RESOURCES},
    }


def test_each_chart_is_read_with_its_own_model() -> None:
    # k8s-monitoring's collectors mean nothing to external-secrets, and the other way round.
    assert (
        container_resources(RELEASE, _release(_eso_values(), version="2.10.0", chart="external-secrets"), "e")
        == []
    )
    eso_in_k8s_monitoring_shape = {"collectors": {"x": {"alloy": {"resources": RESOURCES}}}}
    found = container_resources(RELEASE, _release(eso_in_k8s_monitoring_shape, chart="external-secrets"), "e")
    assert [f.split(": values.")[1].split(" lacks")[0] for f in found] == [
        "resources",
        "webhook.resources",
        "certController.resources",
    ]
    oci = _release({"collectors": {"x": {}}}, chart="oci://ghcr.io/grafana/helm-charts/k8s-monitoring")
    assert container_resources(RELEASE, oci, "r")


def test_external_secrets_components_turned_off_need_no_resources() -> None:
    values = {"resources": RESOURCES, "webhook": {"create": False}, "certController": {"create": False}}
    assert container_resources(RELEASE, _release(values, chart="external-secrets"), "e") == []
    values["bitwarden-sdk-server"] = {"enabled": True}
    values["extraContainers"] = [{"name": "sidecar", "image": "x"}]
    found = container_resources(RELEASE, _release(values, chart="external-secrets"), "e")
    assert [f.split(": values.")[1].split(" lacks")[0] for f in found] == [
        "extraContainers[0].resources",
        "bitwarden-sdk-server.resources",
    ]


def test_a_chart_the_pack_has_no_model_of_is_refused() -> None:
    found = container_resources(RELEASE, _release({"resources": RESOURCES}, chart="ingress-nginx"), "n")
    assert found and "chart 'ingress-nginx'" in found[0] and "CHART_WORKLOADS" in found[0]


# --- (f) Grafana Cloud scopes ----------------------------------------------------------------------


def test_collector_scopes() -> None:
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    name = collector_policy_name("llm-judge-local")
    assert collector_scopes(policy, {"name": name, "scopes": list(ALLOWED_COLLECTOR_SCOPES)}, "c") == []
    assert collector_scopes(policy, {"name": name, "scopes": ["metrics:write"]}, "c") == []
    found = collector_scopes(
        policy, {"name": name, "scopes": ["metrics:write", "metrics:read", "stacks:read"]}, "collectors"
    )
    assert found and "['metrics:read', 'stacks:read']" in found[0] and "AccessPolicy 'collectors'" in found[0]


def test_opencosts_policy_may_read_metrics_and_nothing_else() -> None:
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    assert collector_scopes(policy, {"name": "c1-opencost", "scopes": ["metrics:read"]}, "o") == []
    found = collector_scopes(
        policy, {"name": "c1-opencost", "scopes": ["metrics:read", "metrics:write"]}, "o"
    )
    assert found and "['metrics:write']" in found[0] and "only reads metrics" in found[0]
    # Reading is OpenCost's alone: the collectors' policy (any other name) may not.
    found = collector_scopes(policy, {"name": "c1-alloy-collectors", "scopes": ["metrics:read"]}, "c")
    assert found and "['metrics:read']" in found[0]


def test_allowed_scopes_are_the_builders_definition() -> None:
    assert rules.ALLOWED_COLLECTOR_SCOPES is ALLOWED_COLLECTOR_SCOPES


def test_the_verification_policy_may_read_and_only_read() -> None:
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    name = verify_policy_name("llm-judge-local")
    reads = ["metrics:read", "logs:read", "traces:read"]
    assert collector_scopes(policy, {"name": name, "scopes": reads}) == []
    assert collector_scopes(policy, {"name": name, "scopes": ["metrics:read"]}) == []
    found = collector_scopes(policy, {"name": name, "scopes": [*reads, "metrics:write", "stacks:read"]})
    assert len(found) == 1 and "['metrics:write', 'stacks:read']" in found[0] and "only reads" in found[0]


def test_read_scopes_stay_refused_for_the_collectors() -> None:
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    found = collector_scopes(
        policy, {"name": "llm-judge-local-alloy-collectors", "scopes": ["metrics:write", "logs:read"]}
    )
    assert len(found) == 1 and "['logs:read']" in found[0] and "only writes" in found[0]


@pytest.mark.parametrize("name", ["something-else", "llm-judge-local-alloy", "-opencost", None])
def test_an_access_policy_named_none_of_the_programs_is_refused(name: str | None) -> None:
    """Even with the narrowest scope: no name means no known purpose, so no scope is known to be right."""
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    found = collector_scopes(policy, {"name": name, "scopes": ["metrics:write"]}, "p")
    assert len(found) == 1, found
    assert f"name {name!r} is none of this program's access policies" in found[0]
    assert "<clusterName>-alloy-collectors, <clusterName>-opencost, <clusterName>-verify-read" in found[0]


def _realm(*selectors: str) -> dict[str, Any]:
    labels = {"labelPolicies": [{"selector": s} for s in selectors]} if selectors else {}
    return {"type": "stack", "identifier": "123", **labels}


def test_read_policies_select_one_cluster() -> None:
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    one = cluster_selector("llm-judge-local")
    for scopes in (["metrics:read"], ["metrics:read", "logs:read", "traces:read"]):
        assert read_policies_one_cluster(policy, {"scopes": scopes, "realms": [_realm(one)]}, "r") == []
        found = read_policies_one_cluster(policy, {"scopes": scopes, "realms": [_realm()]}, "r")
        assert len(found) == 1 and "realms[0]" in found[0] and "label policies none" in found[0], scopes
    # A selector that lets other clusters through, or none on one of two realms.
    for selectors in (['{cluster=~".+"}'], ['{cluster!="x"}'], ['{namespace="llm-judge"}'], [one, "{}"]):
        found = read_policies_one_cluster(
            policy, {"scopes": ["logs:read"], "realms": [_realm(*selectors)]}, "r"
        )
        assert len(found) == 1, selectors
    found = read_policies_one_cluster(
        policy, {"scopes": ["metrics:read"], "realms": [_realm(one), _realm()]}, "r"
    )
    assert len(found) == 1 and "realms[1]" in found[0]


def test_write_and_trace_only_policies_need_no_label_policy() -> None:
    policy = "grafana:cloud/accessPolicy:AccessPolicy"
    for scopes in (list(ALLOWED_COLLECTOR_SCOPES), ["traces:read"]):
        assert read_policies_one_cluster(policy, {"scopes": scopes, "realms": [_realm()]}, "w") == []


# --- the pack's wiring -----------------------------------------------------------------------------


class _Args:
    def __init__(self, resource_type: str, props: dict[str, Any], name: str) -> None:
        self.resource_type, self.props, self.name = resource_type, props, name


def test_rules_have_unique_pack_names() -> None:
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9-]{1,100}", n) for n in names)


def test_policy_validation_reports_live_violations_only_for_its_types() -> None:
    rule = next(r for r in RULES if r.name == "no-literal-credentials")
    reported: list[tuple[str, Any]] = []
    validate = policy_validation(rule)
    # live: a real token (plaintext of a secret Output) passes, a placeholder does not
    validate(
        _Args(SECRET, _secret({"API_KEY": "glc_real"}), "creds"), lambda m, u=None: reported.append((m, u))
    )
    assert reported == []
    validate(
        _Args(SECRET, _secret({"API_KEY": "changeme"}), "creds"), lambda m, u=None: reported.append((m, u))
    )
    assert len(reported) == 1 and reported[0][1] is None
    validate(_Args(POLICY, {"policy": "{nope"}, "p"), lambda m, u=None: reported.append((m, u)))
    assert len(reported) == 1


def test_pack_entry_point_wraps_every_rule_mandatory() -> None:
    source = (Path(rules.__file__).parent / "__main__.py").read_text()
    assert "for rule in RULES" in source and "policy_validation(rule)" in source
    assert source.count("EnforcementLevel.MANDATORY") == 2


# --- the pack itself, in its own process (importing policy/__main__.py would block on its server) ---

SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def test_live_pack_sees_secrets_as_plaintext_and_enforces_rules() -> None:
    """Starts policy/__main__.py and calls it as the engine does: a secret input arrives wrapped,
    and the validator sees its plaintext — hence the live rule can only refuse placeholders."""
    pytest.importorskip("pulumi_policy", reason="pulumi-policy is installed with requirements-dev.txt")
    import subprocess
    import sys

    import grpc
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    pack = subprocess.Popen(
        [sys.executable, str(Path(rules.__file__).parent / "__main__.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert pack.stdout is not None
        port = pack.stdout.readline().strip()
        assert port.isdigit(), "the pack prints its gRPC port first"
        stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

        def analyze(type_: str, props: dict[str, Any]) -> list[tuple[str, int]]:
            struct = struct_pb2.Struct()
            struct.update(props)
            request = analyzer_pb2.AnalyzeRequest(
                type=type_, properties=struct, urn=f"urn:x::{type_}::r", name="r"
            )
            response = stub.Analyze(request, timeout=30)
            return [(d.policyName, d.enforcementLevel) for d in response.diagnostics]

        mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
        assert analyze(SECRET, {"stringData": {"API_KEY": {**SECRET_SIG, "value": "glc_real"}}}) == []
        placeholder = {"stringData": {"API_KEY": {**SECRET_SIG, "value": "changeme"}}}
        assert analyze(SECRET, placeholder) == [("no-literal-credentials", mandatory)]
        assert analyze(RELEASE, _release(_monitoring_values(), version="^4")) == [
            ("helm-chart-version-pinned", mandatory)
        ]
    finally:
        pack.terminate()
        pack.wait(timeout=10)
