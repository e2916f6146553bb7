"""The whole program under mocks, stack `local`: what it declares, where, and how secret."""

from __future__ import annotations

import pulumi

from builders.app_instrumentation import DEFAULT_SERVICES
from builders.credentials import KEYS, SECRET_NAME
from builders.grafana_com import dashboards_for_platform
from tests.support import by_type, one, parent_of, prepared, settled
from tools.mocks import (
    PLACEHOLDER_STACK,
    SECRET_SIG,
    SECRET_SIG_KEY,
    placeholder_policy_id,
    placeholder_token,
)
from tools.synth import helm_values

POLICY = "grafana:cloud/accessPolicy:AccessPolicy"
TOKEN = "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIGMAP_PATCH = "kubernetes:core/v1:ConfigMapPatch"
DEPLOYMENT_PATCH = "kubernetes:apps/v1:DeploymentPatch"
GRAFANA_COM = "pulumi-python:dynamic/llmjudge:GrafanaComDashboard"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
PREBUILT = dashboards_for_platform("local")
AUTOMATION_ACCOUNT = "grafana:cloud/stackServiceAccount:StackServiceAccount"
AUTOMATION_TOKEN = "grafana:cloud/stackServiceAccountRotatingToken:StackServiceAccountRotatingToken"


def is_wrapped_secret(value) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


@pulumi.runtime.test
def test_local_declares_cloud_access_namespace_and_secret_under_their_components():
    run = prepared("local").start()

    def check(run):
        expected = {
            ("pulumi:providers:grafana", "grafana-cloud", None),
            ("pulumi:providers:kubernetes", "local-cluster", None),
            ("pulumi:providers:kubernetes", "local-cluster-adopting", None),
            ("pulumi-python:dynamic/llmjudge:ClusterPreflight", "cluster-preflight", None),
            ("llmjudge:observability:GrafanaCloudStack", "grafana-cloud", None),
            ("llmjudge:observability:AppNamespace", "llm-judge", None),
            ("llmjudge:observability:CredentialsSecret", "grafana-cloud-credentials", None),
            (POLICY, "grafana-cloud-collectors", "grafana-cloud"),
            (TOKEN, "grafana-cloud-collectors-token", "grafana-cloud"),
            # tools.verify's read-only access.
            ("llmjudge:observability:VerificationAccess", "verify", None),
            (POLICY, "verify-policy", "verify"),
            (TOKEN, "verify-token", "verify"),
            (POLICY, "grafana-cloud-opencost", "grafana-cloud"),
            (TOKEN, "grafana-cloud-opencost-token", "grafana-cloud"),
            (NAMESPACE, "llm-judge-namespace", "llm-judge"),
            (SECRET, "grafana-cloud-credentials-secret", "grafana-cloud-credentials"),
            ("llmjudge:observability:AlloyMonitoring", "k8s-monitoring", None),
            (HELM_RELEASE, "k8s-monitoring-release", "k8s-monitoring"),
            ("llmjudge:observability:AppInstrumentation", "llm-judge-services", None),
            (CONFIGMAP_PATCH, "llm-judge-services-app-config", "llm-judge-services"),
            *(
                (DEPLOYMENT_PATCH, f"llm-judge-services-{s.name}", "llm-judge-services")
                for s in DEFAULT_SERVICES
            ),
            # The stack's Grafana: its own provider, authenticated by a service account.
            (
                "grafana:cloud/stackServiceAccount:StackServiceAccount",
                "grafana-cloud-automation",
                "grafana-cloud",
            ),
            (AUTOMATION_TOKEN, "grafana-cloud-automation-token", "grafana-cloud"),
            ("pulumi:providers:grafana", "grafana-stack", None),
            ("llmjudge:observability:StackGrafana", "stack-grafana", None),
            ("grafana:oss/folder:Folder", "stack-grafana-folder", "stack-grafana"),
            ("llmjudge:observability:AlertRules", "alerts", None),
            ("grafana:alerting/ruleGroup:RuleGroup", "alerts-llm-judge-services", "alerts"),
            ("grafana:alerting/ruleGroup:RuleGroup", "alerts-llm-judge-pipeline", "alerts"),
            # The stack file names no alert destination; synth supplies a placeholder email list.
            ("grafana:alerting/contactPoint:ContactPoint", "alerts-email", "alerts"),
            ("llmjudge:observability:Dashboards", "dashboards", None),
            (DASHBOARD, "dashboards-llm-judge", "dashboards"),
            *((DASHBOARD, f"dashboards-{d.gnet_id}", "dashboards") for d in PREBUILT),
            *(
                (GRAFANA_COM, f"dashboards-{d.gnet_id}-source", "dashboards")
                for d in dashboards_for_platform("local")
            ),
        }
        declared = set()
        for r in run.monitor.registrations:
            parent = parent_of(run, r)
            declared.add((r.type, r.name, parent.name if parent else None))
        assert declared == expected

    return settled(run, check)


