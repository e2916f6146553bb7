"""The whole program under mocks, stack `eks`: cluster, IRSA, External Secrets, CloudWatch."""

from __future__ import annotations

import json

import pulumi
import pytest

from builders.credentials import KEYS, SECRET_NAME
from builders.external_secrets import (
    API_VERSION,
    IRSA_ROLE_ANNOTATION,
    READER_ACCOUNT_NAME,
    STORE_NAME,
    aws_secret_name,
)
from builders.iam import EBS_CSI_SERVICE_ACCOUNT
from builders.k8s_monitoring_names import monitoring_names
from components.alloy_monitoring import RELEASE_NAME
from tests.support import DELETE, by_type, one, prepared, settled
from tools.mocks import (
    PLACEHOLDER_OIDC_ISSUER,
    PLACEHOLDER_OIDC_PROVIDER_ARN,
    PLACEHOLDER_SUBNETS,
    PLACEHOLDER_VPC_ID,
    SECRET_SIG,
    SECRET_SIG_KEY,
    computed_outputs,
)
from tools.synth import helm_values

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CUSTOM = "kubernetes:apiextensions.k8s.io:"
CLUSTER = "eks:index:Cluster"


def roles_by_key(run) -> dict[str, dict]:
    """IRSA role key -> its trust policy (parsed)."""
    return {
        r.name.removeprefix("irsa-"): json.loads(r.inputs["assumeRolePolicy"])
        for r in by_type(run, ROLE)
        if r.name.startswith("irsa-")
    }


def custom_resource(run, kind: str):
    (found,) = [r for r in run.monitor.registrations if r.type.endswith(f":{kind}")]
    return found


