"""Single realistic mistakes, each applied to both stacks' real resources, refused on both paths the
pack runs; benign changes pass both.

- CI: every rule over the synth's records (`tools.synth.resource_records`: secrets as "[secret]"),
  as tests/policy/test_synth_passes_policies.py does over resources.json.
- Live: policy/__main__.py in its own process, asked over gRPC with the resource inputs as the
  engine sends them (secrets in the secret wrapper, which pulumi-policy unwraps to plain values).

Each stack runs once under mocks; a mistake edits a copy of its inputs. A mistake about a resource
one stack does not have (IAM on local, the ExternalSecret on local) adds that resource there.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from policy.rules import RULES
from tests.policy.live_pack import LivePack, live_pack
from tools.mocks import SECRET_SIG, SECRET_SIG_KEY, redact
from tools.program import run_to_completion, stack_file_config

STACKS = ("local", "eks")
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
ACCESS_POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
DEPLOYMENT_PATCH = "kubernetes:apps/v1:DeploymentPatch"
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
TOKEN = "glc_eyJvIjoiMTIzNDU2IiwibiI6ImxpdGVyYWwifQ=="  # a realistic token, not a placeholder


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]  # as the engine sends them: secrets still wrapped


Resources = list[Resource]


@pytest.fixture(scope="module")
def stacks() -> dict[str, Resources]:
    found = {}
    for stack in STACKS:
        run = run_to_completion(stack, *stack_file_config(stack))
        found[stack] = [Resource(r.type, r.name, r.inputs) for r in run.monitor.registrations]
    return found


@pytest.fixture(scope="module")
def pack() -> Iterator[LivePack]:
    pytest.importorskip("pulumi_policy", reason="pulumi-policy is installed with requirements-dev.txt")
    with live_pack() as running:
        yield running


# --- the two paths ---------------------------------------------------------------------------


def ci_violations(resources: Resources) -> list[tuple[str, str, str]]:
    """(rule, resource, message) over the synth's view: secrets redacted, JSON round trip."""
    found = []
    for resource in resources:
        record = json.loads(json.dumps(redact(resource.inputs)))
        for rule in RULES:
            found += [
                (rule.name, resource.name, m) for m in rule.violations(resource.type, record, resource.name)
            ]
    return found


def live_violations(pack: LivePack, resources: Resources) -> list[tuple[str, str, str]]:
    found = []
    for resource in resources:
        found += [
            (rule, resource.name, m)
            for rule, m, _ in pack.analyze(resource.type, resource.name, resource.inputs)
        ]
    return found


# --- finding and adding resources --------------------------------------------------------------


def release(resources: Resources, chart: str) -> Resource | None:
    return next((r for r in resources if r.type == HELM_RELEASE and r.inputs.get("chart") == chart), None)


def first(resources: Resources, type_: str) -> Resource | None:
    return next((r for r in resources if r.type == type_), None)


def added(resources: Resources, type_: str, name: str, inputs: dict[str, Any]) -> Resource:
    resource = Resource(type_, name, inputs)
    resources.append(resource)
    return resource


def monitoring(resources: Resources) -> dict[str, Any]:
    found = release(resources, "k8s-monitoring")
    assert found is not None, "both stacks install k8s-monitoring"
    return found.inputs["values"]


def eso_release(resources: Resources) -> Resource:
    """The External Secrets release: the eks stack's own; on local one like it is added."""
    return release(resources, "external-secrets") or added(
        resources,
        HELM_RELEASE,
        "external-secrets",
        {
            "chart": "external-secrets",
            "version": "2.10.0",
            "values": {
                "resources": RESOURCES,
                "webhook": {"resources": RESOURCES},
                "certController": {"resources": RESOURCES},
            },
        },
    )


def external_secret(resources: Resources) -> Resource:
    return first(resources, EXTERNAL_SECRET) or added(
        resources,
        EXTERNAL_SECRET,
        "external-secret",
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "grafana-cloud-credentials", "namespace": "llm-judge"},
            "spec": {
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"},
                "target": {"name": "grafana-cloud-credentials"},
                "data": [{"secretKey": "K", "remoteRef": {"key": "llm-judge/grafana-cloud-credentials"}}],
            },
        },
    )


SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:llm-judge/grafana-cloud-credentials-AbCdEf"