@pulumi.runtime.test
def test_every_resource_uses_an_explicit_provider():
    run = prepared("local").start()

    def check(run):
        custom = [
            r
            for r in run.monitor.registrations
            if r.custom and not r.type.startswith(("pulumi:providers:", "pulumi-python:dynamic"))
        ]
        in_stack_grafana = [r for r in custom if r.type.startswith(("grafana:oss", "grafana:alerting"))]
        assert {r.provider_name for r in in_stack_grafana} == {"grafana-stack"}
        providers = {r.name: r.provider_name for r in custom if r not in in_stack_grafana}
        assert providers == {
            "grafana-cloud-collectors": "grafana-cloud",
            "grafana-cloud-collectors-token": "grafana-cloud",
            "grafana-cloud-opencost": "grafana-cloud",
            "grafana-cloud-opencost-token": "grafana-cloud",
            "llm-judge-namespace": "local-cluster-adopting",  # adopted on purpose, alone
            "grafana-cloud-credentials-secret": "local-cluster",
            "k8s-monitoring-release": "local-cluster",
            "llm-judge-services-app-config": "local-cluster",
            **{f"llm-judge-services-{s.name}": "local-cluster" for s in DEFAULT_SERVICES},
            "grafana-cloud-automation": "grafana-cloud",
            "grafana-cloud-automation-token": "grafana-cloud",
            "verify-policy": "grafana-cloud",
            "verify-token": "grafana-cloud",
        }
        # Lookups too: without the provider they would ask the ambient credentials.
        lookups = {
            (token, ref.split("::")[-2] if ref else None) for token, _, ref in run.mocks.invoked_through
        }
        assert {provider for token, provider in lookups if token.startswith("grafana:cloud/")} == {
            "grafana-cloud"
        }
        assert {provider for token, provider in lookups if token.startswith("grafana:oss/")} <= {
            "grafana-stack"
        }
        # Reads too: a `.get()` without the provider would read the ambient kubeconfig's cluster.
        reads = {(typ, ref.split("::")[-2] if ref else None) for typ, _, ref in run.mocks.read_through}
        assert reads == {
            ("kubernetes:core/v1:ConfigMap", "local-cluster"),  # the app config the patch merges into
            ("kubernetes:apps/v1:Deployment", "local-cluster"),  # the services' containers
        }
        k8s_providers = {p.name: p.inputs for p in by_type(run, "pulumi:providers:kubernetes")}
        assert {name: inputs["context"] for name, inputs in k8s_providers.items()} == {
            "local-cluster": "kind-llm-judge",  # from Pulumi.local.yaml
            "local-cluster-adopting": "kind-llm-judge",
        }
        # Set explicitly both ways: PULUMI_K8S_UPSERT_EXISTING_OBJECTS cannot change them.
        assert k8s_providers["local-cluster"]["upsertExistingObjects"] == "false"
        assert k8s_providers["local-cluster-adopting"]["upsertExistingObjects"] == "true"

    return settled(run, check)


COLLECTORS_POLICY = "llm-judge-local-alloy-collectors"
OPENCOST_POLICY = "llm-judge-local-opencost"


def policy_named(run, name):
    (policy,) = [r for r in by_type(run, POLICY) if r.inputs["name"] == name]
    return policy


def token_of(run, policy_name):
    (token,) = [
        r for r in by_type(run, TOKEN) if r.inputs["accessPolicyId"] == placeholder_policy_id(policy_name)
    ]
    return token


@pulumi.runtime.test
def test_access_policy_is_realm_of_the_stack_with_exactly_the_write_scopes():
    run = prepared("local").start()

    def check(run):
        policy = policy_named(run, COLLECTORS_POLICY)
        assert sorted(policy.inputs["scopes"]) == ["logs:write", "metrics:write", "traces:write"]
        assert policy.inputs["realms"] == [{"type": "stack", "identifier": PLACEHOLDER_STACK["id"]}]
        assert policy.inputs["region"] == PLACEHOLDER_STACK["regionSlug"]

    return settled(run, check)


