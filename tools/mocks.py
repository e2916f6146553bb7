"""Pulumi mocks that stand in for the engine, the providers and the lookups.

Used by the offline synth and by the tests, so both run the program exactly the same way.
Lookups answer with values that say they are placeholders; an invoke this file does not
know is an error, so a new data source cannot slip through unmocked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2

from builders.preflight import (
    EXTERNAL_SECRETS_CRD,
    HELM_OWNER,
    HELM_OWNER_LABEL,
    ExternalSecretsSeen,
    HelmRevision,
    SecretSeen,
    encode_release,
    external_secrets_message,
    handover_message,
    handovers,
)
from dynamic.grafana_com_dashboard import MODEL_KEY, compress_model

SECRET_SIG_KEY = rpc._special_sig_key  # "4dabf18193072939515e22adb298388d"
SECRET_SIG = rpc._special_secret_sig  # "1b47061264138c4ac30d75fd1eb44270"
SECRET_SHOWN_AS = "[secret]"
DYNAMIC_PROVIDER_KEY = "__provider"

# Answers of the lookups the program makes. Every value says it is a placeholder.
PLACEHOLDER_STACK = {
    "id": "000000",
    "slug": "placeholder",
    "name": "placeholder stack (offline synth)",
    "url": "https://placeholder.grafana.net",
    "regionSlug": "placeholder-region",
    "clusterSlug": "prod-placeholder-0",
    "prometheusRemoteWriteEndpoint": "https://prometheus-prod-placeholder.grafana.net/api/prom/push",
    "prometheusUrl": "https://prometheus-prod-placeholder.grafana.net",
    "prometheusUserId": 100000,
    "logsUrl": "https://logs-prod-placeholder.grafana.net",
    "logsUserId": 200000,
    "tracesUrl": "https://tempo-prod-placeholder.grafana.net",
    "tracesUserId": 300000,
    "otlpUrl": "https://otlp-gateway-prod-placeholder.grafana.net/otlp",
}

PLACEHOLDER_ACCOUNT = "123456789012"  # AWS's documentation account id
PLACEHOLDER_OIDC_ISSUER = "oidc.eks.placeholder-region.amazonaws.com/id/PLACEHOLDER0000000000000000000000"
PLACEHOLDER_OIDC_PROVIDER_ARN = f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:oidc-provider/{PLACEHOLDER_OIDC_ISSUER}"
PLACEHOLDER_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "placeholder", "cluster": {"server": "https://placeholder.eks.amazonaws.com"}}],
}


def _existing_eks_cluster(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": args["name"],
        "arn": f"arn:aws:eks:placeholder-region:{PLACEHOLDER_ACCOUNT}:cluster/{args['name']}",
        "endpoint": "https://placeholder.eks.amazonaws.com",
        "certificateAuthorities": [{"data": "cGxhY2Vob2xkZXItY2E="}],
        "identities": [{"oidcs": [{"issuer": f"https://{PLACEHOLDER_OIDC_ISSUER}"}]}],
    }


# The account's default VPC, modelled on us-east-1's six Availability Zones, one default subnet
# each; the node instance types are offered everywhere but use1-az3 (as reported in the account of
# pulumi/pulumi-eks#1401). Ids are zeros so they read as placeholders and still parse as ids.
PLACEHOLDER_VPC_ID = "vpc-00000000000000000"
PLACEHOLDER_SUBNETS = {f"subnet-{n:017x}": f"use1-az{n}" for n in range(1, 7)}  # id -> zone id
PLACEHOLDER_ZONES_WITHOUT_OFFERINGS = frozenset({"use1-az3"})


def _filter_values(args: dict[str, Any], name: str) -> list[str] | None:
    found = [f["values"] for f in args.get("filters") or [] if f["name"] == name]
    return found[0] if found else None


def _subnet_ids(args: dict[str, Any]) -> dict[str, Any]:
    vpc = _filter_values(args, "vpc-id")
    wanted = _filter_values(args, "subnet-id")
    in_vpc = list(PLACEHOLDER_SUBNETS) if vpc == [PLACEHOLDER_VPC_ID] else []
    return {"id": "placeholder-region", "ids": [s for s in in_vpc if wanted is None or s in wanted]}


def _subnet(args: dict[str, Any]) -> dict[str, Any]:
    zone = PLACEHOLDER_SUBNETS[args["id"]]  # KeyError like the provider's "no matching subnet"
    return {
        "id": args["id"],
        "vpcId": PLACEHOLDER_VPC_ID,
        "availabilityZoneId": zone,
        "tags": {"Name": "placeholder default subnet (offline synth)"},
    }


def _instance_type_offerings(args: dict[str, Any]) -> dict[str, Any]:
    offers = [
        (instance_type, zone)
        for instance_type in _filter_values(args, "instance-type") or []
        for zone in sorted(set(PLACEHOLDER_SUBNETS.values()) - PLACEHOLDER_ZONES_WITHOUT_OFFERINGS)
    ]
    return {
        "id": "placeholder-region",
        "instanceTypes": [t for t, _ in offers],
        "locations": [z for _, z in offers],
        "locationTypes": [args.get("locationType")] * len(offers),
    }


PLACEHOLDER_GRAFANA_COM_DASHBOARD = {
    "title": "placeholder dashboard (offline synth: grafana.com is not contacted)",
    "__inputs": [{"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"}],
    "panels": [{"type": "timeseries", "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}}],
    # The pinned Kubernetes views each have a `cluster` variable of this shape, opening on nothing
    # (../shared/dashboards/15757-k8s-views-global.json `templating.list`).
    "templating": {
        "list": [
            {
                "name": "cluster",
                "type": "query",
                "current": {},
                "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
                "query": {"qryType": 1, "query": "label_values(kube_node_info,cluster)"},
            }
        ]
    },
}


def _stack_data_source(args: dict[str, Any]) -> dict[str, Any]:
    name = args["name"]
    kind = name.rsplit("-", 1)[-1]
    return {"name": name, "uid": f"placeholder-{kind}", "type": kind}


# Invoke token -> answer builder(args). Nothing else may be invoked.
INVOKES: dict[str, Any] = {
    "grafana:oss/getDataSource:getDataSource": _stack_data_source,
    "grafana:cloud/getStack:getStack": lambda args: {**PLACEHOLDER_STACK, "slug": args["slug"]},
    "aws:eks/getCluster:getCluster": _existing_eks_cluster,
    "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": lambda args: {
        "arn": PLACEHOLDER_OIDC_PROVIDER_ARN,
        "url": args["url"],
    },
    "aws:ec2/getVpcs:getVpcs": lambda args: {"id": "placeholder-region", "ids": [PLACEHOLDER_VPC_ID]},
    "aws:ec2/getSubnets:getSubnets": _subnet_ids,
    "aws:ec2/getSubnet:getSubnet": _subnet,
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": _instance_type_offerings,
}


def _expires_at(expire_after: str, now: dt.datetime) -> str:
    hours = int(re.fullmatch(r"(\d+)h", expire_after).group(1))  # type: ignore[union-attr]
    return (now + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def placeholder_policy_id(policy_name: str) -> str:
    """An access policy's placeholder id, one per policy, so a token shows which policy it belongs to."""
    return f"placeholder-policy-id-{policy_name}"


