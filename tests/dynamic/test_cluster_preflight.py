"""The cluster preflight's provider, reading through the program's Kubernetes client (clients/kube.py)
from a modelled API server (the two Secret endpoints it calls, with label-selector filtering as the
API server does): the kubeconfig as the eks stack passes it, and a context of $KUBECONFIG as on local."""

from __future__ import annotations

import base64
import json
import pickletools
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc

from builders.credentials import SECRET_NAME
from components.alloy_monitoring import RELEASE_NAME
from dynamic.cluster_preflight import ClusterPreflight, ClusterPreflightProvider, Target, preflight_failure
from tools.mocks import SECRET_SIG, SECRET_SIG_KEY, RecordingMonitor, helm_release_secret

NS = "llm-judge"
MANUAL_RELEASE = "(chart k8s-monitoring-1.6.54, revision 2, status deployed)"


class ApiServer(ThreadingHTTPServer):
    secrets: dict[str, dict[str, Any]]
    cluster_objects: dict[str, dict[str, Any]]  # any other object, by its API path
    requests: list[str]
    authorizations: list[str | None]  # the Authorization header of each request
    forbidden: bool  # answer as to a role without get/list on Secrets (RBAC 403)
    broken: bool  # answer 500, echoing the request's Authorization header (a careless proxy)


class Handler(BaseHTTPRequestHandler):
    server: ApiServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.server.authorizations.append(self.headers.get("Authorization"))
        url = urlparse(self.path)
        prefix = f"/api/v1/namespaces/{NS}/secrets"
        if self.server.broken:
            self._send(
                500,
                {"kind": "Status", "code": 500, "message": f"refused {self.headers.get('Authorization')}"},
            )
        elif self.server.forbidden:
            self._send(403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 403,
                             "reason": "Forbidden", "message": "secrets is forbidden"})  # fmt: skip
        elif url.path.startswith(prefix + "/"):
            found = self.server.secrets.get(url.path[len(prefix) + 1 :])
            if found is None:
                self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                                 "reason": "NotFound", "message": "secrets not found"})  # fmt: skip
            else:
                self._send(200, found)
        elif url.path in self.server.cluster_objects:
            self._send(200, self.server.cluster_objects[url.path])
        elif url.path == prefix:
            selector = parse_qs(url.query).get("labelSelector", [""])[0]
            wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
            items = [
                s for s in self.server.secrets.values()
                if all(s["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
            ]  # fmt: skip
            self._send(200, {"kind": "SecretList", "apiVersion": "v1", "metadata": {}, "items": items})
        else:
            self._send(404, {"kind": "Status", "code": 404})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer(("127.0.0.1", 0), Handler)
    server.secrets, server.cluster_objects, server.requests, server.authorizations = {}, {}, [], []
    server.forbidden = server.broken = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def kubeconfig(port: int, user: dict[str, Any] | None = None) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
            "users": [{"name": "u", "user": user or {"token": "placeholder"}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "c",
        }
    )


def target(port: int) -> Target:
    return Target(NS, SECRET_NAME, RELEASE_NAME, kubeconfig=kubeconfig(port))


def manual_secret() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME, "namespace": NS},
        "data": {"GRAFANA_CLOUD_API_KEY": "eA=="},
    }


def serve_release(api: ApiServer, chart_version: str, revision: int) -> None:
    key, storage = helm_release_secret(NS, RELEASE_NAME, "k8s-monitoring", chart_version, revision)
    resource_id = key[1]
    api.secrets[resource_id.split("/", 1)[1]] = storage