@pulumi.runtime.test
def test_opencost_has_its_own_read_only_policy_on_the_stack():
    run = prepared("local").start()

    def check(run):
        policy = policy_named(run, OPENCOST_POLICY)
        assert policy.inputs["scopes"] == ["metrics:read"]
        assert policy.inputs["realms"] == [
            {
                "type": "stack",
                "identifier": PLACEHOLDER_STACK["id"],
                "labelPolicies": [{"selector": '{cluster="llm-judge-local"}'}],  # this cluster's metrics
            }
        ]
        token = token_of(run, OPENCOST_POLICY)
        assert token.inputs["deleteOnDestroy"] is False  # left to expire, as the collectors' token
        assert token.inputs["expireAfter"] == token_of(run, COLLECTORS_POLICY).inputs["expireAfter"]

    return settled(run, check)


@pulumi.runtime.test
def test_no_opencost_policy_without_cost_metrics():
    run = prepared("local", features='{"costMetrics": false}').start()

    def check(run):
        # Registration order follows Output resolution, which varies from run to run.
        assert sorted(r.inputs["name"] for r in by_type(run, POLICY)) == [
            COLLECTORS_POLICY,
            "llm-judge-local-verify-read",
        ]
        assert KEYS.opencost_token not in one(run, SECRET).inputs["stringData"]["value"]

    return settled(run, check)


@pulumi.runtime.test
def test_scopes_shrink_with_the_features_that_need_them():
    features = '{"podLogs": false, "clusterEvents": false, "applicationObservability": false}'
    run = prepared("local", features=features).start()
    return settled(run, lambda run: _assert_scopes(run, ["metrics:write"]))


def _assert_scopes(run, expected):
    assert policy_named(run, COLLECTORS_POLICY).inputs["scopes"] == expected


@pulumi.runtime.test
def test_token_expires_and_rotates_as_configured():
    run = prepared("local", collectorTokenLifetimeDays="60", collectorTokenRotateBeforeDays="10").start()

    def check(run):
        for policy in (COLLECTORS_POLICY, OPENCOST_POLICY):
            token = token_of(run, policy)  # the token of that policy (its policyId)
            assert token.inputs["expireAfter"] == "1440h"
            assert token.inputs["earlyRotationWindow"] == "240h"
            # The old token is left to expire, never revoked while its readers may still use it.
            assert token.inputs["deleteOnDestroy"] is False
            assert token.inputs["region"] == PLACEHOLDER_STACK["regionSlug"]

    return settled(run, check)


@pulumi.runtime.test
def test_grafana_service_account_is_enabled_and_its_token_rotates_as_configured():
    run = prepared("local", collectorTokenLifetimeDays="60", collectorTokenRotateBeforeDays="10").start()

    def check(run):
        account = one(run, AUTOMATION_ACCOUNT)
        assert account.inputs["isDisabled"] is False  # a disabled account's token is refused
        token = one(run, AUTOMATION_TOKEN)
        assert token.inputs["secondsToLive"] == 60 * 86400
        assert token.inputs["earlyRotationWindowSeconds"] == 10 * 86400
        # Revoked once replaced: the stack's Grafana provider takes the current token on every run.
        assert token.inputs["deleteOnDestroy"] is True

    return settled(run, check)


@pulumi.runtime.test
def test_secret_has_the_plan_keys_and_is_secret_as_a_whole():
    run = prepared("local").start()

    def check(run):
        secret = one(run, SECRET)
        assert secret.inputs["metadata"]["name"] == SECRET_NAME
        assert secret.inputs["metadata"]["namespace"] == "llm-judge"
        string_data = secret.inputs["stringData"]
        assert is_wrapped_secret(string_data)
        assert set(string_data["value"]) == {*KEYS.all(), KEYS.opencost_token}
        assert string_data["value"][KEYS.token] == placeholder_token(COLLECTORS_POLICY)
        assert string_data["value"][KEYS.opencost_token] == placeholder_token(OPENCOST_POLICY)
        assert string_data["value"][KEYS.instance_id] == PLACEHOLDER_STACK["id"]
        assert string_data["value"][KEYS.loki_endpoint].endswith("/loki/api/v1/push")

    return settled(run, check)


@pulumi.runtime.test
def test_cloud_api_token_reaches_the_provider_as_a_secret():
    run = prepared("local").start()
    return settled(
        run,
        lambda run: _assert(
            is_wrapped_secret(grafana_provider(run, "grafana-cloud").inputs["cloudAccessPolicyToken"])
        ),
    )