def placeholder_token(name_prefix: str) -> str:
    """An access-policy token's placeholder value, one per token, so tests can follow where it goes."""
    return f"glc_placeholder-token-offline-synth-{name_prefix}"


def computed_outputs(type_: str, inputs: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Outputs a real provider computes, under the provider's camelCase names."""
    if type_ == "eks:index:Cluster":
        # A remote component: mocks see it alone, without children, so it must answer every
        # output the program reads.
        return {
            "kubeconfig": PLACEHOLDER_KUBECONFIG,
            "kubeconfigJson": json.dumps(PLACEHOLDER_KUBECONFIG),
            "oidcProviderArn": PLACEHOLDER_OIDC_PROVIDER_ARN,
            "oidcProviderUrl": f"https://{PLACEHOLDER_OIDC_ISSUER}",
            "oidcIssuer": PLACEHOLDER_OIDC_ISSUER,
        }
    if type_ == "aws:iam/role:Role":
        return {"arn": f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/{inputs.get('name', 'placeholder')}"}
    if type_ == "aws:secretsmanager/secret:Secret":
        name = inputs.get("name", "placeholder")
        return {
            "arn": f"arn:aws:secretsmanager:placeholder-region:{PLACEHOLDER_ACCOUNT}:secret:{name}-AbCdEf"
        }
    if type_ == "grafana:cloud/stackServiceAccountRotatingToken:StackServiceAccountRotatingToken":
        return {"key": "glsa_placeholder-service-account-token", "hasExpired": False}
    if type_ == "grafana:oss/folder:Folder":
        return {"url": f"https://placeholder.grafana.net/dashboards/f/{inputs.get('uid')}"}
    if type_ == "grafana:oss/dashboard:Dashboard":
        return {"url": "https://placeholder.grafana.net/d/placeholder", "uid": "placeholder"}
    if type_ == "pulumi-python:dynamic/llmjudge:GrafanaComDashboard":
        # A published dashboard carries its own fixed uid, the same in every download (15757's is
        # `k8s_views_global`: ../shared/dashboards/15757-k8s-views-global.json); so does the placeholder.
        uid = f"placeholder-gnet-{int(unwrap(inputs['gnet_id']))}"
        return {MODEL_KEY: compress_model(json.dumps({**PLACEHOLDER_GRAFANA_COM_DASHBOARD, "uid": uid}))}
    if type_ == "grafana:cloud/accessPolicy:AccessPolicy":
        return {"policyId": placeholder_policy_id(inputs.get("name", "policy"))}
    if type_ == "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken":
        return {
            "token": placeholder_token(inputs.get("namePrefix", "token")),
            "name": f"{inputs.get('namePrefix', 'token')}-placeholder",
            "expiresAt": _expires_at(unwrap(inputs["expireAfter"]), now),
            "readyForRotation": False,
        }
    return {}


def unwrap(value: Any) -> Any:
    """Strip the engine's secret wrappers (mock inputs carry them), keeping the values."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """Show every secret as "[secret]"; a secret map keeps its keys so readers see them.
    A reference to another resource is shown by that resource's logical name."""
    if isinstance(value, pulumi.Resource):
        return f"[resource {value._name}]"
    if isinstance(value, dict) and DYNAMIC_PROVIDER_KEY in value:
        # A dynamic resource's pickled provider: code, not configuration.
        return {**{k: redact(v) for k, v in value.items()}, DYNAMIC_PROVIDER_KEY: "[dynamic provider code]"}
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            inner = value["value"]
            if isinstance(inner, dict):
                return {k: SECRET_SHOWN_AS for k in inner}
            return SECRET_SHOWN_AS
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# --- the cluster as the Kubernetes provider sees it ---------------------------------------
# `existing` models the cluster: (type, id) -> the object, id "namespace/name" ("name" for a
# cluster-scoped kind). A Helm release is what Helm keeps in the cluster: its storage Secrets
# (`helm_release_secret`). The stack's Grafana dashboards sit in the same map, id their uid. None:
# synth's default, where every read finds a placeholder object and
# every create succeeds.
PLACEHOLDER_APP_CONFIG = '{"_placeholder": "offline synth: the services\' existing app config"}'
READABLE_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:core/v1:ConfigMap")
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
SECRET_TYPE = "kubernetes:core/v1:Secret"
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
PREFLIGHT_TYPE = "pulumi-python:dynamic/llmjudge:ClusterPreflight"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
# The stack's Grafana, in the same model: dashboards by uid.
DASHBOARD_TYPE = "grafana:oss/dashboard:Dashboard"
CLUSTER_SCOPED_KINDS = (
    "Namespace",
    "ClusterSecretStore",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
)
Cluster = dict[tuple[str, str], dict[str, Any]]


def placeholder_object(type_: str, resource_id: str) -> dict[str, Any]:
    namespace, _, name = resource_id.partition("/")
    state: dict[str, Any] = {"metadata": {"name": name, "namespace": namespace}}
    if type_ == "kubernetes:core/v1:ConfigMap":
        state["data"] = {"appconfig.json": PLACEHOLDER_APP_CONFIG}
    return state


def helm_release_secret(
    namespace: str, release: str, chart: str, chart_version: str, revision: int = 1, status: str = "deployed"
) -> tuple[tuple[str, str], dict[str, Any]]:
    """One revision of a Helm release as Helm stores it: a Secret (builders.preflight, Helm's
    pkg/storage/driver/secrets.go), for a cluster model."""
    name = f"sh.helm.release.v1.{release}.v{revision}"
    record = {
        "name": release,
        "namespace": namespace,
        "version": revision,
        "info": {"status": status},
        "chart": {"metadata": {"name": chart, "version": chart_version}},
    }
    labels = {HELM_OWNER_LABEL: HELM_OWNER, "name": release, "status": status, "version": str(revision)}
    state = {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "type": "helm.sh/release.v1",
        "data": {"release": encode_release(record)},
    }
    return (SECRET_TYPE, f"{namespace}/{name}"), state


def object_id(type_: str, inputs: dict[str, Any]) -> str | None:
    """The cluster id a create of this resource names; None for what is not a cluster object."""
    if type_ == HELM_RELEASE_TYPE:
        return f"{inputs.get('namespace')}/{inputs.get('name')}"
    kind = type_.rsplit(":", 1)[-1]
    if not type_.startswith("kubernetes:") or kind.endswith("Patch"):
        return None  # Patch resources apply to an existing object: never a create
    meta = inputs.get("metadata") or {}
    if kind in CLUSTER_SCOPED_KINDS:
        return str(meta.get("name"))
    return f"{meta.get('namespace')}/{meta.get('name')}"


def already_exists(name: str, type_: str, resource_id: str) -> str:
    """The provider's error for a create of an object that exists: the API server's AlreadyExists
    (k8s.io/apimachinery pkg/api/errors NewAlreadyExists: `<resource> "<name>" already exists`)
    wrapped as pulumi-kubernetes does (provider/pkg/provider/provider.go Create; the advice from
    provider/pkg/await/await.go Creation, lines 276-290 at 94977969)."""
    group_version, kind = type_.removeprefix("kubernetes:").rsplit(":", 1)
    group = group_version.split("/")[0]
    resource = f"{kind.lower()}s" + ("" if group == "core" else f".{group}")
    object_name = resource_id.rsplit("/", 1)[-1]
    return (
        f'resource "{name}" was not successfully created by the Kubernetes API server: '
        f'{resource} "{object_name}" already exists\n\n'
        "The resource already exists in the cluster. [...]\n"
        "  - Intentional upsert: set upsertExistingObjects on the provider to allow\n"
        "    server-side apply to update existing objects on create."
    )


class ObjectNotFoundError(LookupError):
    pass


class ProviderLookupError(Exception):
    """A lookup the provider answers with an error, for an INVOKES answer to raise. `call` hands it to
    the SDK as the invoke's failure, which the SDK raises to the caller as `Exception("invoke of
    <token> failed: <message> ...")`, as it does with a provider's error (pulumi runtime/invoke.py
    `do_invoke`: a gRPC error or failures in the response), not as a crash of the run."""


class AlreadyExistsError(RuntimeError):
    pass


class PreflightFailedError(RuntimeError):
    pass


class PlaceholderMocks(pulumi.runtime.Mocks):
    """`existing`: the cluster model (see above); None: any read finds a placeholder."""

    def __init__(
        self,
        now: dt.datetime | None = None,
        existing: Cluster | None = None,
    ) -> None:
        self.now = now or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self.existing = existing
        self.invoked_through: list[tuple[str, Any, str]] = []  # (token, arguments, provider reference)
        self.read_through: list[tuple[str, str, str]] = []  # (type, id, provider reference) of each read
        self.answers: list[tuple[str, dict[str, Any]]] = []  # (invoke token, placeholder answer)
        self.provider_inputs: dict[str, dict[str, Any]] = {}  # provider id -> its inputs
        self.upserted: list[tuple[str, str]] = []  # held objects a create adopted

    @property
    def invoked(self) -> list[str]:
        """The token of each invoke, in order."""
        return [token for token, _, _ in self.invoked_through]

    @property
    def read(self) -> list[tuple[str, str]]:
        """(type, id) of each `.get()`, in order."""
        return [(type_, resource_id) for type_, resource_id, _ in self.read_through]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.resource_id:
            if args.custom:  # a registration with an import id
                return args.resource_id, self._import(args)
            return args.resource_id, self._read(args.typ, args.resource_id, args.provider or "")
        if args.typ == PREFLIGHT_TYPE:
            self._preflight(unwrap(args.inputs))
        state = {**unwrap(args.inputs), **computed_outputs(args.typ, args.inputs, self.now)}
        resource_id = f"{args.name}-id"
        if args.typ.startswith("pulumi:providers:"):
            self.provider_inputs[resource_id] = state
        elif self.existing is not None:
            self._create(args, state)
        return resource_id, state

    def _read(self, type_: str, resource_id: str, provider: str) -> dict[str, Any]:
        """A `.get()` through `provider` (its `urn::id` reference, empty for the default provider)."""
        if type_ not in READABLE_TYPES:
            raise NotImplementedError(f"unmocked read of {type_} {resource_id}: add it to tools/mocks.py")
        self.read_through.append((type_, resource_id, provider))
        if self.existing is None:
            return placeholder_object(type_, resource_id)
        if (type_, resource_id) not in self.existing:
            # What the Kubernetes provider reports for a read of a missing object.
            raise ObjectNotFoundError(f"resource '{resource_id}' of type {type_} does not exist")
        return self.existing[(type_, resource_id)]

    def _import(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        """`import_`: the object must exist; from then on the stack owns it."""
        inputs = unwrap(args.inputs)
        if self.existing is None:
            return inputs
        key = (args.typ, str(args.resource_id))
        if key not in self.existing:
            raise ObjectNotFoundError(f"resource '{args.resource_id}' of type {args.typ} does not exist")
        return {**self.existing[key], **inputs}

    def _create(self, args: pulumi.runtime.MockResourceArgs, state: dict[str, Any]) -> None:
        """A create against the model fails as the provider fails on an object that exists."""
        assert self.existing is not None
        if args.typ == DASHBOARD_TYPE:
            self._create_dashboard(args.name, state)
            return
        resource_id = object_id(args.typ, state)
        if resource_id is None:
            return
        if args.typ == HELM_RELEASE_TYPE:
            namespace, release = resource_id.split("/", 1)
            if self._helm_history(namespace, release):
                # helm/helm pkg/action/install.go availableName: any history blocks the name.
                raise AlreadyExistsError(
                    f"Helm release {resource_id}: cannot re-use a name that is still in use"
                )
            return
        key = (args.typ, resource_id)
        if key in self.existing:
            if not self._upserts(args.provider):
                raise AlreadyExistsError(already_exists(args.name, args.typ, resource_id))
            self.upserted.append(key)
        self.existing[key] = state

    def _create_dashboard(self, name: str, state: dict[str, Any]) -> None:
        """The stack's Grafana: a dashboard's create posts with the resource's `overwrite`, and Grafana
        refuses one over an existing uid without it (components/dashboards.py cites both)."""
        assert self.existing is not None
        key = (DASHBOARD_TYPE, str(json.loads(state["configJson"]).get("uid")))
        if key in self.existing and str(state.get("overwrite")).lower() != "true":
            raise AlreadyExistsError(
                f'resource "{name}": creating dashboard {key[1]}: a dashboard with this uid already '
                "exists in the stack's Grafana (overwrite is off)"
            )
        self.existing[key] = state

    def _upserts(self, provider_ref: str | None) -> bool:
        """Whether the resource's provider has upsertExistingObjects (the SDK sends it as JSON)."""
        inputs = self.provider_inputs.get((provider_ref or "").split("::")[-1], {})
        return str(inputs.get("upsertExistingObjects")).lower() == "true"

    def _helm_history(self, namespace: str, release: str) -> list[HelmRevision]:
        assert self.existing is not None
        return [
            HelmRevision.from_storage_secret(state)
            for (type_, resource_id), state in self.existing.items()
            if type_ == SECRET_TYPE
            and resource_id.startswith(f"{namespace}/")
            and (state.get("metadata") or {}).get("labels", {}).get(HELM_OWNER_LABEL) == HELM_OWNER
            and state["metadata"]["labels"].get("name") == release
        ]

    def _preflight(self, inputs: dict[str, Any]) -> None:
        """What ClusterPreflightProvider.check reads and decides, on the model. The model also keeps
        the preflight once it passed: the stack's state, which later runs' `check` gets as olds."""
        if self.existing is None:
            return
        namespace = inputs["namespace"]
        secret = self.existing.get((SECRET_TYPE, f"{namespace}/{inputs['secret_name']}"))
        history = self._helm_history(namespace, inputs["release_name"])
        found = handovers(
            namespace, SecretSeen.from_object(secret) if secret else None, inputs["release_name"], history
        )
        operator_namespace = inputs.get("external_secrets_namespace")
        in_state = (PREFLIGHT_TYPE, namespace) in self.existing
        seen = ExternalSecretsSeen(
            crd=(CRD_TYPE, EXTERNAL_SECRETS_CRD) in self.existing,
            namespace=(NAMESPACE_TYPE, str(operator_namespace)) in self.existing,
        )
        messages = [
            handover_message(namespace, found) if found else None,
            external_secrets_message(seen, operator_namespace, namespace)
            if operator_namespace and not in_state
            else None,
        ]
        if any(messages):
            raise PreflightFailedError("\n\n".join(m for m in messages if m))
        self.existing[(PREFLIGHT_TYPE, namespace)] = inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        answer = INVOKES.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"unmocked invoke {args.token}: add a placeholder answer to tools/mocks.py"
            )
        self.invoked_through.append((args.token, unwrap(args.args), args.provider or ""))
        try:
            result = answer(unwrap(args.args))
        except ProviderLookupError as err:
            return {}, [("", str(err))]
        self.answers.append((args.token, result))
        return result, []


@dataclass
class Registration:
    """One resource as the program declared it."""

    urn: str
    type: str
    name: str
    parent_urn: str
    provider_ref: str
    custom: bool
    retain_on_delete: bool
    dependencies: list[str]  # URNs this resource waits for (depends_on and inputs)
    inputs: dict[str, Any]  # secrets still wrapped; see redact()
    # A component's `providers` (package -> `urn::id` reference), which its children inherit.
    providers: dict[str, str] = field(default_factory=dict)

    @property
    def provider_name(self) -> str | None:
        """Logical name of the explicit provider (`urn::id` reference), if any."""
        # urn:pulumi:<stack>::<project>::pulumi:providers:<pkg>::<name>::<id>
        return self.provider_ref.split("::")[-2] if self.provider_ref else None


class RecordingMonitor(MockMonitor):
    """A mock monitor that remembers every registration with its parent and provider."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    # Without resource references the SDK sends a referenced resource (e.g. the EKS cluster
    # given to its node group) as its URN or id. With them, the mock monitor would rebuild a
    # Resource object on its worker thread's event loop, and the run would fail at random with
    # "attached to a different loop".
    def GetDeploymentInfo(self, request):  # noqa: N802 - gRPC method name
        info = super().GetDeploymentInfo(request)
        kept = [
            f
            for f in info.supportedFeatures
            if f != resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES
        ]
        return resource_pb2.DeploymentInfo(supportedFeatures=kept)

    def SupportsFeature(self, request):  # noqa: N802 - gRPC method name
        if request.id == "resourceReferences":
            return type("SupportsFeatureResponse", (object,), {"hasSupport": False})
        return super().SupportsFeature(request)

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent_urn=request.parent,
                    provider_ref=request.provider,
                    custom=bool(request.custom),
                    retain_on_delete=bool(request.retainOnDelete),
                    dependencies=list(request.dependencies),
                    inputs=rpc.deserialize_properties(request.object),
                    providers=dict(request.providers),
                )
            )
        return response
