"""The project's quality gates, in the order a failure is cheapest to read.

    .venv/bin/python -m tools.check

ruff (lint, format check), mypy on the program's code, then pytest. Stops at the first failure.
"""

from __future__ import annotations

import subprocess
import sys
import time

GATES: list[tuple[str, list[str]]] = [
    ("ruff lint", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy", [sys.executable, "-m", "mypy"]),
    ("pytest", [sys.executable, "-m", "pytest"]),
]


def main() -> int:
    started = time.perf_counter()
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
