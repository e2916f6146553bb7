"""The deploy workflow verifies what it deployed: tools.verify right after `pulumi up`, bounded."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from tools.verify.checks import FREE_TIER_SERIES
from tools.verify.cli import duration

DEPLOY = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "deploy.yml"


def test_verify_runs_after_pulumi_up_with_a_bounded_wait() -> None:
    job = yaml.safe_load(DEPLOY.read_text())["jobs"]["deploy"]
    steps = job["steps"]
    up = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("pulumi/actions@"))
    assert steps[up]["with"]["command"] == "up"
    verify = steps[up + 1]
    words = shlex.split(verify["run"])
    assert words[:3] == [".venv/bin/python", "-m", "tools.verify"]  # requirements.txt's virtualenv
    assert words[words.index("--stack") + 1] == "$STACK"
    assert verify["env"]["STACK"] == steps[up]["with"]["stack-name"]  # the stack just deployed
    wait = duration(words[words.index("--wait") + 1])
    assert 0 < wait < verify["timeout-minutes"] * 60 <= job["timeout-minutes"] * 60
    assert "continue-on-error" not in verify and "if" not in verify  # a failed check fails the run
    assert (
        verify["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    )  # for `pulumi stack output`


def test_the_series_budget_comes_from_a_repository_variable_defaulting_to_the_free_tier() -> None:
    # A paid stack above 10,000 series would otherwise fail every deploy's verify step.
    steps = yaml.safe_load(DEPLOY.read_text())["jobs"]["deploy"]["steps"]
    verify = next(s for s in steps if "tools.verify" in str(s.get("run", "")))
    words = shlex.split(verify["run"])
    assert words[words.index("--series-limit") + 1] == "$SERIES_LIMIT"
    assert verify["env"]["SERIES_LIMIT"] == f"${{{{ vars.GRAFANA_SERIES_LIMIT || '{FREE_TIER_SERIES}' }}}}"
