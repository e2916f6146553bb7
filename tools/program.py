"""Runs the real Pulumi program (`__main__.py`) under mocks, for synth and tests."""

from __future__ import annotations

import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings

from builders.config import ALERT_DESTINATION_KEYS, PROJECT, SECRETS, ConfigError
from tools.mocks import PlaceholderMocks, RecordingMonitor

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_SECRET = "placeholder-secret-offline-synth"
# What synth supplies when a stack with alerting on names no alert destination (a user must set
# one: `pulumi up` refuses the stack file as it is). `.invalid` is reserved by RFC 2606 section 2:
# no mail to it can ever be delivered.
PLACEHOLDER_ALERT_EMAIL = "placeholder-set-alertEmailAddresses@offline-synth.invalid"


@dataclass
class ProgramRun:
    """One run of the program under fresh mocks: what it registered and what `main()` returned."""

    stack: str
    mocks: PlaceholderMocks
    monitor: RecordingMonitor
    outputs: dict[str, pulumi.Output] = field(default_factory=dict)

    def start(self) -> ProgramRun:
        """Run `main()` of __main__.py as `pulumi up` would; call inside `pulumi.runtime.test`."""
        program = runpy.run_path(str(ROOT / "__main__.py"), run_name="llmjudge_program")
        self.outputs = program["main"]()
        return self


def prepare(
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    existing: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> ProgramRun:
    """Install fresh mocks, a fresh root stack and exactly this config; declare nothing yet.

    `existing`: the cluster objects reads find (None: every read finds a placeholder).
    """
    mocks = PlaceholderMocks(existing=existing)
    monitor = RecordingMonitor(mocks)
    settings.ROOT.set(None)  # a new Stack resource for this run, named after `stack`
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    return ProgramRun(stack=stack, mocks=mocks, monitor=monitor)


def stack_file_config(stack: str, path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The `config:` of Pulumi.<stack>.yaml as the CLI hands it to the program.

    Values become strings (objects as JSON) as the CLI passes them. Encrypted (`secure:`)
    values and required secret settings the file leaves out are given placeholder values, marked
    secret. What else a user must set before `pulumi up` gets a placeholder too: with alerting on and
    no alert destination, `alertEmailAddresses` = [PLACEHOLDER_ALERT_EMAIL].
    A file that is not a stack file (unreadable, not YAML, `config:` not a mapping) is one
    `ConfigError` naming it, as the CLI refuses it before the program runs.
    """
    document = _stack_document(path or ROOT / f"Pulumi.{stack}.yaml")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in document.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full], secret_keys = PLACEHOLDER_SECRET, [*secret_keys, full]
        else:
            config[full] = cli_text(value)
    for setting in SECRETS:
        full = f"{PROJECT}:{setting.key}"
        if setting.required and full not in config:
            config[full], secret_keys = PLACEHOLDER_SECRET, [*secret_keys, full]
    try:
        features = json.loads(config.get(f"{PROJECT}:features", "{}"))
    except json.JSONDecodeError:
        features = None  # parse_config reports it; the placeholder changes nothing about that
    alerting = not isinstance(features, dict) or features.get("alerting", True) is not False
    if alerting and not any(f"{PROJECT}:{key}" in config for key in ALERT_DESTINATION_KEYS):
        config[f"{PROJECT}:alertEmailAddresses"] = json.dumps([PLACEHOLDER_ALERT_EMAIL])
    return config, secret_keys


def supplied_by_synth(config: Mapping[str, str]) -> dict[str, str]:
    """The config keys `stack_file_config` filled with placeholders (what a user must set), secrets hidden."""
    placeholders = {PLACEHOLDER_SECRET: "[secret]", json.dumps([PLACEHOLDER_ALERT_EMAIL]): None}
    return {
        key: placeholders[value] or value for key, value in sorted(config.items()) if value in placeholders
    }


def _stack_document(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file (empty when the file has none)."""

    def refused(why: str) -> ConfigError:
        return ConfigError(f"Invalid stack file {path}:\n  - {why}")

    try:
        document = yaml.safe_load(path.read_text())
    except OSError as err:
        raise refused(f"cannot be read ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        raise refused(f"is not valid YAML ({str(err).splitlines()[0]})") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise refused(f"must be a mapping with a `config:` mapping, not a {type(document).__name__}")
    config = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise refused(f"config = {json.dumps(config)}: must be a mapping of settings (key: value)")
    if not all(isinstance(key, str) for key in config):
        raise refused("config: every setting name must be a string")
    return config


def cli_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def run_to_completion(stack: str, config: Mapping[str, str], secret_keys: list[str]) -> ProgramRun:
    """Run the program and wait until every registration and output has settled."""
    run = prepare(stack, config, secret_keys)

    @pulumi.runtime.test
    def execute() -> pulumi.Output:
        return pulumi.Output.all(*run.start().outputs.values())

    execute()
    return run