def test_the_manual_install_is_read_through_the_api_and_named(api: ApiServer) -> None:
    api.secrets[SECRET_NAME] = manual_secret()
    serve_release(api, "1.6.54", 1)
    serve_release(api, "1.6.54", 2)
    message = preflight_failure(target(api.server_port))
    assert message is not None
    assert f"Helm release {NS}/{RELEASE_NAME} {MANUAL_RELEASE}" in message
    assert f"Secret {NS}/{SECRET_NAME} (keys: GRAFANA_CLOUD_API_KEY)" in message
    # Exactly the two reads, with Helm's own selector for the release history.
    assert sorted(urlparse(p).path for p in api.requests) == [
        f"/api/v1/namespaces/{NS}/secrets",
        f"/api/v1/namespaces/{NS}/secrets/{SECRET_NAME}",
    ]
    listing = next(p for p in api.requests if urlparse(p).path.endswith("/secrets"))
    assert parse_qs(urlparse(listing).query)["labelSelector"] == [f"owner=helm,name={RELEASE_NAME}"]


def test_the_programs_own_objects_pass(api: ApiServer) -> None:
    secret = manual_secret()
    secret["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "pulumi"}
    api.secrets[SECRET_NAME] = secret
    serve_release(api, "4.4.0", 5)
    assert preflight_failure(target(api.server_port)) is None


def test_an_empty_namespace_passes(api: ApiServer) -> None:
    assert preflight_failure(target(api.server_port)) is None


def test_a_role_that_may_not_read_secrets_skips_the_check(api: ApiServer) -> None:
    # The PR preview role (a view policy) previews; the deploy role's `pulumi up` checks.
    api.secrets[SECRET_NAME] = manual_secret()
    api.forbidden = True
    assert preflight_failure(target(api.server_port)) is None
    assert api.requests  # it did ask


def test_a_cluster_that_cannot_be_read_stops_the_run_naming_it() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = preflight_failure(target(port))
    assert message is not None
    assert message.startswith(f"cannot read namespace {NS} through the cluster's kubeconfig: ")


def test_check_reports_one_failure_and_reads_nothing_while_the_cluster_is_unknown(api: ApiServer) -> None:
    api.secrets[SECRET_NAME] = manual_secret()
    props = {"namespace": NS, "secret_name": SECRET_NAME, "release_name": RELEASE_NAME}
    provider = ClusterPreflightProvider()

    result = provider.check({}, {**props, "kubeconfig": kubeconfig(api.server_port)})
    assert [(f.property, f.reason.splitlines()[0]) for f in result.failures] == [
        ("", f"namespace {NS} holds objects under this program's names that it did not make "
             "(the manual install of the plan's phases 2-3?). Nothing was changed. "
             "Hand them over, then run `pulumi up` again:")
    ]  # fmt: skip

    api.requests.clear()
    unknown = provider.check({}, {**props, "kubeconfig": rpc.UNKNOWN})
    assert unknown.failures == []
    assert api.requests == []  # a preview of a cluster this run creates reads nothing


# --- how the preflight reaches the cluster: as the Kubernetes provider does ------------------------


def test_local_reads_the_named_context_of_kubeconfig_files(
    api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """local: `kubeContext` among the files of $KUBECONFIG (merged as kubectl merges them), not the
    current context."""
    with socket.socket() as probe:  # the current context's server: nothing listens there
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    first = {
        "clusters": [{"name": "other", "cluster": {"server": f"http://127.0.0.1:{dead}"}}],
        "users": [{"name": "other", "user": {"token": "other-token"}}],
        "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
        "current-context": "other",
    }
    second = {
        "clusters": [{"name": "kind", "cluster": {"server": f"http://127.0.0.1:{api.server_port}"}}],
        "users": [{"name": "kind", "user": {"token": "kind-token"}}],
        "contexts": [{"name": "kind-llm-judge", "context": {"cluster": "kind", "user": "kind"}}],
    }
    (tmp_path / "a").write_text(json.dumps(first))
    (tmp_path / "b").write_text(json.dumps(second))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    api.secrets[SECRET_NAME] = manual_secret()

    message = preflight_failure(Target(NS, SECRET_NAME, RELEASE_NAME, kube_context="kind-llm-judge"))
    assert message is not None and f"Secret {NS}/{SECRET_NAME}" in message
    assert set(api.authorizations) == {"Bearer kind-token"}

    missing = preflight_failure(Target(NS, SECRET_NAME, RELEASE_NAME, kube_context="kind-other"))
    assert missing is not None and "the kubeconfig has no context 'kind-other'" in missing


def test_eks_authenticates_with_the_exec_plugin_and_never_shows_its_token(
    api: ApiServer, tmp_path: Path
) -> None:
    """eks: the cluster's kubeconfig runs `aws eks get-token` (here a stand-in printing an
    ExecCredential); a server that echoes the token in an error does not get it into the message."""
    token = "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_QWN0aW9uPUdldENhbGxlcklkZW50aXR5"
    plugin = tmp_path / "get_token.py"
    plugin.write_text(
        "import json\n"
        f"print(json.dumps({{'kind': 'ExecCredential', 'apiVersion': 'client.authentication.k8s.io/v1beta1', "
        f"'status': {{'token': {token!r}}}}}))\n"
    )
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
                     "args": [str(plugin)]}}  # fmt: skip
    target = Target(NS, SECRET_NAME, RELEASE_NAME, kubeconfig=kubeconfig(api.server_port, user))

    assert preflight_failure(target) is None
    assert set(api.authorizations) == {f"Bearer {token}"}

    api.broken = True
    message = preflight_failure(target)
    assert message is not None and message.startswith(
        f"cannot read namespace {NS} through the cluster's kubeconfig: "
    )
    assert "HTTP 500" in message and token not in message and "[redacted]" in message