def grafana_provider(run, name):
    return next(r for r in by_type(run, "pulumi:providers:grafana") if r.name == name)


@pulumi.runtime.test
def test_stack_grafana_is_reached_with_the_service_account_token_as_a_secret():
    run = prepared("local").start()

    def check(run):
        provider = grafana_provider(run, "grafana-stack")
        assert provider.inputs["url"] == PLACEHOLDER_STACK["url"]
        assert is_wrapped_secret(provider.inputs["auth"])
        assert provider.inputs["auth"]["value"] == "glsa_placeholder-service-account-token"
        account = one(run, "grafana:cloud/stackServiceAccount:StackServiceAccount")
        # Admin of the stack's organization: the alerting provisioning API needs it.
        assert account.inputs["role"] == "Admin"

    return settled(run, check)


def _assert(condition: bool) -> None:
    assert condition


@pulumi.runtime.test
def test_namespace_survives_destroy_and_is_adopted_if_present():
    run = prepared("local").start()

    def check(run):
        namespace = one(run, NAMESPACE)
        assert namespace.retain_on_delete
        assert namespace.inputs["metadata"]["name"] == "llm-judge"
        # The one label the program sets; on an existing namespace the upserting create is a
        # server-side apply, which leaves the labels it does not set to their owners.
        assert namespace.inputs["metadata"]["labels"] == {"app.kubernetes.io/part-of": "llm-judge"}

    return settled(run, check)


@pulumi.runtime.test
def test_the_preflight_reads_the_cluster_the_providers_write_to():
    run = prepared("local", kubeContext="k3d-judge-dev").start()

    def check(run):
        contexts = {p.name: p.inputs["context"] for p in by_type(run, "pulumi:providers:kubernetes")}
        assert contexts == {"local-cluster": "k3d-judge-dev", "local-cluster-adopting": "k3d-judge-dev"}
        # Without the context the preflight would read the kubeconfig's current context: another
        # cluster's namespace, and a hand-made install in this one would go unnoticed.
        preflight = one(run, "pulumi-python:dynamic/llmjudge:ClusterPreflight")
        assert preflight.inputs["kube_context"] == "k3d-judge-dev"
        assert preflight.inputs["namespace"] == "llm-judge"

    return settled(run, check)


@pulumi.runtime.test
def test_the_local_release_adds_no_alloy_config_of_its_own():
    # No SQS queues to read on local (eks: tests/components/test_alloy_monitoring.py): any text here
    # would be loaded by the metrics collector as Alloy configuration, and a collector that cannot
    # parse it does not start ("errors during the initial load": `alloy run` exits,
    # https://grafana.com/docs/alloy/latest/reference/cli/run/).
    run = prepared("local").start()

    def check(run):
        values = helm_values(run.monitor.registrations)
        assert values is not None
        assert values["collectors"] and all("extraConfig" not in c for c in values["collectors"].values())

    return settled(run, check)


@pulumi.runtime.test
def test_namespace_from_config_is_used_by_namespace_and_secret():
    run = prepared("local", namespace="judge-dev").start()

    def check(run):
        assert one(run, NAMESPACE).inputs["metadata"]["name"] == "judge-dev"
        assert one(run, SECRET).inputs["metadata"]["namespace"] == "judge-dev"

    return settled(run, check)


@pulumi.runtime.test
def test_stack_outputs_hold_no_credential_but_the_secret_verify_token():
    run = prepared("local").start()
    names = list(run.outputs)

    def check(values):
        exported = dict(zip(names, values[: len(names)], strict=True))
        secret = dict(zip(names, values[len(names) :], strict=True))
        assert exported["credentialsSecretName"] == SECRET_NAME
        assert exported["grafanaUrl"] == PLACEHOLDER_STACK["url"]
        # Every rotating token's placeholder holds "placeholder-token": the collectors' and OpenCost's
        # tokens are in no output; the read-only verification token is in exactly one, a secret one.
        assert {k for k, v in exported.items() if "placeholder-token" in str(v)} == {"verifyToken"}
        assert {k for k, is_secret in secret.items() if is_secret} == {"verifyToken"}
        assert len(by_type(run, TOKEN)) == 3  # the collectors', OpenCost's and the verification's
        assert exported["opencostTokenExpiresAt"] == exported["collectorTokenExpiresAt"]  # same lifetime

    return pulumi.Output.all(
        *run.outputs.values(), *(pulumi.Output.from_input(o.is_secret()) for o in run.outputs.values())
    ).apply(check)