def secret_reader(resources: Resources) -> dict[str, Any]:
    """The statement granting the credentials secret (eks: the operator's role policy)."""
    policy = next((r for r in resources if r.type == ROLE_POLICY and "secretsmanager" in str(r.inputs)), None)
    if policy is None:
        document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": SECRET_ARN}]}
        document["Statement"][0]["Action"] = ["secretsmanager:GetSecretValue"]
        policy = added(resources, ROLE_POLICY, "secret-reader", {"role": "r", "policy": json.dumps(document)})
    return policy.inputs


def edit_policy(inputs: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(inputs["policy"])
    change(document["Statement"][0])
    inputs["policy"] = json.dumps(document)


def deployment_patch(resources: Resources) -> dict[str, Any]:
    patch = first(resources, DEPLOYMENT_PATCH) or added(
        resources,
        DEPLOYMENT_PATCH,
        "gateway-service",
        {"metadata": {"name": "gateway-service"}, "spec": {"template": {"spec": {"containers": [{}]}}}},
    )
    container = patch.inputs["spec"]["template"]["spec"]["containers"][0]
    container.setdefault("name", "gateway-service")
    return container


# --- the mistakes (rule that must refuse them) and the benign changes ----------------------------

Change = Callable[[Resources], None]


def token_in_helm_env(resources: Resources) -> None:
    alloy = monitoring(resources)["collectors"]["alloy-metrics"].setdefault("alloy", {})
    alloy["extraEnv"] = [{"name": "GRAFANA_CLOUD_API_KEY", "value": TOKEN}]


def secret_token_in_helm_env(resources: Resources) -> None:
    """The token as a secret Output: still stored in the Helm release Secret, printed by `helm get values`."""
    alloy = monitoring(resources)["collectors"]["alloy-metrics"].setdefault("alloy", {})
    alloy["extraEnv"] = [
        {"name": "GRAFANA_CLOUD_API_KEY", "value": {SECRET_SIG_KEY: SECRET_SIG, "value": TOKEN}}
    ]


def password_in_alloy_config(resources: Resources) -> None:
    logs = monitoring(resources)["collectors"]["alloy-logs"]
    logs["extraConfig"] = (
        logs.get("extraConfig", "")
        + 'loki.write "backup" {\n  endpoint {\n    url = "https://logs.example.com/loki/api/v1/push"\n'
        + '    basic_auth {\n      username = "1234"\n      password = "s3cr3t-Backup-2024"\n    }\n  }\n}\n'
    )


def every_secret_of_the_account(resources: Resources) -> None:
    edit_policy(
        secret_reader(resources),
        lambda s: s.update(Resource="arn:aws:secretsmanager:us-east-1:123456789012:secret:*"),
    )


def every_role_of_the_account(resources: Resources) -> None:
    edit_policy(
        secret_reader(resources),
        lambda s: s.update(Action=["iam:PassRole"], Resource="arn:aws:iam::123456789012:role/*"),
    )


def administrator_access(resources: Resources) -> None:
    added(
        resources,
        ATTACHMENT,
        "admin",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )


def reloader_without_resources(resources: Resources) -> None:
    del monitoring(resources)["collectors"]["alloy-metrics"]["configReloader"]["resources"]


def external_secrets_webhook_without_resources(resources: Resources) -> None:
    del eso_release(resources).inputs["values"]["webhook"]["resources"]


def external_secrets_controller_without_resources(resources: Resources) -> None:
    del eso_release(resources).inputs["values"]["resources"]


def find_every_secret(resources: Resources) -> None:
    external_secret(resources).inputs["spec"]["dataFrom"] = [{"find": {"name": {"regexp": ".*"}}}]


def cluster_store(resources: Resources, conditions: list[dict[str, Any]] | None) -> None:
    """A ClusterSecretStore like the one the eks stack had before it used a namespaced SecretStore."""
    spec: dict[str, Any] = {"provider": {"aws": {"service": "SecretsManager", "region": "us-east-1"}}}
    if conditions is not None:
        spec["conditions"] = conditions
    added(
        resources,
        "kubernetes:external-secrets.io/v1:ClusterSecretStore",
        "store",
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": "aws-secrets-manager"},
            "spec": spec,
        },
    )


def store_for_every_namespace(resources: Resources) -> None:
    cluster_store(resources, None)


def store_for_namespaces_matching_a_regex(resources: Resources) -> None:
    cluster_store(resources, [{"namespaces": ["llm-judge"]}, {"namespaceRegexes": ["^llm-"]}])


