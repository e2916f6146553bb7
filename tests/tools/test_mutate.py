"""tools.mutate: which mutants it makes, that it never leaves one behind, how it reads the README."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tools import mutate

SOURCE = '''"""Module docstring."""

LIMIT = 64


def check(name: str, strict: bool = True) -> str:
    """Docstring."""
    if len(name) > LIMIT and strict:
        raise ValueError(f"name {name!r} is too long")
    problems.append(f"{name} is fine")
    return f"{name}-role"
'''


def _mutants(tmp_path: Path) -> list[mutate.Mutant]:
    (tmp_path / "builders").mkdir(exist_ok=True)
    (tmp_path / "builders" / "x.py").write_text(SOURCE)
    return mutate.mutants_of("builders/x.py", root=tmp_path)


def test_each_mutant_is_one_change_that_parses(tmp_path: Path) -> None:
    found = {(m.id, m.before, m.after) for m in _mutants(tmp_path)}
    assert found == {
        ("builders/x.py:<module>#number1", "64", "65"),
        ("builders/x.py:<module>#bool1", "True", "False"),  # the default of `strict`
        ("builders/x.py:check#compare1", "len(name) > LIMIT", "(len(name) >= LIMIT)"),
        ("builders/x.py:check#boolop1", "len(name) > LIMIT and strict", "(len(name) > LIMIT or strict)"),
        ("builders/x.py:check#drop-raise1", 'raise ValueError(f"name {name!r} is too long")', "pass"),
        ("builders/x.py:check#drop-call1", 'problems.append(f"{name} is fine")', "pass"),
        ("builders/x.py:check#fstring1", 'f"{name}-role"', 'f"XX{name}-roleXX"'),
    }
    # Not mutated: docstrings, annotations, the text of the raised and appended messages.
    for mutant in _mutants(tmp_path):
        tree = ast.parse(mutant.source)
        assert ast.dump(tree) != ast.dump(ast.parse(SOURCE)), mutant.id
        assert mutant.source.count("\n") >= SOURCE.count("\n") - 1


def test_a_mutant_is_never_left_behind(tmp_path: Path) -> None:
    (mutant,) = [m for m in _mutants(tmp_path) if m.kind == "compare"]

    class Broken:
        copy = tmp_path

        def run(self, tests: list[str], timeout: float) -> tuple[str, str]:
            assert (tmp_path / "builders" / "x.py").read_text() == mutant.source  # in place while it runs
            raise RuntimeError("worker died")

    class AllTests:
        def stages(self, mutant: mutate.Mutant, budget: float) -> list[list[str]]:
            return [["tests/test_x.py::test_one"]]

        def budget(self, tests: list[str]) -> float:
            return 1.0

    with pytest.raises(RuntimeError, match="worker died"):
        mutate.run_mutant(mutant, Broken(), AllTests(), 0)  # type: ignore[arg-type]
    assert (tmp_path / "builders" / "x.py").read_text() == SOURCE


def test_a_test_id_the_mutant_does_not_collect_is_not_a_kill(tmp_path: Path) -> None:
    """pytest exits 4 when a selected id is not collected (a parametrisation that reads the mutated
    value): the files of those tests run whole and decide."""
    (mutant,) = [m for m in _mutants(tmp_path) if m.kind == "compare"]
    runs: list[list[str]] = []

    class Worker:
        copy = tmp_path

        def run(self, tests: list[str], timeout: float) -> tuple[str, str]:
            runs.append(tests)
            return ("killed", "exit status 4") if len(runs) == 1 else ("survived", "")

    class Selected:
        def stages(self, mutant: mutate.Mutant, budget: float) -> list[list[str]]:
            return [["tests/test_x.py::test_one[a]", "tests/test_x.py::test_two", "tests/test_y.py::test_c"]]

        def budget(self, tests: list[str]) -> float:
            return 1.0

    result = mutate.run_mutant(mutant, Worker(), Selected(), 0)  # type: ignore[arg-type]
    assert result.outcome == "survived"
    assert runs[1] == ["tests/test_x.py", "tests/test_y.py"]


def test_the_tests_against_real_artefacts_always_run() -> None:
    """The chart's render is computed once per session: the baseline credits the module's lines to
    the first test that asked for it, not to tests/tools/test_collector_rbac.py."""
    data = {
        "tests": {
            "tests/builders/test_k8s_monitoring.py::test_b": {
                "seconds": 0.1,
                "lines": {"builders/k8s_monitoring.py": [30]},
            },
            "tests/tools/test_collector_rbac.py::test_a": {"seconds": 20.0, "lines": {}},
        }
    }
    mutant = mutate.Mutant("m", "builders/k8s_monitoring.py", "<module>", "string", False, 30, 30, "", "", "")
    (own,) = mutate.Selection(data).stages(mutant, budget=5)
    assert "tests/tools/test_collector_rbac.py::test_a" in own


def test_a_components_own_tests_are_the_programs() -> None:
    assert set(mutate.PROGRAM_TESTS) <= set(mutate.ALSO_OWN["components/eks_cluster.py"])
    assert all((mutate.ROOT / test).is_file() for test in mutate.PROGRAM_TESTS)


def test_the_readme_section_lists_survivor_ids(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "## Testing\n\n### Mutation testing\n\n| reason | mutants |\n|---|---|\n"
        "| message text | `builders/config.py:<module>#string25`, `builders/iam.py:role_name#number1` |\n"
        "\n## Deploying\n\n`builders/other.py:f#compare1`\n"
    )
    assert mutate.documented_survivors(readme) == {
        "builders/config.py:<module>#string25",
        "builders/iam.py:role_name#number1",
    }


def test_only_the_mutants_run_are_held_to_the_readme() -> None:
    documented = {"builders/iam.py:f#string1", "builders/iam.py:f#string2", "builders/names.py:g#bool1"}
    modules = ["builders/iam.py"]
    # The whole module ran: string2 is killed now, number1 is a new survivor.
    survivors = {"builders/iam.py:f#string1", "builders/iam.py:f#number1"}
    assert mutate.documentation_gaps(survivors, documented, modules, set()) == (
        ["builders/iam.py:f#number1"],
        ["builders/iam.py:f#string2"],
    )
    # `--only f#number1`: the listed survivors it did not run are not reported as killed.
    not_run = {"builders/iam.py:f#string1", "builders/iam.py:f#string2"}
    assert mutate.documentation_gaps(set(), documented, modules, not_run) == ([], [])


def test_every_target_exists_and_is_not_a_test() -> None:
    assert len(set(mutate.TARGETS)) == len(mutate.TARGETS)
    for target in mutate.TARGETS:
        assert (mutate.ROOT / target).is_file(), target
        assert target.split("/")[0] in ("builders", "components", "platforms.py")
    for target, tests in mutate.ALSO_OWN.items():
        assert target in mutate.TARGETS
        assert all((mutate.ROOT / test).is_file() for test in tests), tests
