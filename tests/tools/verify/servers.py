"""Loopback servers for the tools.verify tests: a real Prometheus, and replays of Loki, Tempo and the
Kubernetes API. Everything listens on 127.0.0.1 only.

- Prometheus: Debian's server (tests.support.prometheus_binary), started with
  `--web.enable-remote-write-receiver`; the tests write samples through the remote-write protocol
  (https://prometheus.io/docs/specs/remote_write_spec/) exactly as Alloy does: a protobuf
  WriteRequest, snappy-compressed. Both are encoded here with the standard library: the protobuf
  wire format by hand (prometheus/prompb/types.proto: WriteRequest{timeseries=1},
  TimeSeries{labels=1, samples=2}, Label{name=1, value=2}, Sample{value=1 double, timestamp=2 int64}),
  and snappy as literal-only blocks, which the snappy format allows
  (https://github.com/google/snappy/blob/main/format_description.txt, "2.1. Literals").
- Replays: an HTTP(S) server answering by path with responses shaped from the APIs' documentation
  (the fixtures in tests/fixtures/verify/ name the document each one follows). It checks the
  Authorization header and, like a careless server, echoes what it got in its 401 body.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import prometheus_binary

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "verify"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Prometheus -------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:  # wire type 2: length-delimited
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def write_request(series: Sequence[tuple[Mapping[str, str], Sequence[tuple[float, int]]]]) -> bytes:
    """A remote-write WriteRequest: each series is (labels, [(value, timestamp ms)])."""
    body = b""
    for labels, samples in series:
        encoded = b"".join(
            _field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in sorted(labels.items())
        )
        for value, timestamp in samples:
            sample = _varint(1 << 3 | 1) + struct.pack("<d", value) + _varint(2 << 3) + _varint(timestamp)
            encoded += _field(2, sample)
        body += _field(1, encoded)
    return body


def snappy_literal(data: bytes) -> bytes:
    """Snappy block format with literals only: valid input for any snappy decoder."""
    out = bytearray(_varint(len(data)))
    for start in range(0, len(data), 65536):
        chunk = data[start : start + 65536]
        n = len(chunk) - 1
        out += (
            bytes([n << 2])
            if n < 60
            else bytes([60 << 2, n])
            if n < 256
            else bytes([61 << 2]) + struct.pack("<H", n)
        )
        out += chunk
    return bytes(out)


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]

    def write(self, series: Sequence[tuple[Mapping[str, str], float]], age_seconds: float = 10) -> None:
        """Each (labels, value) as two samples, `age_seconds` ago and now: current data."""
        now = int(time.time() * 1000)
        payload = write_request(
            [(labels, [(value, now - int(age_seconds * 1000)), (value, now)]) for labels, value in series]
        )
        request = urllib.request.Request(
            f"{self.url}/api/v1/write",
            data=snappy_literal(payload),
            headers={
                "Content-Encoding": "snappy",
                "Content-Type": "application/x-protobuf",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Prometheus]:
    """A real Prometheus on 127.0.0.1, empty config, remote-write receiver on; one per test module."""
    data = Path(tempfile.mkdtemp(prefix="verify-prometheus-"))
    (data / "prometheus.yml").write_text("global: {}\n")
    port = free_port()
    process = subprocess.Popen(
        [
            str(prometheus_binary("prometheus")),
            f"--config.file={data / 'prometheus.yml'}",
            f"--storage.tsdb.path={data / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-remote-write-receiver",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"prometheus did not start: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.05)
    try:
        yield Prometheus(url, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


# --- replays ----------------------------------------------------------------------------------------

Answer = tuple[int, str, bytes]  # status, content type, body
Handler = Callable[[str, dict[str, list[str]]], Answer]


def json_answer(document: Any, status: int = 200) -> Answer:
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != "_doc"}
    return status, "application/json", json.dumps(document).encode()


def text_answer(text: str) -> Answer:
    return 200, "text/plain", text.encode()


@dataclass
class Replay:
    """A loopback server answering GETs from `routes` (exact path -> handler(path, query))."""

    authorization: str | None  # the exact Authorization header it accepts (None: any)
    routes: dict[str, Handler] = field(default_factory=dict)
    prefixes: dict[str, Handler] = field(default_factory=dict)  # path prefix -> handler
    tls: ssl.SSLContext | None = None
    requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Replay:
        replay = self

        class Handle(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                replay.requests.append((parts.path, query, dict(self.headers)))
                got = self.headers.get("Authorization")
                if replay.authorization is not None and got != replay.authorization:
                    # A careless server: echoes the credential it was given.
                    answer = json_answer({"status": "error", "error": f"invalid credentials: {got}"}, 401)
                else:
                    handler = replay.routes.get(parts.path) or next(
                        (h for p, h in replay.prefixes.items() if parts.path.startswith(p)), None
                    )
                    answer = (
                        handler(parts.path, query) if handler else json_answer({"message": "not found"}, 404)
                    )
                status, content_type, body = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]


# --- TLS material -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, as PEM text."""

    ca: str
    server_cert: Path
    server_key: Path
    client_cert: str
    client_key: str
    ca_file: Path

    def server_context(self, require_client_cert: bool = True) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=self.ca)
        return context


def _openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed to make test certificates (apt-get install openssl)")
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory: Path) -> Pki:
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=verify-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    for name, subject, extensions in (
        ("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        ("client", "/O=system:masters/CN=verify-test", "extendedKeyUsage=clientAuth\n"),
    ):
        (directory / f"{name}.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n" + extensions
        )
        _openssl(
            "req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory
        )
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
            cwd=directory,
        )  # fmt: skip
    return Pki(
        ca=(directory / "ca.crt").read_text(),
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=(directory / "client.crt").read_text(),
        client_key=(directory / "client.key").read_text(),
        ca_file=directory / "ca.crt",
    )