def store_for_one_namespace(resources: Resources) -> None:
    cluster_store(resources, [{"namespaces": ["llm-judge"]}])


def controller_with_an_aws_role(resources: Resources) -> None:
    account = eso_release(resources).inputs["values"].setdefault("serviceAccount", {})
    account["annotations"] = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/eso"}


def read_policy_of_every_cluster(resources: Resources) -> None:
    """tools.verify's policy without its label policy: its token would read every cluster's data."""
    (policy,) = [r for r in resources if r.type == ACCESS_POLICY and r.name == "verify-policy"]
    del policy.inputs["realms"][0]["labelPolicies"]


def token_in_container_env(resources: Resources) -> None:
    deployment_patch(resources).setdefault("env", []).append(
        {"name": "OPENAI_API_KEY", "value": "sk-proj-abc123"}
    )


def access_policy_of_no_known_kind(resources: Resources) -> None:
    """A fourth access policy, say for a backfill job, with the narrowest write scope: nothing says
    what it is for, so no scope is known to be right for it."""
    collectors = first(resources, ACCESS_POLICY)
    assert collectors is not None, "both stacks declare access policies"
    inputs = {**copy.deepcopy(collectors.inputs), "name": "llm-judge-backfill", "scopes": ["metrics:write"]}
    added(resources, ACCESS_POLICY, "backfill", inputs)


MISTAKES: dict[str, tuple[Change, str]] = {
    "token-in-helm-env-list": (token_in_helm_env, "no-literal-credentials"),
    "secret-token-in-helm-env-list": (secret_token_in_helm_env, "no-literal-credentials"),
    "password-in-alloy-extra-config": (password_in_alloy_config, "no-literal-credentials"),
    "token-in-container-env": (token_in_container_env, "no-literal-credentials"),
    "secret-arn-wildcard": (every_secret_of_the_account, "iam-least-privilege"),
    "role-arn-wildcard": (every_role_of_the_account, "iam-least-privilege"),
    "administrator-access-attached": (administrator_access, "iam-managed-policies-allow-listed"),
    "config-reloader-without-resources": (reloader_without_resources, "containers-have-requests-and-limits"),
    "eso-webhook-without-resources": (
        external_secrets_webhook_without_resources,
        "containers-have-requests-and-limits",
    ),
    "eso-controller-without-resources": (
        external_secrets_controller_without_resources,
        "containers-have-requests-and-limits",
    ),
    "external-secret-finds-every-secret": (find_every_secret, "external-secrets-name-their-keys"),
    "access-policy-of-no-known-kind": (access_policy_of_no_known_kind, "grafana-collector-scopes"),
    "read-policy-of-every-cluster": (read_policy_of_every_cluster, "grafana-read-policies-one-cluster"),
    "cluster-secret-store-for-every-namespace": (
        store_for_every_namespace,
        "secret-stores-serve-one-namespace",
    ),
    "cluster-secret-store-namespace-regex": (
        store_for_namespaces_matching_a_regex,
        "secret-stores-serve-one-namespace",
    ),
    "external-secrets-controller-with-aws-role": (
        controller_with_an_aws_role,
        "secret-stores-serve-one-namespace",
    ),
}


def reloader_annotations(resources: Resources) -> None:
    controller = monitoring(resources)["collectors"]["alloy-metrics"].setdefault("controller", {})
    controller["podAnnotations"] = {
        "secret.reloader.stakater.com/reload": "grafana-cloud-credentials",
        "checksum/secret": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    }


def token_from_a_secret_in_helm_env(resources: Resources) -> None:
    alloy = monitoring(resources)["collectors"]["alloy-metrics"].setdefault("alloy", {})
    alloy["extraEnv"] = [
        {
            "name": "GRAFANA_CLOUD_API_KEY",
            "valueFrom": {
                "secretKeyRef": {"name": "grafana-cloud-credentials", "key": "GRAFANA_CLOUD_API_KEY"}
            },
        }
    ]


def alloy_config_reading_the_secret(resources: Resources) -> None:
    logs = monitoring(resources)["collectors"]["alloy-logs"]
    logs["extraConfig"] = (
        logs.get("extraConfig", "")
        + 'remote.kubernetes.secret "backup" {\n  name = "grafana-cloud-credentials"\n'
        + '  namespace = "llm-judge"\n}\n'
        + 'loki.write "backup" {\n  endpoint {\n    url = "https://logs.example.com/loki/api/v1/push"\n'
        + '    basic_auth {\n      username = "1234"\n'
        + '      password = remote.kubernetes.secret.backup.data["GRAFANA_CLOUD_API_KEY"]\n'
        + '      password_file = "/var/run/secrets/backup/password"\n    }\n  }\n}\n'
    )


