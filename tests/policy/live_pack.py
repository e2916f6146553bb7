"""The policy pack as `pulumi preview --policy-pack policy` runs it: policy/__main__.py in its own
process, asked over the analyzer's gRPC interface exactly as the engine asks it.

The engine sends a resource's inputs as a protobuf Struct, secrets wrapped in the secret signature
(the same wrapper the mock monitor records); pulumi-policy 1.21 unwraps them and wraps the result
in its unknown-checking proxy (pulumi_policy/policy.py `Analyze`:
`deserialize_properties(json_format.MessageToDict(request.properties))`, then
`unknown_checking_proxy`), so validators see plain values in Mapping/Sequence proxies.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PACK = Path(__file__).resolve().parents[2] / "policy" / "__main__.py"


class LivePack:
    def __init__(self, port: str) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self._stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

    def analyze(self, type_: str, name: str, inputs: Mapping[str, Any]) -> list[tuple[str, str, int]]:
        """(policy name, message, enforcement level) of each violation the pack reports."""
        from google.protobuf import struct_pb2
        from pulumi.runtime.proto import analyzer_pb2

        struct = struct_pb2.Struct()
        struct.update(dict(inputs))
        request = analyzer_pb2.AnalyzeRequest(
            type=type_, properties=struct, urn=f"urn:pulumi:stack::project::{type_}::{name}", name=name
        )
        response = self._stub.Analyze(request, timeout=30)
        return [(d.policyName, d.message, d.enforcementLevel) for d in response.diagnostics]


@contextmanager
def live_pack() -> Iterator[LivePack]:
    pack = subprocess.Popen(
        [sys.executable, str(PACK)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert pack.stdout is not None
        port = pack.stdout.readline().strip()
        assert port.isdigit(), "the pack prints its gRPC port first"
        yield LivePack(port)
    finally:
        pack.terminate()
        pack.wait(timeout=10)
