"""tools.verify never prints a credential: not on success, not on error paths, not when a server
echoes one back in an HTTP error body. Every run below holds real secret values (the verification
token, the kubeconfig's client key, a Kubernetes bearer token, an exec plugin's token) and the test
asserts that none of them — nor the basic-auth header built from the token — reaches stdout or stderr.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from clients.redact import REDACTED, Redactor
from tests.tools.verify.servers import Pki, Prometheus, Replay, json_answer, make_pki, prometheus  # noqa: F401
from tests.tools.verify.world import Run, World
from tools.verify import cli

USERS = ("100001", "200002", "300003")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


# Grafana Cloud's token shape, and one no shape rule knows: the exact-value net must catch it alone.
@pytest.fixture(params=["glc_", "opaque-"], ids=["glc-token", "opaque-token"])
def world(request, tmp_path: Path, prometheus, pki: Pki):  # noqa: F811
    def make(**kwargs: Any) -> World:
        return World(tmp_path, prometheus, pki, token=request.param + secrets.token_urlsafe(24), **kwargs)

    return make


def leaked(run: Run, w: World, *more: str) -> list[str]:
    values = [w.token, *(base64.b64encode(f"{u}:{w.token}".encode()).decode() for u in USERS), *more]
    if w.kube_token:
        values.append(w.kube_token)
    else:
        values += [line for line in w.pki.client_key.splitlines() if not line.startswith("-----")]
        values.append(base64.b64encode(w.pki.client_key.encode()).decode())
    text = run.out + run.err
    return [v for v in values if v in text]


def test_a_passing_run(world) -> None:
    with world() as w:
        w.write_metrics()
        run = w.run()
    assert run.code == 0, run.out
    assert leaked(run, w) == []


def test_servers_that_refuse_and_echo_the_credentials(world, tmp_path: Path) -> None:
    def echo_password(path: str, params: dict[str, list[str]]) -> Any:
        raise AssertionError("unreachable: the Authorization check answers first")

    with world(kube_token="kube-" + secrets.token_hex(16)) as w:
        # Every backend expects other credentials and answers 401 with the header it received.
        w.loki.authorization = w.tempo.authorization = "Basic bm90LXRoZS10b2tlbg=="
        w.kube.authorization = "Bearer another-token"
        with Replay("Basic bm90LXRoZS10b2tlbg==", {"/api/v1/query": echo_password}) as mimir:
            w.prometheus = Prometheus(mimir.url, None)  # type: ignore[arg-type]
            run = w.run()
    assert run.code == 1
    # The echoes were there, and were redacted.
    assert f"invalid credentials: Basic {REDACTED}" in run.line("service-logs")
    assert f"invalid credentials: Bearer {REDACTED}" in run.line("collectors-ready")
    assert leaked(run, w) == []


def test_a_server_that_echoes_the_raw_token_in_a_body_that_is_no_json(world) -> None:
    with world() as w:

        def body(path: str, params: dict[str, list[str]]) -> Any:
            return 200, "text/html", f"<html>proxy error for token {w.token}</html>".encode()

        with Replay(None, {"/api/v1/query": body}) as mimir:
            w.prometheus = Prometheus(mimir.url, None)  # type: ignore[arg-type]
            run = w.run()
    assert "answered with no JSON" in run.line("collectors-up")
    assert leaked(run, w) == []


def test_an_exec_plugin_token_the_api_server_rejects(world, tmp_path: Path) -> None:
    exec_token = "k8s-aws-v1." + secrets.token_urlsafe(40)
    script = tmp_path / "aws.py"
    script.write_text(f"import json\nprint(json.dumps({{'status': {{'token': {exec_token!r}}}}}))\n")
    with world(stack="eks", kube_token="kube-" + secrets.token_hex(16)) as w:
        kubeconfig = w.kubeconfig()
        kubeconfig["users"][0]["user"] = {"exec": {"command": sys.executable, "args": [str(script)]}}
        w.extra_outputs = {"kubeconfig": kubeconfig}
        w.write_metrics()
        run = w.run()  # the replay wants kube_token: 401, echoing the exec token, twice (one refetch)
    assert run.status["collectors-ready"] == "FAIL" and "HTTP 401" in run.line("collectors-ready")
    assert leaked(run, w, exec_token) == []


def test_error_paths_before_any_check(world, tmp_path: Path) -> None:
    with world() as w:
        outputs = w.outputs()
        del outputs["verifyEndpoints"]
        broken = tmp_path / "broken.json"
        broken.write_text(json.dumps(outputs))
        args = [*w.files(), "--outputs", str(broken)]
        runs = []
        for argv in (args, [*w.files(), "--kubeconfig", str(tmp_path / "nope")]):
            out, err = io.StringIO(), io.StringIO()
            runs.append(Run(cli.main(argv, out=out, err=err), out.getvalue(), err.getvalue()))
    assert runs[0].code == 2 and "lack verifyEndpoints" in runs[0].err
    assert "no kubeconfig" in runs[1].out
    for run in runs:
        assert leaked(run, w) == []


def test_the_redactor_catches_both_nets() -> None:
    redactor = Redactor()
    header = redactor.add_basic_auth("42", "opaque-secret-value")
    key_line = "MHcCAQEEIBlahBlahBlahBlahBlahBlahBlahBlah"
    redactor.add(f"-----BEGIN EC PRIVATE KEY-----\n{key_line}\n-----END EC PRIVATE KEY-----\n")
    text = redactor(
        f"token opaque-secret-value, header {header}, key line {key_line}, unknown "
        "glc_eyJvIjoiMTIzNCIsIm4iOiJ4In0= and glsa_abcdefghijklmnop_12345678 and Bearer abc.def.ghi-jkl"
    )
    assert "opaque-secret-value" not in text and header.split()[1] not in text
    assert (
        "MHcCAQEE" not in text
        and "glc_eyJ" not in text
        and "glsa_abc" not in text
        and "abc.def.ghi" not in text
    )
    assert text.count(REDACTED) == 6
