"""`pulumi up` and the offline synth run on `requirements.txt` alone.

`pulumi up` installs `requirements.txt` into the program's virtualenv and nothing else, so a
module the program imports from a dev-only package (promql-parser, jsonschema, ...) fails a real
deploy while every test, run in the dev environment, passes. Two checks: the program's own import
graph (static), and the real synth run with every dev-only package made unimportable (dynamic).
`.ci/run` also runs the README's synth command in a virtualenv holding `requirements.txt` only.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_PACKAGES = ("builders", "clients", "components", "dynamic", "tools", "tests", "policy")
LOCAL_MODULES = ("platforms", "stackconfig")
# The synth is the program run under mocks: these tools modules are its harness (chart_data reads
# the chart's allow lists for the series bill it prints).
SYNTH_HARNESS = ("tools.synth", "tools.program", "tools.mocks", "tools.chart_data")


def _requirements(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[=<>!~\[ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _modules_of(distributions: set[str]) -> set[str]:
    """Top-level import names the installed distributions provide."""
    provided = importlib.metadata.packages_distributions()
    return {
        module
        for module, dists in provided.items()
        if any(d.lower().replace("_", "-") in distributions for d in dists)
    }


RUNTIME_DISTRIBUTIONS = _requirements(ROOT / "requirements.txt")
DEV_ONLY_DISTRIBUTIONS = _requirements(ROOT / "requirements-dev.txt") - RUNTIME_DISTRIBUTIONS


def _local_file(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] not in (*LOCAL_PACKAGES, *LOCAL_MODULES):
        return None
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every module an `import` anywhere in the file names (function bodies included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def import_closure(*starts: Path) -> tuple[set[str], set[str]]:
    """(local modules, third-party top-level modules) reachable from the start files."""
    local: set[str] = set()
    third_party: set[str] = set()
    todo = list(starts)
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _imports(path):
            top = module.split(".")[0]
            target = _local_file(module)
            if target is not None:
                local.add(module)
                todo.append(target)
            elif top in (*LOCAL_PACKAGES, *LOCAL_MODULES):
                continue  # `from builders import names`: the module itself is also listed
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return local, third_party


def test_the_program_imports_nothing_from_tools_or_tests() -> None:
    local, _ = import_closure(ROOT / "__main__.py")
    offending = sorted(m for m in local if m.split(".")[0] in ("tools", "tests", "policy"))
    assert not offending, f"runtime code imports {offending}; runtime code never imports from tools/"


def test_the_program_and_synth_import_only_what_requirements_txt_installs() -> None:
    runtime_modules = _modules_of(RUNTIME_DISTRIBUTIONS)
    for start in (ROOT / "__main__.py", ROOT / "tools" / "synth.py"):
        local, third_party = import_closure(start)
        tools_modules = {m for m in local if m.split(".")[0] == "tools"}
        assert tools_modules <= set(SYNTH_HARNESS), f"{start.name} imports {sorted(tools_modules)}"
        missing = sorted(third_party - runtime_modules)
        assert not missing, f"{start.name} imports {missing}, which requirements.txt does not install"


BLOCKER = """
import importlib.abc, runpy, sys
BLOCKED = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (dev-only: not in requirements.txt)")
        return None
sys.meta_path.insert(0, Block())
sys.argv = [sys.argv[2], *sys.argv[3:]]
runpy.run_module(sys.argv[0], run_name="__main__")
"""


def run_without_dev_packages(module: str, args: list[str], timeout: int) -> subprocess.CompletedProcess[str]:
    """`python -m <module> <args>` with every dev-only package (requirements-dev.txt, not
    requirements.txt) unimportable, as in the virtualenv `pulumi up` and the deploy workflow use."""
    blocked = _modules_of(DEV_ONLY_DISTRIBUTIONS)
    assert {"promql_parser", "jsonschema", "pytest"} <= blocked  # the blocker is really armed
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(sorted(blocked)), module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_synth_runs_with_every_dev_only_package_unimportable(tmp_path: Path) -> None:
    for stack in ("local", "eks"):
        result = run_without_dev_packages(
            "tools.synth", ["--stack", stack, "--out", str(tmp_path / stack)], timeout=240
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert (tmp_path / stack / "resources.json").is_file()
