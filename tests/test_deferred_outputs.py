"""Deferred Outputs never keep a run waiting: an error, or a forgotten resolution, ends it at once.

After a program raises, the SDK awaits every outstanding registration before it reports the error
(pulumi/runtime/stack.py `run_pulumi_func`); a resource whose input waits on a deferred Output
nobody resolves never registers. Before `settles_deferred_outputs`, any exception between
`role_arn()` and its resolution made `pulumi up` and the synth wait forever, silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest

import platforms
from platforms import ProgramStoppedError, role_arn, settles_deferred_outputs
from tools.program import prepare, run_to_completion, stack_file_config

pytestmark = pytest.mark.timeout(60)  # the failure mode is a hang: fail here instead


ROOT = Path(__file__).resolve().parent.parent


def _consumer(name: str, arn: pulumi.Output[str]) -> pulumi.CustomResource:
    """A resource that needs the deferred value, as the IRSA service-account annotations do."""
    return pulumi.CustomResource("test:index:Consumer", name, {"roleArn": arn})


def _run(program):  # runs `program` as `pulumi up` runs main(): inside the runtime, then settles
    prepare("local", {}, [])

    @pulumi.runtime.test
    def run():
        return program()

    run()


def test_an_error_after_a_deferred_output_ends_the_run_with_that_error():
    @settles_deferred_outputs
    def program():
        arn, _ = role_arn("alloy-metrics")
        _consumer("collector", arn)
        raise ValueError("a builder refused its input")

    with pytest.raises(ProgramStoppedError, match=r"^ValueError: a builder refused its input") as raised:
        _run(program)
    assert "The program stopped here:" in str(raised.value)
    assert 'raise ValueError("a builder refused its input")' in str(raised.value)  # where, for a bug


def test_a_one_message_error_stays_the_one_message():
    @settles_deferred_outputs
    def program():
        arn, _ = role_arn("alloy-metrics")
        _consumer("collector", arn)
        raise pulumi.RunError("Invalid configuration in Pulumi.eks.yaml: ...")

    with pytest.raises(pulumi.RunError, match=r"^Invalid configuration in Pulumi\.eks\.yaml: \.\.\.$"):
        _run(program)


def test_a_forgotten_resolution_is_an_error_not_a_wait():
    @settles_deferred_outputs
    def program():
        arn, _ = role_arn("external-secrets")
        _consumer("operator", arn)

    with pytest.raises(ProgramStoppedError, match=r"never resolved: \['external-secrets'\]"):
        _run(program)


def test_resolved_outputs_carry_their_value():
    seen: list[str] = []

    @settles_deferred_outputs
    def program():
        arn, resolve = role_arn("alloy-metrics")
        _consumer("collector", arn)
        resolve(pulumi.Output.from_input("arn:aws:iam::123456789012:role/x"))
        return arn.apply(seen.append)

    _run(program)
    assert seen == ["arn:aws:iam::123456789012:role/x"]


def test_every_deferred_output_of_the_program_is_guarded():
    # A raw `pulumi.deferred_output()` is outside the guard: an error before its resolution hangs.
    # The one allowed use is inside `platforms.deferred`, which registers it with the guard.
    # (Text, not `ast`: CPython 3.11.7's ast.parse fails with "AST constructor recursion depth
    # mismatch" after the mock runs of the tests above, in the same process.)
    uses = []
    for path in [*sorted(ROOT.glob("*.py")), *sorted(ROOT.glob("components/*.py"))]:
        functions: list[tuple[int, str]] = []  # (indent, name) of the defs enclosing the line
        for line in path.read_text().splitlines():
            indent = len(line) - len(line.lstrip())
            name = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
            if line.strip():
                functions = [(i, f) for i, f in functions if i < indent]
            if name:
                functions.append((indent, name.group(1)))
            elif "deferred_output(" in line and not line.lstrip().startswith("#"):
                uses.append((path.name, functions[-1][1] if functions else "<module>"))
    assert set(uses) == {("platforms.py", "deferred")}, uses


def test_role_arn_is_refused_outside_the_guard():
    with pytest.raises(RuntimeError, match="outside settles_deferred_outputs"):
        role_arn("alloy-metrics")


def test_the_guard_ends_with_its_program_whether_it_returns_or_raises():
    # Otherwise a later run in the same process (the tests, the synth of both stacks) would add its
    # deferred Outputs to a finished run's list, which nothing settles any more.
    @settles_deferred_outputs
    def returns():
        return "declared"

    @settles_deferred_outputs
    def raises():
        raise ValueError("a builder refused its input")

    assert returns() == "declared"
    with pytest.raises(RuntimeError, match="outside settles_deferred_outputs"):
        role_arn("alloy-metrics")
    with pytest.raises(ValueError, match="refused its input"):
        raises()
    with pytest.raises(RuntimeError, match="outside settles_deferred_outputs"):
        role_arn("alloy-metrics")


def test_the_real_program_stops_at_once_when_a_builder_raises_after_the_roles(monkeypatch):
    """The eks stack makes its role ARNs deferred before it builds the CloudWatch config."""

    def refuse(**_: object) -> str:
        raise ValueError("queues refused by the collector config")

    monkeypatch.setattr(platforms.cloudwatch, "alloy_config", refuse)
    with pytest.raises(ProgramStoppedError, match="queues refused by the collector config"):
        run_to_completion("eks", *stack_file_config("eks"))
