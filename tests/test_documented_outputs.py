"""Each stack exports exactly the outputs the README's "Stack outputs" table documents for it.

Outputs are read by name (tools.verify reads `verifyToken` and `verifyEndpoints`, the deploy
workflow and the README's commands read others); a renamed or missing output breaks them silently.
The names come from the README (the promise), the outputs from what each stack really exports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import config_for
from tools.program import run_to_completion

README = Path(__file__).resolve().parent.parent / "README.md"
COST_METRICS_ONLY = "with `features.costMetrics`"


def documented_outputs() -> dict[str, str]:
    """Output name -> the table's "stacks" cell."""
    text = README.read_text()
    section = text.split("\n## Stack outputs\n", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, str] = {}
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if not row.startswith("| `") or len(cells) != 3:
            continue
        for name in re.findall(r"`(\w+)`", cells[0]):
            documented[name] = cells[1]
    return documented


def expected_outputs(stack: str, cost_metrics: bool) -> set[str]:
    return {
        name
        for name, stacks in documented_outputs().items()
        if stacks.startswith(("both", stack)) and (cost_metrics or COST_METRICS_ONLY not in stacks)
    }


def test_the_table_documents_both_stacks_and_the_eks_outputs():
    documented = documented_outputs()
    assert {"verifyToken", "verifyEndpoints", "credentialsSecretName"} <= set(documented)
    assert {name for name, stacks in documented.items() if stacks == "eks"} == {
        "clusterName",
        "kubeconfig",
        "irsaRoleArns",
        "credentialsAwsSecretArn",
    }


@pytest.mark.parametrize(
    ("stack", "cost_metrics"), [("local", True), ("eks", True), ("local", False), ("eks", False)]
)
def test_each_stack_exports_exactly_the_documented_outputs(stack: str, cost_metrics: bool) -> None:
    overrides = {} if cost_metrics else {"features": '{"costMetrics": false}'}
    run = run_to_completion(stack, *config_for(stack, **overrides))
    assert set(run.outputs) == expected_outputs(stack, cost_metrics)
