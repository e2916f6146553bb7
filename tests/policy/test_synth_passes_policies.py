"""Both stacks synthesize and pass every policy rule, with secrets visible as "[secret]".

This is where "credentials are secret Outputs" is enforced: the live pack sees secrets as plaintext
and cannot tell them from literals (see policy/rules.py). Each stack is synthesized once, in a
subprocess (`python -m tools.synth`), into a temporary directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policy.rules import RULES, violations

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("local", "eks")


@pytest.fixture(scope="module", params=STACKS)
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[Any]]:
    stack = request.param
    out = tmp_path_factory.mktemp(f"synth-{stack}")
    run = subprocess.run(
        [sys.executable, "-m", "tools.synth", "--stack", stack, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        tail = (lines[-1] if lines else "no output")[:300]
        pytest.fail(f"synth of {stack} failed (exit {run.returncode}):\n{tail}")
    return stack, json.loads((out / "resources.json").read_text())


def test_every_resource_passes_every_rule(synthesized: tuple[str, list[Any]]) -> None:
    stack, records = synthesized
    found = [
        f"{record['type']} {record['name']}: {message}"
        for record in records
        for message in violations(record["type"], record["inputs"], record["name"])
    ]
    assert found == [], f"stack {stack}:\n" + "\n".join(found)


def test_the_rules_saw_the_resources_they_guard(synthesized: tuple[str, list[Any]]) -> None:
    """Guards against a vacuous pass: the stack has what the rules are about."""
    stack, records = synthesized
    types = {record["type"] for record in records}
    expected = {"kubernetes:helm.sh/v3:Release", "grafana:cloud/accessPolicy:AccessPolicy"}
    expected |= {
        "local": {"kubernetes:core/v1:Secret", "kubernetes:apps/v1:DeploymentPatch"},
        "eks": {
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:secretsmanager/secretVersion:SecretVersion",
            "kubernetes:external-secrets.io/v1:ExternalSecret",
        },
    }[stack]
    assert expected <= types, f"stack {stack} lacks {sorted(expected - types)}"
    covered = {t for rule in RULES for t in rule.resource_types}
    assert types & covered
