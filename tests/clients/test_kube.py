"""Kubernetes API access from kubeconfigs (clients/kube.py), against a loopback HTTPS replay:
CA and client certificates, tokens, exec credential plugins, contexts, merging, errors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from clients.kube import KubeError, client_for, load_kubeconfig, parse_kubeconfig
from clients.redact import Redactor
from tests.tools.verify.servers import Pki, Replay, json_answer, make_pki

PATH = "/api/v1/namespaces/llm-judge/pods"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def pods(path: str, params: dict[str, list[str]]) -> Any:
    return json_answer({"kind": "PodList", "items": [{"metadata": {"name": "p-0"}}]})


def config(server: str, user: dict[str, Any], cluster: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }


def test_client_certificate_and_cluster_ca_from_data(pki: Pki) -> None:
    with Replay(None, {PATH: pods}, tls=pki.server_context(require_client_cert=True)) as server:
        user = {"client-certificate-data": b64(pki.client_cert), "client-key-data": b64(pki.client_key)}
        client = client_for(
            config(server.url, user, {"certificate-authority-data": b64(pki.ca)}), None, Redactor()
        )
        assert client.get_json(PATH)["items"][0]["metadata"]["name"] == "p-0"


def test_files_relative_to_the_kubeconfig(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    for name, text in (("ca.crt", pki.ca), ("client.crt", pki.client_cert), ("client.key", pki.client_key)):
        (tmp_path / "certs" / name).write_text(text)
    with Replay(None, {PATH: pods}, tls=pki.server_context(require_client_cert=True)) as server:
        user = {"client-certificate": "certs/client.crt", "client-key": "certs/client.key"}
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(config(server.url, user, {"certificate-authority": "certs/ca.crt"})))
        client = client_for(load_kubeconfig([path]), "ctx", Redactor())
        assert client.get_json(PATH)["kind"] == "PodList"


def test_an_unknown_server_certificate_is_refused(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path)
    with Replay(
        "Bearer t0ken-value", {PATH: pods}, tls=pki.server_context(require_client_cert=False)
    ) as server:
        client = client_for(
            config(server.url, {"token": "t0ken-value"}, {"certificate-authority-data": b64(other.ca)}),
            None,
            Redactor(),
        )
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            client.get_json(PATH)


def test_token_and_token_file(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("file-token-1234\n")
    ca = {"certificate-authority-data": b64(pki.ca)}
    with Replay(
        "Bearer file-token-1234", {PATH: pods}, tls=pki.server_context(require_client_cert=False)
    ) as server:
        path = tmp_path / "config"
        path.write_text(yaml.safe_dump(config(server.url, {"tokenFile": "token"}, ca)))
        assert client_for(load_kubeconfig([path]), None, Redactor()).get_json(PATH)["kind"] == "PodList"
        wrong = client_for(config(server.url, {"token": "other-token-5678"}, ca), None, Redactor())
        with pytest.raises(Exception, match="HTTP 401"):
            wrong.get_json(PATH)


def plugin(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "plugin.py"
    script.write_text("import json, os, sys, pathlib\n" + body)
    return script


def count_run(runs: Path) -> str:
    """Plugin code that appends one 'x' to `runs` each time it runs."""
    return (
        f"runs = pathlib.Path({str(runs)!r}); "
        "runs.write_text((runs.read_text() if runs.exists() else '') + 'x')"
    )


def exec_user(script: Path, *args: str, **spec: Any) -> dict[str, Any]:
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(script), *args],
            **spec,
        }
    }


def test_exec_plugin_token_is_cached_until_it_expires(pki: Pki, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    script = plugin(
        tmp_path,
        f"{count_run(runs)}\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "assert info['spec']['interactive'] is False and info['spec']['cluster']['server'].startswith('https://')\n"
        "assert os.environ['AWS_PROFILE'] == 'deploy'\n"
        f"print(json.dumps({{'apiVersion': info['apiVersion'], 'kind': 'ExecCredential', "
        f"'status': {{'token': 'exec-token-' + sys.argv[1], 'expirationTimestamp': {expiry!r}}}}}))\n",
    )
    user = exec_user(script, "abc", env=[{"name": "AWS_PROFILE", "value": "deploy"}], provideClusterInfo=True)
    with Replay(
        "Bearer exec-token-abc", {PATH: pods}, tls=pki.server_context(require_client_cert=False)
    ) as server:
        client = client_for(
            config(server.url, user, {"certificate-authority-data": b64(pki.ca)}), None, Redactor()
        )
        client.get_json(PATH)
        client.get_json(PATH)
    assert runs.read_text() == "x"  # one run for both requests


def test_an_expired_exec_credential_is_fetched_again(pki: Pki, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    script = plugin(
        tmp_path,
        f"{count_run(runs)}\n"
        "print(json.dumps({'kind': 'ExecCredential', 'status': {'token': 'exec-token', "
        "'expirationTimestamp': '2000-01-01T00:00:00Z'}}))\n",
    )
    with Replay(
        "Bearer exec-token", {PATH: pods}, tls=pki.server_context(require_client_cert=False)
    ) as server:
        client = client_for(
            config(server.url, exec_user(script), {"certificate-authority-data": b64(pki.ca)}),
            None,
            Redactor(),
        )
        client.get_json(PATH)
        client.get_json(PATH)
    assert runs.read_text() == "xx"


def test_exec_plugin_client_certificate(pki: Pki, tmp_path: Path) -> None:
    status = {"clientCertificateData": pki.client_cert, "clientKeyData": pki.client_key}
    script = plugin(tmp_path, f"print(json.dumps({{'kind': 'ExecCredential', 'status': {status!r}}}))\n")
    with Replay(None, {PATH: pods}, tls=pki.server_context(require_client_cert=True)) as server:
        client = client_for(
            config(server.url, exec_user(script), {"certificate-authority-data": b64(pki.ca)}),
            None,
            Redactor(),
        )
        assert client.get_json(PATH)["kind"] == "PodList"


def test_a_missing_plugin_names_its_install_hint(tmp_path: Path) -> None:
    user = {"exec": {"command": "aws-cli-that-is-not-installed", "installHint": "install the AWS CLI v2"}}
    client = client_for(config("https://127.0.0.1:9", user), None, Redactor())
    with pytest.raises(
        KubeError, match="'aws-cli-that-is-not-installed' is not installed: install the AWS CLI v2"
    ):
        client.get_json(PATH)


def test_a_failing_plugin_says_why(tmp_path: Path) -> None:
    script = plugin(tmp_path, "sys.stderr.write('Unable to locate credentials\\n'); sys.exit(255)\n")
    client = client_for(config("https://127.0.0.1:9", exec_user(script)), None, Redactor())
    with pytest.raises(KubeError, match="exited 255 without an ExecCredential: Unable to locate credentials"):
        client.get_json(PATH)


def test_contexts_are_chosen_as_kubectl_chooses_them() -> None:
    document = config("https://127.0.0.1:9", {"token": "t0ken-value"})
    assert client_for(document, None, Redactor()).server == "https://127.0.0.1:9"
    with pytest.raises(KubeError, match="no context 'kind-other'; it has \\['ctx'\\]"):
        client_for(document, "kind-other", Redactor())
    two = {**document, "contexts": [*document["contexts"], {"name": "b", "context": {"cluster": "c"}}]}
    del two["current-context"]
    with pytest.raises(KubeError, match="names no current context"):
        client_for(two, None, Redactor())
    with pytest.raises(KubeError, match="auth-provider 'gcp' is not supported"):
        client_for(config("https://x", {"auth-provider": {"name": "gcp"}}), None, Redactor())


def test_merged_kubeconfigs_first_file_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text(yaml.safe_dump(config("https://first:6443", {"token": "first-token"})))
    second_doc = config("https://second:6443", {"token": "second-token"})
    second_doc["contexts"].append({"name": "only-in-b", "context": {"cluster": "c", "user": "u"}})
    second_doc["current-context"] = "only-in-b"
    second.write_text(yaml.safe_dump(second_doc))
    merged = load_kubeconfig([first, tmp_path / "missing", second])
    assert merged["current-context"] == "ctx"
    assert client_for(merged, "only-in-b", Redactor()).server == "https://first:6443"
    with pytest.raises(KubeError, match="no kubeconfig"):
        load_kubeconfig([tmp_path / "missing"])


def test_the_eks_output_as_object_or_text() -> None:
    document = config("https://eks.example:443", {"exec": {"command": "aws", "args": ["eks", "get-token"]}})
    assert (
        parse_kubeconfig(document)
        == parse_kubeconfig(json.dumps(document))
        == parse_kubeconfig(yaml.safe_dump(document))
    )
    with pytest.raises(KubeError, match="not a YAML/JSON object"):
        parse_kubeconfig("[]")
