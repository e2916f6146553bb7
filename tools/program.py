"""Runs the real Pulumi program (`__main__.py`) under mocks, for synth and tests."""

from __future__ import annotations

import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from builders.config import PROJECT, SECRETS
from tools.mocks import PlaceholderMocks, RecordingMonitor

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "placeholder-secret-offline-synth"


@dataclass
class ProgramRun:
    """What one run declared: every registration and the outputs `main()` returned."""

    monitor: RecordingMonitor
    mocks: PlaceholderMocks
    outputs: dict[str, pulumi.Output]


def stack_file_config(stack: str) -> tuple[dict[str, str], list[str]]:
    """The `config:` of Pulumi.<stack>.yaml as the CLI hands it to the program.

    Values become strings (objects as JSON) as the CLI passes them. Encrypted (`secure:`)
    values and secret settings the file leaves out are given placeholder values, marked secret.
    """
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full], secret_keys = PLACEHOLDER_SECRET, [*secret_keys, full]
        else:
            config[full] = cli_text(value)
    for setting in SECRETS:
        full = f"{PROJECT}:{setting.key}"
        if setting.required and full not in config:
            config[full], secret_keys = PLACEHOLDER_SECRET, [*secret_keys, full]
    return config, secret_keys


def cli_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def start_program(
    stack: str, config: Mapping[str, str], secret_keys: list[str]
) -> ProgramRun:
    """Install fresh mocks and config, then run `main()`; call inside `pulumi.runtime.test`."""
    mocks = PlaceholderMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    program = runpy.run_path(str(ROOT / "__main__.py"), run_name="llmjudge_program")
    outputs = program["main"]()
    return ProgramRun(monitor=monitor, mocks=mocks, outputs=outputs)


def run_to_completion(stack: str, config: Mapping[str, str], secret_keys: list[str]) -> ProgramRun:
    """Run the program and wait until every registration and output has settled."""
    runs: list[ProgramRun] = []

    @pulumi.runtime.test
    def run() -> pulumi.Output:
        runs.append(start_program(stack, config, secret_keys))
        return pulumi.Output.all(*runs[0].outputs.values())

    run()
    return runs[0]