# --- what every stack's state holds ----------------------------------------------------------------

# The resource's `__provider` input in every stack deployed with the preflight:
# `serialize_provider(ClusterPreflightProvider())`, base64 of a dill pickle that names the provider
# class by module and name. The engine unpickles this stored copy, not the program's, to diff,
# refresh and delete the resource (pulumi/dynamic/__main__.py get_provider).
STORED_PROVIDER = (
    "gASVPQAAAAAAAACMGWR5bmFtaWMuY2x1c3Rlcl9wcmVmbGlnaHSUjBhDbHVzdGVyUHJlZmxpZ2h0UHJvdmlkZXKUk5QpgZQu"
)


def test_the_provider_pickle_in_existing_state_still_loads_and_works(api: ApiServer) -> None:
    """Fails when the module or class is moved or renamed: `pulumi destroy` and `pulumi refresh` of
    every existing stack would fail the same way."""
    provider = dill.loads(base64.b64decode(STORED_PROVIDER))
    assert isinstance(provider, ClusterPreflightProvider)
    props = {"namespace": NS, "secret_name": SECRET_NAME, "release_name": RELEASE_NAME}
    olds = {**props, "kube_context": None, "kubeconfig": kubeconfig(api.server_port)}  # an older state's
    assert provider.diff(f"preflight-{NS}", olds, {**props, "kubeconfig": rpc.UNKNOWN}).changes is False
    provider.delete(f"preflight-{NS}", olds)  # the default no-op: the preflight made nothing
    assert api.requests == []  # diff and delete never read the cluster


def test_the_provider_is_stored_by_reference_under_its_fixed_name() -> None:
    """New state stays what existing state holds: the same module and class, by reference (no
    pickled code, no instance attributes)."""
    serialized = serialize_provider(ClusterPreflightProvider())
    strings = [arg for op, arg, _ in pickletools.genops(base64.b64decode(serialized)) if isinstance(arg, str)]
    assert strings == ["dynamic.cluster_preflight", "ClusterPreflightProvider"]
    assert serialized == STORED_PROVIDER


def test_the_outputs_in_state_are_the_namespace_only(api: ApiServer) -> None:
    props = {
        "namespace": NS,
        "secret_name": SECRET_NAME,
        "release_name": RELEASE_NAME,
        "kube_context": None,
        "kubeconfig": kubeconfig(api.server_port),
    }
    created = ClusterPreflightProvider().create(props)
    assert (created.id, created.outs) == (f"preflight-{NS}", {"namespace": NS})


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"the preflight invokes nothing, not {args.token}")


