"""The project's quality gates, in the order a failure is cheapest to read.

    .venv/bin/python -m tools.check

Test binaries (promtool and Prometheus, fetched once into .cache/ when missing: tools.prometheus_bin),
ruff (lint, format check), mypy on the program's code, then pytest. Stops at the first failure.
The chart renders in the tests use the packaged k8s-monitoring chart beside the checkout
(../shared/k8s-monitoring/k8s-monitoring-<version>.tgz) unless K8S_MONITORING_CHART says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tools import prometheus_bin

GATES: list[tuple[str, list[str]]] = [
    ("ruff lint", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy", [sys.executable, "-m", "mypy"]),
    ("pytest", [sys.executable, "-m", "pytest"]),
]


def test_binaries() -> bool:
    """promtool and prometheus for pytest, as $PROMTOOL and $PROMETHEUS."""
    print("== test binaries: promtool, prometheus (tools.prometheus_bin)", flush=True)
    try:
        found = prometheus_bin.ensure()
    except prometheus_bin.MissingBinaryError as err:
        print(f"== test binaries failed: {err}", flush=True)
        return False
    for name, path in found.items():
        os.environ[prometheus_bin.BINARIES[name]] = str(path)
        print(f"   {prometheus_bin.BINARIES[name]}={path} ({prometheus_bin.version(path)})", flush=True)
    return True


def main() -> int:
    started = time.perf_counter()
    if not test_binaries():
        return 1
    for name, command in GATES:
        print(f"== {name}: {' '.join(command[2:])}", flush=True)
        gate_started = time.perf_counter()
        if subprocess.run(command, check=False).returncode != 0:
            print(f"== {name} failed", flush=True)
            return 1
        print(f"== {name} ok in {time.perf_counter() - gate_started:.1f} s", flush=True)
    print(f"== all gates passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
