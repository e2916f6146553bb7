"""Kubernetes API access from a kubeconfig, with the standard library (urllib + ssl) only.

Used by the cluster preflight (dynamic/cluster_preflight.py: two GETs, in `pulumi preview` and
`pulumi up`) and by tools.verify (four GETs). Why not kubectl: the deploy workflow's runner and a
platform engineer's laptop both have Python with requirements.txt, but kubectl is one more binary to
install and pin. Why not the `kubernetes` package: a large dependency (and a second client beside
this one) for a handful of GETs.

Supported, as kubectl reads them (https://kubernetes.io/docs/reference/config-api/kubeconfig.v1/):
the cluster's `server`, `certificate-authority(-data)`, `insecure-skip-tls-verify`; the user's
`token`, `tokenFile`, `username`/`password`, `client-certificate(-data)`/`client-key(-data)`, and
`exec` credential plugins (EKS: `aws eks get-token`), following the client-go credential-plugin
protocol (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins).
Relative file paths and exec commands are resolved against the kubeconfig's directory, as kubectl does.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clients import http
from clients.redact import Redactor

EXEC_TIMEOUT_SECONDS = 60
# An exec credential is fetched again this long before it expires (EKS tokens live 15 minutes).
EXEC_REFRESH_MARGIN_SECONDS = 60
_PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


class KubeError(Exception):
    """Cluster access cannot be set up; the message says which kubeconfig field and why."""


def default_kubeconfig_paths() -> list[Path]:
    """$KUBECONFIG (a path list), else ~/.kube/config: what kubectl reads."""
    listed = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path.home() / ".kube" / "config"]


def load_kubeconfig(paths: Sequence[Path]) -> dict[str, Any]:
    """The kubeconfig files merged as kubectl merges them: for each name the first file wins, and
    the first `current-context` set wins. Relative paths in each file become absolute."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {kind: set() for kind in merged}
    readable = [p for p in paths if p.is_file()]
    if not readable:
        raise KubeError(f"no kubeconfig: none of {', '.join(map(str, paths))} exists (set KUBECONFIG)")
    for path in readable:
        document = parse_kubeconfig(path.read_text(), base_dir=path.parent)
        for kind in ("clusters", "users", "contexts"):
            for entry in document.get(kind) or []:
                if entry.get("name") not in seen[kind]:
                    seen[kind].add(entry.get("name"))
                    merged[kind].append(entry)
        merged.setdefault("current-context", document.get("current-context"))
    return merged


def parse_kubeconfig(text_or_document: Any, base_dir: Path | None = None) -> dict[str, Any]:
    """A kubeconfig from YAML/JSON text or an already parsed object (the eks `kubeconfig` output is
    either, depending on how the cluster was made)."""
    document = text_or_document
    if isinstance(document, str):
        try:
            document = yaml.safe_load(document)
        except yaml.YAMLError as err:
            raise KubeError(f"the kubeconfig is not YAML or JSON: {err}") from None
    if not isinstance(document, Mapping):
        raise KubeError("the kubeconfig is not a YAML/JSON object")
    document = json.loads(json.dumps(document))  # a private copy
    if base_dir is not None:
        for kind, singular in (("clusters", "cluster"), ("users", "user")):
            for entry in document.get(kind) or []:
                body = entry.get(singular) or {}
                for key in _PATH_FIELDS[singular]:
                    if body.get(key) and not Path(body[key]).is_absolute():
                        body[key] = str(base_dir / body[key])
                command = (body.get("exec") or {}).get("command") if singular == "user" else None
                if command and os.sep in command and not Path(command).is_absolute():
                    body["exec"]["command"] = str(base_dir / command)
    return document


def _named(document: Mapping[str, Any], kind: str, name: str) -> dict[str, Any]:
    for entry in document.get(kind + "s") or []:
        if entry.get("name") == name:
            return dict(entry.get(kind) or {})
    raise KubeError(f"the kubeconfig has no {kind} named {name!r}")