def test_the_kubeconfig_is_a_secret_in_state_even_when_passed_as_plain_text() -> None:
    mocks = _Mocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, preview=False, monitor=monitor)

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        preflight = ClusterPreflight(
            "cluster-preflight", NS, SECRET_NAME, RELEASE_NAME, kubeconfig=kubeconfig(6443)
        )

        def assert_secret(_: Any) -> None:
            (registration,) = monitor.registrations
            assert registration.inputs["kubeconfig"].get(SECRET_SIG_KEY) == SECRET_SIG

        return preflight.namespace.apply(assert_secret)

    check()


# --- an External Secrets the program did not install (eks, externalSecretsOperator: install) -------

ESO_NAMESPACE_PATH = "/api/v1/namespaces/external-secrets"
ESO_CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/externalsecrets.external-secrets.io"


def eso_target(port: int) -> Target:
    """eks where the program installs External Secrets into namespace external-secrets."""
    return Target(
        NS,
        SECRET_NAME,
        RELEASE_NAME,
        kubeconfig=kubeconfig(port),
        external_secrets_namespace="external-secrets",
    )


def test_a_first_run_finds_an_external_secrets_it_did_not_install(api: ApiServer) -> None:
    api.cluster_objects[ESO_NAMESPACE_PATH] = {"kind": "Namespace", "metadata": {"name": "external-secrets"}}
    api.cluster_objects[ESO_CRD_PATH] = {"kind": "CustomResourceDefinition", "metadata": {"name": "x"}}
    message = preflight_failure(eso_target(api.server_port), first_run=True)
    assert message is not None and message.startswith(
        "this cluster already runs External Secrets (CustomResourceDefinition "
        "externalsecrets.external-secrets.io and namespace external-secrets exist)"
    )
    assert "pulumi config set externalSecretsOperator existing" in message
    assert {urlparse(p).path for p in api.requests} >= {ESO_NAMESPACE_PATH, ESO_CRD_PATH}


def test_the_namespace_alone_is_enough_and_nothing_passes(api: ApiServer) -> None:
    api.cluster_objects[ESO_NAMESPACE_PATH] = {"kind": "Namespace", "metadata": {"name": "external-secrets"}}
    message = preflight_failure(eso_target(api.server_port), first_run=True)
    assert message is not None and "(namespace external-secrets exists)" in message
    del api.cluster_objects[ESO_NAMESPACE_PATH]
    assert preflight_failure(eso_target(api.server_port), first_run=True) is None


def test_later_runs_and_stacks_that_install_no_external_secrets_do_not_look(api: ApiServer) -> None:
    api.cluster_objects[ESO_NAMESPACE_PATH] = {"kind": "Namespace", "metadata": {"name": "external-secrets"}}
    # A later run: the installation there is the program's own, from the run that created the preflight.
    assert preflight_failure(eso_target(api.server_port), first_run=False) is None
    # local, or the cluster's own External Secrets (externalSecretsOperator: existing).
    assert preflight_failure(target(api.server_port), first_run=True) is None
    assert not {ESO_NAMESPACE_PATH, ESO_CRD_PATH} & {urlparse(p).path for p in api.requests}


def test_check_looks_for_external_secrets_on_the_stacks_first_run_only(api: ApiServer) -> None:
    api.cluster_objects[ESO_NAMESPACE_PATH] = {"kind": "Namespace", "metadata": {"name": "external-secrets"}}
    news = {
        "namespace": NS,
        "secret_name": SECRET_NAME,
        "release_name": RELEASE_NAME,
        "kubeconfig": kubeconfig(api.server_port),
        "external_secrets_namespace": "external-secrets",
    }
    provider = ClusterPreflightProvider()
    (failure,) = provider.check({}, news).failures
    assert failure.reason.startswith("this cluster already runs External Secrets")
    assert provider.check(dict(news), news).failures == []  # olds: the preflight is in the stack's state