@pulumi.runtime.test
def test_cluster_is_api_authenticated_with_oidc_and_a_sized_node_group():
    run = prepared("eks").start()

    def check(run):
        cluster = one(run, CLUSTER)
        assert cluster.inputs["name"] == "llm-judge-eks-prod"
        assert cluster.inputs["authenticationMode"] == "API"
        assert cluster.inputs["createOidcProvider"] is True
        assert cluster.inputs["skipDefaultNodeGroup"] is True
        assert cluster.provider_name is None  # a component: its AWS provider goes in `providers`
        nodes = one(run, "eks:index:ManagedNodeGroup")
        assert nodes.inputs["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 4}
        assert nodes.inputs["instanceTypes"] == ["t3.large"]
        addon = one(run, "aws:eks/addon:Addon")
        assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
        assert addon.inputs["serviceAccountRoleArn"].endswith(":role/llm-judge-eks-prod-ebs-csi-driver")

    return settled(run, check)


@pulumi.runtime.test
def test_the_cluster_is_the_configured_one_in_the_stacks_network_through_its_aws_provider():
    run = prepared("eks").start()

    def check(run):
        cluster, nodes = one(run, CLUSTER), one(run, "eks:index:ManagedNodeGroup")
        assert cluster.inputs["version"] == "1.33"  # Pulumi.eks.yaml kubernetesVersion
        assert cluster.inputs["vpcId"] == PLACEHOLDER_VPC_ID  # the default VPC the mocks answer
        assert cluster.inputs["subnetIds"] and set(cluster.inputs["subnetIds"]) <= set(PLACEHOLDER_SUBNETS)
        # pulumi-eks components take the AWS provider as `providers` and hand it to their children;
        # without it they would use the ambient AWS credentials and region.
        aws_provider = one(run, "pulumi:providers:aws")
        for component in (cluster, nodes):
            assert component.providers.get("aws", "").startswith(aws_provider.urn), component.name
        (node_role,) = [r for r in by_type(run, ROLE) if r.inputs["name"] == "llm-judge-eks-prod-nodes"]
        # Our role (sent as its id: the mocks turn resource references off), with its policies
        # attached before the nodes start.
        assert nodes.inputs["nodeRole"] == f"{node_role.name}-id"
        attachments = [r for r in by_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
        node_attachments = [a for a in attachments if a.name.startswith(f"{node_role.name}-")]
        assert node_attachments and {a.urn for a in node_attachments} <= set(nodes.dependencies)
        # The EBS CSI add-on needs the cluster and nodes to schedule its controller on.
        addon = one(run, "aws:eks/addon:Addon")
        assert {cluster.urn, nodes.urn} <= set(addon.dependencies)

    return settled(run, check)


@pytest.mark.parametrize("existing", [None, "shared-prod"], ids=["created", "existing"])
@pulumi.runtime.test
def test_every_irsa_trust_policy_pins_subject_and_audience(existing):
    """The condition keys are the issuer without its scheme (IAM's form), for a created cluster and
    for an existing one (whose issuer the EKS lookup returns with `https://`)."""
    run = (prepared("eks", existingClusterName=existing) if existing else prepared("eks")).start()
    names = monitoring_names(RELEASE_NAME, "llm-judge")

    def check(run):
        expected_subjects = {
            "alloy-metrics": f"system:serviceaccount:llm-judge:{names.metrics_service_account}",
            # The store's reader account in the services' namespace, not the operator's.
            "external-secrets": f"system:serviceaccount:llm-judge:{READER_ACCOUNT_NAME}",
        }
        if not existing:  # the EBS CSI driver's role comes with a cluster the program creates
            expected_subjects["ebs-csi-driver"] = (
                f"system:serviceaccount:{EBS_CSI_SERVICE_ACCOUNT.namespace}:{EBS_CSI_SERVICE_ACCOUNT.name}"
            )
        trusts = roles_by_key(run)
        assert set(trusts) == set(expected_subjects)
        for key, trust in trusts.items():
            (statement,) = trust["Statement"]
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
            assert statement["Principal"] == {"Federated": PLACEHOLDER_OIDC_PROVIDER_ARN}
            assert statement["Condition"] == {
                "StringEquals": {
                    f"{PLACEHOLDER_OIDC_ISSUER}:sub": expected_subjects[key],
                    f"{PLACEHOLDER_OIDC_ISSUER}:aud": "sts.amazonaws.com",
                }
            }

    return settled(run, check)


@pulumi.runtime.test
def test_policies_have_no_wildcard_action_and_scoped_resources():
    run = prepared("eks").start()

    def check(run):
        policies = {r.name: json.loads(r.inputs["policy"]) for r in by_type(run, ROLE_POLICY)}
        assert set(policies) == {"irsa-alloy-metrics", "irsa-external-secrets"}
        for document in policies.values():
            for statement in document["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert all("*" not in action for action in actions)
        (metrics,) = policies["irsa-alloy-metrics"]["Statement"]
        # What the exporter's static jobs call (builders/iam.py); both accept only "*".
        assert metrics["Action"] == ["cloudwatch:GetMetricStatistics", "iam:ListAccountAliases"]
        assert metrics["Resource"] == "*"
        (secrets,) = policies["irsa-external-secrets"]["Statement"]
        secret = one(run, "aws:secretsmanager/secret:Secret")
        assert secrets["Resource"].startswith("arn:aws:secretsmanager:")
        assert secrets["Resource"].endswith(f":secret:{secret.inputs['name']}-AbCdEf")
        assert sorted(secrets["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]

    return settled(run, check)


@pulumi.runtime.test
def test_external_secret_yields_the_local_secret_with_the_same_keys():
    run = prepared("eks").start()

    def check(run):
        external = custom_resource(run, "ExternalSecret")
        assert external.inputs["apiVersion"] == API_VERSION == "external-secrets.io/v1"
        # Named like the Secret it writes: one name finds both (kubectl get externalsecret,secret).
        assert (external.inputs["metadata"]["name"], external.inputs["metadata"]["namespace"]) == (
            SECRET_NAME,
            "llm-judge",
        )
        assert external.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
        spec = external.inputs["spec"]
        assert spec["target"]["name"] == SECRET_NAME
        assert [d["secretKey"] for d in spec["data"]] == [*KEYS.all(), KEYS.opencost_token]
        assert {d["remoteRef"]["key"] for d in spec["data"]} == {aws_secret_name("llm-judge-eks-prod")}
        # A store of the services' namespace, reading AWS as that namespace's reader account, which
        # carries the IRSA role; the operator itself has none.
        assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "aws-secrets-manager"}
        store = custom_resource(run, "SecretStore")
        assert store.inputs["metadata"] == {"name": "aws-secrets-manager", "namespace": "llm-judge"}
        jwt = store.inputs["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]
        assert jwt == {"name": READER_ACCOUNT_NAME}
        (reader,) = by_type(run, "kubernetes:core/v1:ServiceAccount")
        assert reader.inputs["metadata"]["namespace"] == "llm-judge"
        assert reader.inputs["metadata"]["name"] == READER_ACCOUNT_NAME
        assert reader.inputs["metadata"]["annotations"] == {
            IRSA_ROLE_ANNOTATION: "arn:aws:iam::123456789012:role/llm-judge-eks-prod-external-secrets"
        }
        assert by_type(run, "kubernetes:external-secrets.io/v1:ClusterSecretStore") == []
        operator = next(
            r
            for r in by_type(run, "kubernetes:helm.sh/v3:Release")
            if r.inputs["chart"] == "external-secrets"
        )
        assert "annotations" not in operator.inputs["values"]["serviceAccount"]
        # Waits up to five minutes for its three Deployments, rolled back if they never get ready.
        assert (operator.inputs["timeout"], operator.inputs["atomic"]) == (300, True)
        assert operator.inputs["cleanupOnFail"] is True
        # The project's chart repository (https://external-secrets.io/latest/introduction/getting-started/),
        # the exact version of Pulumi.eks.yaml, in its own namespace, after that namespace exists.
        assert operator.inputs["repositoryOpts"] == {"repo": "https://charts.external-secrets.io"}
        assert (operator.inputs["name"], operator.inputs["namespace"]) == (
            "external-secrets",
            "external-secrets",
        )
        assert operator.inputs["version"] == "2.10.0"
        namespaces = {r.inputs["metadata"]["name"]: r for r in by_type(run, "kubernetes:core/v1:Namespace")}
        assert namespaces["external-secrets"].urn in operator.dependencies
        # The store's reader account: no pod runs as it, so no token is mounted anywhere.
        reader = one(run, "kubernetes:core/v1:ServiceAccount")
        assert (reader.inputs["metadata"]["name"], reader.inputs["metadata"]["namespace"]) == (
            READER_ACCOUNT_NAME,
            "llm-judge",
        )
        assert reader.inputs["automountServiceAccountToken"] is False
        value = one(run, "aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"]
        assert isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG
        assert set(json.loads(value["value"])) == {*KEYS.all(), KEYS.opencost_token}
        assert by_type(run, "kubernetes:core/v1:Secret") == []  # the operator writes it, not us

    return settled(run, check)


@pulumi.runtime.test
def test_collectors_wait_for_the_external_secret_and_get_irsa_and_cloudwatch():
    run = prepared("eks").start()

    def check(run):
        release = next(
            r for r in by_type(run, "kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "k8s-monitoring"
        )
        assert custom_resource(run, "ExternalSecret").urn in release.dependencies
        values = helm_values(run.monitor.registrations)
        metrics = values["collectors"]["alloy-metrics"]
        assert metrics["serviceAccount"]["annotations"] == {
            "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/llm-judge-eks-prod-alloy-metrics"
        }
        assert 'prometheus.exporter.cloudwatch "sqs"' in metrics["extraConfig"]
        assert '"QueueName" = "inference_queue"' in metrics["extraConfig"]
        assert values["clusterMetrics"]["apiServer"]["enabled"] is False  # Pulumi.eks.yaml's apiServerMetrics
        assert {"operator": "Exists"} in values["collectors"]["alloy-logs"]["controller"]["tolerations"]

    return settled(run, check)


@pulumi.runtime.test
def test_every_resource_uses_the_stacks_explicit_providers():
    run = prepared("eks").start()

    def check(run):
        for r in run.monitor.registrations:
            if not r.custom or r.type.startswith(("pulumi:providers:", "pulumi-python:dynamic")):
                continue
            package, module = r.type.split(":")[:2]
            expected = {"aws": "aws", "kubernetes": "eks-cluster", "grafana": "grafana-cloud"}[package]
            if package == "grafana" and not module.startswith("cloud"):
                expected = "grafana-stack"  # the stack's Grafana, not the Cloud API
            if r.type == "kubernetes:core/v1:Namespace" and r.name == "llm-judge-namespace":
                expected = "eks-cluster-adopting"  # the app namespace alone is adopted on purpose
            assert r.provider_name == expected, r.name
        k8s_providers = {p.name: p.inputs for p in by_type(run, "pulumi:providers:kubernetes")}
        assert set(k8s_providers) == {"eks-cluster", "eks-cluster-adopting"}
        for inputs in k8s_providers.values():
            assert inputs["kubeconfig"].get(SECRET_SIG_KEY) == SECRET_SIG
        assert k8s_providers["eks-cluster"]["upsertExistingObjects"] == "false"
        assert k8s_providers["eks-cluster-adopting"]["upsertExistingObjects"] == "true"

    return settled(run, check)


@pulumi.runtime.test
def test_existing_cluster_is_looked_up_not_created():
    run = prepared("eks", existingClusterName="shared-prod").start()

    def check(run):
        assert by_type(run, CLUSTER) == []
        assert by_type(run, "eks:index:ManagedNodeGroup") == []
        assert by_type(run, "aws:eks/addon:Addon") == []
        assert set(roles_by_key(run)) == {"alloy-metrics", "external-secrets"}
        assert "aws:eks/getCluster:getCluster" in run.mocks.invoked
        (provider,) = [p for p in by_type(run, "pulumi:providers:kubernetes") if p.name == "eks-cluster"]
        kubeconfig = json.loads(provider.inputs["kubeconfig"]["value"])
        assert kubeconfig["users"][0]["user"]["exec"]["args"] == [
            "eks",
            "get-token",
            "--cluster-name",
            "shared-prod",
            "--region",
            "us-east-1",
            "--output",  # JSON whatever the user's AWS CLI output format (README, "Cluster access")
            "json",
        ]

    return settled(run, check)


@pulumi.runtime.test
def test_stack_outputs_of_eks():
    run = prepared("eks").start()

    def check(values):
        exported = dict(zip(run.outputs, values, strict=True))
        assert exported["clusterName"] == "llm-judge-eks-prod"
        assert set(exported["irsaRoleArns"]) == {"alloy-metrics", "external-secrets", "ebs-csi-driver"}
        assert exported["credentialsSecretName"] == SECRET_NAME

    return pulumi.Output.all(*run.outputs.values()).apply(check)


@pulumi.runtime.test
def test_kubeconfig_output_is_secret():
    run = prepared("eks").start()
    return pulumi.Output.from_input(run.outputs["kubeconfig"].is_secret()).apply(_assert_true)


def _assert_true(value: bool) -> None:
    assert value is True


@pulumi.runtime.test
def test_role_users_wait_for_the_roles_permissions():
    run = prepared("eks").start()

    def check(run):
        addon = one(run, "aws:eks/addon:Addon")
        (ebs_attachment,) = [
            r
            for r in by_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if "ebs-csi" in r.name
        ]
        assert ebs_attachment.urn in addon.dependencies
        # The store's reader account carries the role ARN only once the role may read the secret.
        (reader,) = by_type(run, "kubernetes:core/v1:ServiceAccount")
        (reader_policy,) = [r for r in by_type(run, ROLE_POLICY) if r.name == "irsa-external-secrets"]
        assert reader_policy.urn in reader.dependencies

    return settled(run, check)


@pulumi.runtime.test
def test_a_rotated_token_is_pushed_to_the_cluster_in_the_same_update():
    run = prepared("eks").start()

    def check(run):
        tokens = by_type(run, "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken")
        expiries = {t.name: computed_outputs(t.type, t.inputs, run.mocks.now)["expiresAt"] for t in tokens}
        annotations = custom_resource(run, "ExternalSecret").inputs["metadata"]["annotations"]
        # changes exactly when one of the tokens in the Secret does: the collectors', then OpenCost's
        assert annotations["force-sync"] == ",".join(
            expiries[n] for n in ("grafana-cloud-collectors-token", "grafana-cloud-opencost-token")
        )
        assert one(run, "aws:secretsmanager/secret:Secret").inputs["recoveryWindowInDays"] == 0

    return settled(run, check)


def _with_the_clusters_own_external_secrets():
    return prepared(
        "eks",
        existingClusterName="shared-prod",
        externalSecretsOperator="existing",
        externalSecretsChartVersion=DELETE,
    ).start()


@pulumi.runtime.test
def test_the_clusters_own_external_secrets_get_a_store_and_reader_in_the_namespace_only():
    run = _with_the_clusters_own_external_secrets()

    def check(run):
        # Nothing cluster-wide: no operator namespace or release, no ClusterSecretStore.
        assert [
            r for r in by_type(run, "kubernetes:helm.sh/v3:Release") if r.inputs["chart"] != "k8s-monitoring"
        ] == []
        assert by_type(run, "kubernetes:core/v1:Namespace") == [one(run, "kubernetes:core/v1:Namespace")]
        assert one(run, "kubernetes:core/v1:Namespace").inputs["metadata"]["name"] == "llm-judge"
        assert [r for r in run.monitor.registrations if r.type.endswith(":ClusterSecretStore")] == []
        store = custom_resource(run, "SecretStore")
        assert store.inputs["metadata"] == {"name": STORE_NAME, "namespace": "llm-judge"}
        jwt = store.inputs["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]
        assert jwt == {"name": READER_ACCOUNT_NAME}  # a SecretStore's account is in its own namespace
        reader = one(run, "kubernetes:core/v1:ServiceAccount")
        assert (reader.inputs["metadata"]["namespace"], reader.inputs["metadata"]["name"]) == (
            "llm-judge",
            READER_ACCOUNT_NAME,
        )
        role_arn = reader.inputs["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role_arn.endswith(":role/llm-judge-eks-prod-external-secrets")
        assert reader.urn in store.dependencies
        external = custom_resource(run, "ExternalSecret")
        assert external.inputs["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": STORE_NAME}
        assert store.urn in external.dependencies
        (statement,) = roles_by_key(run)["external-secrets"]["Statement"]
        subject = statement["Condition"]["StringEquals"][f"{PLACEHOLDER_OIDC_ISSUER}:sub"]
        assert subject == f"system:serviceaccount:llm-judge:{READER_ACCOUNT_NAME}"

    return settled(run, check)


@pulumi.runtime.test
def test_the_top_level_names_are_the_ones_existing_stacks_hold():
    """A resource's name is its identity in the state: a renamed component replaces everything under
    it (the Secrets Manager secret, the IRSA roles, the External Secrets objects) on the next `up`.
    Children are named from their component (tests/test_resource_identity.py); these are the roots."""
    run = prepared("eks").start()

    def check(run):
        declared = {r.urn for r in run.monitor.registrations}
        roots = {
            (r.type, r.name)
            for r in run.monitor.registrations
            if r.parent_urn not in declared and r.type != "pulumi:pulumi:Stack"  # under the stack
        }
        component = "llmjudge:observability:"
        assert roots == {
            ("pulumi:providers:aws", "aws"),
            ("pulumi:providers:grafana", "grafana-cloud"),
            ("pulumi:providers:grafana", "grafana-stack"),
            ("pulumi:providers:kubernetes", "eks-cluster"),
            ("pulumi:providers:kubernetes", "eks-cluster-adopting"),
            ("pulumi-python:dynamic/llmjudge:ClusterPreflight", "cluster-preflight"),
            (f"{component}GrafanaCloudStack", "grafana-cloud"),
            (f"{component}VerificationAccess", "verify"),
            (f"{component}EksCluster", "eks"),
            (f"{component}AppNamespace", "llm-judge"),
            (f"{component}ExternalCredentials", "grafana-cloud-credentials"),
            (f"{component}AlloyMonitoring", "k8s-monitoring"),
            (f"{component}IrsaRoles", "irsa"),
            (f"{component}StackGrafana", "stack-grafana"),
            (f"{component}AlertRules", "alerts"),
            (f"{component}Dashboards", "dashboards"),
        }

    return settled(run, check)


@pulumi.runtime.test
def test_the_preflight_reads_the_cluster_the_providers_write_to():
    run = prepared("eks").start()

    def check(run):
        kubeconfigs = [p.inputs["kubeconfig"] for p in by_type(run, "pulumi:providers:kubernetes")]
        preflight = one(run, "pulumi-python:dynamic/llmjudge:ClusterPreflight")
        # Without it the preflight would read the deployer's current kubeconfig context: another
        # cluster, where a hand-made install in this one goes unnoticed.
        assert preflight.inputs["kubeconfig"] == kubeconfigs[0] == kubeconfigs[1]
        assert preflight.inputs["external_secrets_namespace"] == "external-secrets"

    return settled(run, check)


@pytest.mark.parametrize("existing", [None, "shared-prod"], ids=["created", "existing"])
@pulumi.runtime.test
def test_every_aws_lookup_goes_through_the_stacks_provider(existing):
    """A lookup without the provider would ask the ambient AWS credentials and region."""
    overrides = {"existingClusterName": existing} if existing else {}
    run = prepared("eks", awsRegion="eu-central-1", **overrides).start()

    def check(run):
        aws_provider = one(run, "pulumi:providers:aws")
        # awsRegion, never the profile's region or AWS_REGION.
        assert aws_provider.inputs["region"] == "eu-central-1"
        lookups = [
            (token, args, ref) for token, args, ref in run.mocks.invoked_through if token.startswith("aws:")
        ]
        assert lookups and all(ref.startswith(aws_provider.urn) for _, _, ref in lookups), lookups
        if existing:
            assert {t for t, _, _ in lookups} >= {"aws:eks/getCluster:getCluster"}
            return
        # Offerings by zone id, the form the subnets' zones are compared in (builders/subnets.py).
        (offerings,) = [
            a for t, a, _ in lookups if t == "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings"
        ]
        assert offerings["locationType"] == "availability-zone-id"
        (vpcs,) = [args for token, args, _ in lookups if token == "aws:ec2/getVpcs:getVpcs"]
        # DescribeVpcs' filter for the account's default VPC in the region.
        assert vpcs["filters"] == [{"name": "is-default", "values": ["true"]}]

    return settled(run, check)


@pulumi.runtime.test
def test_configured_subnets_that_exist_are_the_clusters():
    chosen = sorted(PLACEHOLDER_SUBNETS)[:2]
    run = prepared("eks", vpcId=PLACEHOLDER_VPC_ID, subnetIds=json.dumps(chosen)).start()

    def check(run):
        assert sorted(one(run, CLUSTER).inputs["subnetIds"]) == chosen

    return settled(run, check)


@pulumi.runtime.test
def test_the_credentials_secret_is_encrypted_with_the_configured_key():
    key = "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-4567-89ab-0123456789ab"
    run = prepared("eks", secretsManagerKmsKeyArn=key).start()

    def check(run):
        secret = one(run, "aws:secretsmanager/secret:Secret")
        assert secret.inputs["kmsKeyId"] == key
        assert secret.inputs["recoveryWindowInDays"] == 0

    return settled(run, check)