def _decoded(data: str, what: str) -> str:
    try:
        return base64.b64decode(data, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise KubeError(f"{what} is not base64-encoded PEM") from None


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as err:
        raise KubeError(f"{what} {path}: {err.strerror}") from None


@dataclass
class ExecPlugin:
    """A client-go credential plugin: runs the command and caches its ExecCredential until expiry."""

    spec: Mapping[str, Any]
    cluster: Mapping[str, Any]
    redactor: Redactor
    _status: dict[str, Any] | None = field(default=None, init=False)
    _expires: float | None = field(default=None, init=False)

    def status(self, refresh: bool = False) -> dict[str, Any]:
        fresh = self._expires is None or self._expires - time.time() > EXEC_REFRESH_MARGIN_SECONDS
        if self._status is None or refresh or not fresh:
            self._status = self._run()
        return self._status

    def _run(self) -> dict[str, Any]:
        command = str(self.spec.get("command") or "")
        api_version = self.spec.get("apiVersion", "client.authentication.k8s.io/v1beta1")
        info: dict[str, Any] = {
            "apiVersion": api_version,
            "kind": "ExecCredential",
            "spec": {"interactive": False},
        }
        if self.spec.get("provideClusterInfo"):
            info["spec"]["cluster"] = {
                key: value
                for key, value in {
                    "server": self.cluster.get("server"),
                    "certificate-authority-data": self.cluster.get("certificate-authority-data"),
                    "insecure-skip-tls-verify": self.cluster.get("insecure-skip-tls-verify"),
                }.items()
                if value
            }
        env = {**os.environ, "KUBERNETES_EXEC_INFO": json.dumps(info)}
        env.update({str(e["name"]): str(e["value"]) for e in self.spec.get("env") or [] if "name" in e})
        try:
            result = subprocess.run(
                [command, *map(str, self.spec.get("args") or [])],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=EXEC_TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError:
            hint = self.spec.get("installHint") or "install it or fix users[].user.exec.command"
            raise KubeError(f"kubeconfig exec plugin {command!r} is not installed: {hint}") from None
        except subprocess.TimeoutExpired:
            raise KubeError(f"kubeconfig exec plugin {command!r} ran over {EXEC_TIMEOUT_SECONDS} s") from None
        try:
            status = dict(json.loads(result.stdout).get("status") or {}) if result.returncode == 0 else None
        except (ValueError, AttributeError):
            status = None
        if status is None:
            self.redactor.add(result.stdout)  # whatever it printed may be a credential
            stderr = " ".join(result.stderr.split())[-400:]
            raise KubeError(
                f"kubeconfig exec plugin {command!r} exited {result.returncode} without an ExecCredential: "
                f"{stderr or 'no stderr'}"
            )
        for key in ("token", "clientKeyData"):
            self.redactor.add(status.get(key))
        expiry = status.get("expirationTimestamp")
        self._expires = (
            dt.datetime.fromisoformat(expiry.replace("Z", "+00:00")).timestamp() if expiry else None
        )
        return status


@dataclass
class KubeClient:
    """GETs against one cluster's API server, authenticated as the kubeconfig's user."""

    server: str
    cluster: Mapping[str, Any]
    user: Mapping[str, Any]
    redactor: Redactor
    _exec: ExecPlugin | None = field(default=None, init=False)
    _context: ssl.SSLContext | None = field(default=None, init=False)
    _context_key: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.server = self.server.rstrip("/")
        for key in ("token", "password", "client-key-data"):
            self.redactor.add(self.user.get(key))
        if self.user.get("auth-provider"):
            name = (self.user.get("auth-provider") or {}).get("name")
            raise KubeError(f"kubeconfig auth-provider {name!r} is not supported; use an exec plugin")
        if self.user.get("exec"):
            self._exec = ExecPlugin(self.user["exec"], self.cluster, self.redactor)

    def get_json(self, path: str, params: http.Params = None) -> Any:
        return json.loads(self._get(path, params, "application/json"))

    def get_text(self, path: str, params: http.Params = None) -> str:
        return self._get(path, params, "text/plain").decode("utf-8", "replace")

    def _get(self, path: str, params: http.Params, accept: str) -> bytes:
        for attempt in (1, 2):
            headers, context = self._credentials(refresh=attempt == 2)
            try:
                return http.get(self.server + path, params, {"Accept": accept, **headers}, context)
            except http.RequestError as err:
                # An exec credential can be revoked before its stated expiry: fetch it once more.
                if err.status != 401 or self._exec is None or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _credentials(self, refresh: bool) -> tuple[dict[str, str], ssl.SSLContext | None]:
        user = dict(self.user)
        if self._exec is not None:
            status = self._exec.status(refresh)
            user.update(
                {
                    "token": status.get("token"),
                    "client-certificate-data-pem": status.get("clientCertificateData"),
                    "client-key-data-pem": status.get("clientKeyData"),
                }
            )
        headers: dict[str, str] = {}
        token = user.get("token") or (
            _read(user["tokenFile"], "users[].user.tokenFile") if user.get("tokenFile") else None
        )
        if token:
            token = token.strip()
            self.redactor.add(token)
            headers["Authorization"] = f"Bearer {token}"
        elif user.get("username") and user.get("password"):
            headers["Authorization"] = self.redactor.add_basic_auth(
                str(user["username"]), str(user["password"])
            )
        return headers, self._ssl_context(user)

    def _ssl_context(self, user: Mapping[str, Any]) -> ssl.SSLContext | None:
        if not self.server.startswith("https://"):
            return None
        cert = user.get("client-certificate-data-pem") or (
            _decoded(user["client-certificate-data"], "users[].user.client-certificate-data")
            if user.get("client-certificate-data")
            else _read(user["client-certificate"], "users[].user.client-certificate")
            if user.get("client-certificate")
            else None
        )
        key = user.get("client-key-data-pem") or (
            _decoded(user["client-key-data"], "users[].user.client-key-data")
            if user.get("client-key-data")
            else _read(user["client-key"], "users[].user.client-key")
            if user.get("client-key")
            else None
        )
        self.redactor.add(key)
        cache_key = f"{cert}\0{key}"
        if self._context is not None and self._context_key == cache_key:
            return self._context
        self._context, self._context_key = self._new_context(cert, key), cache_key
        return self._context

    def _new_context(self, cert: str | None, key: str | None) -> ssl.SSLContext:
        cluster = self.cluster
        if cluster.get("insecure-skip-tls-verify"):
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif cluster.get("certificate-authority-data"):
            ca = _decoded(
                cluster["certificate-authority-data"], "clusters[].cluster.certificate-authority-data"
            )
            context = ssl.create_default_context(cadata=ca)
        elif cluster.get("certificate-authority"):
            context = ssl.create_default_context(cafile=cluster["certificate-authority"])
        else:
            context = ssl.create_default_context()
        # Python 3.13 turns on strict X.509 checks by default; cluster CAs made by kubeadm/kind/EKS
        # are accepted by Go's client (kubectl) and may lack the extensions the strict mode wants.
        context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
        if cert and key:
            # load_cert_chain reads files only: write them to a private directory, load, delete.
            with tempfile.TemporaryDirectory(prefix="verify-kube-") as private:
                cert_file, key_file = Path(private, "cert.pem"), Path(private, "key.pem")
                for path, content in ((cert_file, cert), (key_file, key)):
                    path.touch(mode=0o600)
                    path.write_text(content)
                try:
                    context.load_cert_chain(cert_file, key_file)
                except ssl.SSLError as err:
                    raise KubeError(
                        f"the kubeconfig's client certificate and key do not load: {err.reason}"
                    ) from None
        elif cert or key:
            raise KubeError("the kubeconfig user has a client certificate or a key, not both")
        return context


def client_for(document: Mapping[str, Any], context_name: str | None, redactor: Redactor) -> KubeClient:
    """A client for `context_name` (None: the kubeconfig's current context, or its only one)."""
    contexts = [c.get("name") for c in document.get("contexts") or []]
    name = context_name or document.get("current-context") or (contexts[0] if len(contexts) == 1 else None)
    if not name:
        raise KubeError(f"the kubeconfig names no current context; pick one of {contexts}")
    if name not in contexts:
        raise KubeError(f"the kubeconfig has no context {name!r}; it has {contexts}")
    context = _named(document, "context", name)
    cluster = _named(document, "cluster", str(context.get("cluster")))
    user = _named(document, "user", str(context.get("user"))) if context.get("user") else {}
    if not cluster.get("server"):
        raise KubeError(f"cluster {context.get('cluster')!r} of context {name!r} has no server")
    return KubeClient(str(cluster["server"]), cluster, user, redactor)