def exact_arn_with_suffix_wildcard(resources: Resources) -> None:
    # `??????` stands for the six random characters AWS appends to a secret's ARN, nothing more.
    edit_policy(
        secret_reader(resources), lambda s: s.update(Resource=[SECRET_ARN, SECRET_ARN[:-6] + "??????"])
    )


def eks_cluster_policy(resources: Resources) -> None:
    # What pulumi-eks attaches to the cluster role in a real run (the mocks do not show its children).
    added(
        resources,
        ATTACHMENT,
        "eksRole-0",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"},
    )
    added(
        resources,
        ATTACHMENT,
        "gov-nodes",
        {"role": "r", "policyArn": "arn:aws-us-gov:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
    )


def reloader_turned_off(resources: Resources) -> None:
    monitoring(resources)["collectors"]["alloy-metrics"]["configReloader"] = {"enabled": False}


def eso_webhook_turned_off(resources: Resources) -> None:
    values = eso_release(resources).inputs["values"]
    values["webhook"] = {"create": False}


def narrowed_find_and_extract(resources: Resources) -> None:
    external_secret(resources).inputs["spec"]["dataFrom"] = [
        {"find": {"path": "llm-judge/", "name": {"regexp": "^llm-judge/grafana-"}}},
        {"extract": {"key": "llm-judge/grafana-cloud-credentials"}},
    ]


def plain_env_in_container(resources: Resources) -> None:
    deployment_patch(resources).setdefault("env", []).append(
        {"name": "TOKEN_PATH", "value": "/var/run/token"}
    )


BENIGN: dict[str, Change] = {
    "reloader-annotations-naming-secret": reloader_annotations,
    "token-from-a-secret-in-helm-env": token_from_a_secret_in_helm_env,
    "alloy-config-reading-the-secret": alloy_config_reading_the_secret,
    "exact-arn-and-suffix-placeholder": exact_arn_with_suffix_wildcard,
    "eks-cluster-and-gov-node-policies": eks_cluster_policy,
    "config-reloader-turned-off": reloader_turned_off,
    "eso-webhook-turned-off": eso_webhook_turned_off,
    "narrowed-find-and-extract": narrowed_find_and_extract,
    "plain-env-in-container": plain_env_in_container,
    "cluster-secret-store-for-one-namespace": store_for_one_namespace,
}


def _apply(stacks: dict[str, Resources], stack: str, change: Change) -> tuple[Resources, Resources]:
    """(all resources after the change, the ones it touched or added)."""
    resources = copy.deepcopy(stacks[stack])
    before = json.dumps([(r.type, r.name, r.inputs) for r in resources], default=str)
    change(resources)
    old = json.loads(before)
    touched = [r for i, r in enumerate(resources) if i >= len(old) or [r.type, r.name, r.inputs] != old[i]]
    assert touched, "the change changed nothing"
    return resources, touched


def test_both_stacks_pass_both_paths_unchanged(stacks: dict[str, Resources], pack: LivePack) -> None:
    for stack, resources in stacks.items():
        assert ci_violations(resources) == [], stack
        assert live_violations(pack, resources) == [], stack


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_each_mistake_is_refused_on_both_paths(
    stacks: dict[str, Resources], pack: LivePack, stack: str, mistake: str
) -> None:
    change, rule = MISTAKES[mistake]
    resources, touched = _apply(stacks, stack, change)
    names = {r.name for r in touched}
    ci = ci_violations(resources)
    assert ci and {(v[0], v[1]) for v in ci} <= {(rule, name) for name in names}, ci
    live = live_violations(pack, touched)
    assert live and {(v[0], v[1]) for v in live} <= {(rule, name) for name in names}, live


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("change", BENIGN, ids=list(BENIGN))
def test_each_benign_change_passes_both_paths(
    stacks: dict[str, Resources], pack: LivePack, stack: str, change: str
) -> None:
    resources, touched = _apply(stacks, stack, BENIGN[change])
    assert ci_violations(resources) == []
    assert live_violations(pack, touched) == []
