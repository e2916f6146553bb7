"""Bad stack files through the real synth: one message naming the key, exit 2, no traceback, no hang.

One case per way a bad input used to get through (issue 16): a traceback from inside the run, a
run that waited forever on an Output nobody resolved, or a value silently accepted. Each case edits
the real stack file, runs `python -m tools.synth --stack-file ...` in-process, and must be refused
before any resource is declared (no resources.json), well within its own timeout.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders.config import PROJECT
from tools import synth
from tools.program import ROOT

Edit = Callable[[dict[str, Any]], Any]


def setting(key: str, value: Any) -> Edit:
    """Set (or, with value None, remove) one key of the stack file's `config:`."""

    def edit(document: dict[str, Any]) -> None:
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            document["config"].pop(full, None)
        else:
            document["config"][full] = value

    return edit


@dataclass(frozen=True)
class Case:
    id: str
    stack: str
    edit: Edit
    fragments: tuple[str, ...]  # the one message holds each


RENAMED_SERVICES = [{"name": "api", "port": 8000}, {"name": "worker", "port": 8001}]

CASES = [
    # --- were tracebacks ---
    Case(
        "queue-list-without-inference_queue",
        "eks",
        setting("sqsQueues", ["jobs"]),
        ('inferenceQueue (default "inference_queue"): must be one of the sqsQueues', "['jobs']"),
    ),
    Case(
        "renamed-services-without-roles",
        "local",
        setting("services", RENAMED_SERVICES),
        ("serviceRoles is not set, and its defaults", "are not among the services ['api', 'worker']"),
    ),
    Case(
        "empty-instance-types",
        "eks",
        setting("nodeGroup", {"instanceTypes": None, "minSize": 1, "desiredSize": 1, "maxSize": 2}),
        ("nodeGroup = ", "instanceTypes"),
    ),
    Case(
        "instance-types-empty-list",
        "eks",
        setting("nodeGroup", {"instanceTypes": [], "minSize": 1, "desiredSize": 1, "maxSize": 2}),
        ("nodeGroup = ",),
    ),
    Case("config-not-a-mapping", "local", lambda d: d.update(config=["platform: local"]), ("config = ",)),
    Case("config-a-string", "local", lambda d: d.update(config="platform: local"), ("must be a mapping",)),
    # --- were hangs ---
    Case("no-queues", "eks", setting("sqsQueues", []), ('sqsQueues = "[]"', "non-empty")),
    Case(
        "queues-clashing-once-normalised",
        "eks",
        setting("sqsQueues", ["inference_queue", "judge-queue", "judge_queue"]),
        ("sqsQueues = ", "'-' and '.' read as '_'"),
    ),
    Case(
        "fifo-name-over-80",
        "eks",
        setting("sqsQueues", ["inference_queue", "q" * 76 + ".fifo"]),
        ("sqsQueues = ", "1-80 characters"),
    ),
    # --- were silently accepted ---
    Case(
        "misspelt-namespace",
        "local",
        setting("llm-judge-observabilty:traceSampleRate", 0.5),
        ("did you mean llm-judge-observability:traceSampleRate?",),
    ),
    Case(
        "provider-namespace",
        "eks",
        setting("aws:region", "eu-west-1"),
        ("aws:region: nothing reads it", f"{PROJECT}:awsRegion"),
    ),
    Case("cluster-name-newline", "local", setting("clusterName", "llm-judge\n"), ("clusterName = ",)),
    Case("namespace-newline", "local", setting("namespace", "llm-judge\n"), ("namespace = ",)),
    Case(
        "slug-newline", "local", setting("grafanaCloudStackSlug", "llmjudge\n"), ("grafanaCloudStackSlug = ",)
    ),
    Case(
        "service-name-newline",
        "local",
        setting("services", [{"name": "gateway-service\n", "port": 8000}]),
        ("services[0] = ",),
    ),
    Case("queue-newline", "eks", setting("sqsQueues", ["inference_queue\n"]), ("sqsQueues = ",)),
    Case(
        "runbook-url-template",
        "local",
        setting("runbookBaseUrl", "https://wiki.example.com/{{ $labels.alertname }}"),
        ("runbookBaseUrl = ", "templates"),
    ),
    Case("rotate-before-0-days", "local", setting("collectorTokenRotateBeforeDays", 0), ("1 to 364",)),
    Case(
        "role-naming-no-service",
        "local",
        setting("serviceRoles", {"redis": "cache"}),
        ('serviceRoles.redis = "cache": must be one of the services',),
    ),
    Case(
        "inference-queue-not-collected",
        "eks",
        setting("inferenceQueue", "judge_queue"),
        ('inferenceQueue = "judge_queue": must be one of the sqsQueues',),
    ),
]


def _write(tmp_path: Path, case: Case) -> Path:
    document = yaml.safe_load((ROOT / f"Pulumi.{case.stack}.yaml").read_text())
    case.edit(document)
    path = tmp_path / f"Pulumi.{case.stack}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.timeout(60)  # a run waiting on an unresolved Output fails here, not at the suite's 300 s
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_stack_file_is_one_message_and_exit_2(case: Case, tmp_path: Path, capsys) -> None:
    stack_file = _write(tmp_path, case)
    out = tmp_path / "out"
    code = synth.main(["--stack", case.stack, "--out", str(out), "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("error: Invalid ")
    assert err.count("\n  - ") == 1, f"expected one problem:\n{err}"
    for fragment in case.fragments:
        assert fragment in err, err
    assert not (out / "resources.json").exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("config: [unclosed", "is not valid YAML"),
        ("- platform\n- local\n", "must be a mapping with a `config:` mapping, not a list"),
    ],
)
def test_a_file_that_is_no_stack_file_is_one_message(tmp_path: Path, capsys, content: str, fragment: str):
    stack_file = tmp_path / "Pulumi.local.yaml"
    stack_file.write_text(content)
    code = synth.main(["--stack", "local", "--out", str(tmp_path / "o"), "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"Invalid stack file {stack_file}:" in err and fragment in err


def test_a_missing_stack_file_is_one_message(tmp_path: Path, capsys):
    missing = tmp_path / "Pulumi.nope.yaml"
    code = synth.main(["--stack", "local", "--out", str(tmp_path / "o"), "--stack-file", str(missing)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "cannot be read" in err


@pytest.mark.timeout(60)
def test_the_good_stack_files_still_synthesize(tmp_path: Path) -> None:
    """The table refuses what is bad, not everything: the committed stack files pass unchanged."""
    for stack in ("local", "eks"):
        assert synth.main(["--stack", stack, "--out", str(tmp_path / stack)]) == 0
        assert json.loads((tmp_path / stack / "resources.json").read_text())
