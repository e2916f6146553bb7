"""Mutation testing of the program's logic: one small change at a time, against the tests that run it.

    .venv/bin/python -m tools.mutate                              # every module in TARGETS
    .venv/bin/python -m tools.mutate builders/iam.py builders/subnets.py
    .venv/bin/python -m tools.mutate --list builders/iam.py       # the mutants only, nothing run
    .venv/bin/python -m tools.mutate --jobs 2 --json /tmp/mutants.json

Not part of `tools.check` (it runs the tests once per mutant: minutes, not seconds).

How it works, so that its numbers can be trusted:
- The checkout is copied (without .git and caches) into a temporary directory, one copy per worker,
  with `shared` beside the copies linked to the real `../shared`. Mutants are written into a copy
  only, and the copy's file is restored in a `finally`: the working tree is never touched.
- Baseline: the whole test suite runs once in a copy with a line tracer (this module as a pytest
  plugin) that records, per test, which lines of the target modules it executed, and how long it
  took. Every test must pass. The baseline is cached in `.cache/mutate/`, keyed by the content of
  every .py and stack file, so a second run over other modules reuses it.
- Mutants (AST based, one change each): comparison operators (`<`/`<=`, `==`/`!=`, `in`/`not in`,
  `is`/`is not`), `and`/`or`, a dropped `not`, arithmetic operators, numbers (+1), booleans,
  string and f-string constants (wrapped in `XX…XX`), a negated condition (`if x` → `if not x`,
  comprehension filters too), a dropped keyword argument, a dropped call statement, `raise` or
  `+=`. Not mutated: docstrings, annotations (`Literal[...]` included), decorators (`frozen=True`
  of a dataclass nobody assigns to is equivalent), and the text of messages
  (strings inside `raise`, `print`, logging, and `problems.append/extend/+=`): their wording is
  free, and what each message must name is tested by the tests that trigger it.
- Each mutant runs, in a fork of a worker process (`pytest -x`; the test files with least to run
  first), the tests that executed one of its lines in the baseline; a mutant outside any function
  (module constants, class bodies) runs the tests that executed any line of its module. A mutant
  they do not kill runs again with every test of the files those tests are in (which catches values
  computed once per session and used by later tests). Killed: a test fails, errors, or the run
  exceeds its timeout (5 times the baseline time of its tests + 60 s). Survived: everything passed.
  A mutant no test executes is reported as not covered (a survivor).
- Mutant ids are `<file>:<function>#<kind><n>` (n counts that kind within that function), stable
  while the function is unchanged. The README's "Mutation testing" section lists every survivor
  with the reason it is harmless; this command reports survivors that are not listed there, and
  listed ones that no longer survive, and exits 1 if any.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import dataclasses
import hashlib
import itertools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "mutate"
README = ROOT / "README.md"

# builders/ whole, the components that decide something, platforms.py; the most consequential first
# (a run stopped early has done those). clients/ (HTTP and Kubernetes plumbing of the dynamic
# providers and tools.verify) and __main__.py (composition only) are not targets.
TARGETS: tuple[str, ...] = (
    "builders/config.py",
    "builders/alerts.py",
    "builders/notification_routing.py",
    "components/alert_rules.py",
    "builders/k8s_monitoring.py",
    "builders/credentials.py",
    "builders/external_secrets.py",
    "builders/iam.py",
    "builders/grafana_cloud.py",
    "builders/cloudwatch.py",
    "builders/app_instrumentation.py",
    "builders/dashboards.py",
    "builders/grafana_objects.py",
    "builders/features.py",
    "builders/names.py",
    "builders/scrape_annotations.py",
    "builders/k8s_monitoring_names.py",
    "builders/grafana_com.py",
    "builders/subnets.py",
    "builders/eks_access.py",
    "builders/preflight.py",
    "builders/kubeconfig.py",
    "builders/verification.py",
    "builders/metric_bill.py",
    "components/access_policy.py",
    "components/alloy_monitoring.py",
    "components/app_instrumentation.py",
    "components/credentials_secret.py",
    "components/dashboards.py",
    "components/eks_cluster.py",
    "components/external_credentials.py",
    "components/grafana_cloud_stack.py",
    "components/irsa_roles.py",
    "components/namespace.py",
    "components/stack_grafana.py",
    "components/verification_access.py",
    "platforms.py",
)

# The real program under mocks, both stacks: what every component and platforms.py is for.
PROGRAM_TESTS = (
    "tests/test_program.py",
    "tests/test_program_eks.py",
    "tests/test_resource_identity.py",
    "tests/test_many_clusters.py",
)

# Tests that check a module against a real artefact (the chart's schema and render, the pinned
# dashboards): counted among its own tests, whatever they cost.
ALSO_OWN: Mapping[str, tuple[str, ...]] = {
    "builders/k8s_monitoring.py": (
        "tests/tools/test_chart_check.py",
        "tests/tools/test_chart_render.py",
        "tests/tools/test_dashboard_delivery.py",
        "tests/tools/test_rendered_pipeline.py",
        "tests/tools/test_collector_rbac.py",
    ),
    "builders/grafana_com.py": ("tests/tools/test_pinned_dashboards.py",),
    "builders/alerts.py": ("tests/tools/test_prom_rules.py",),
    # The components and platforms.py are exercised whole through the program, both stacks.
    **{path: PROGRAM_TESTS for path in TARGETS if path.startswith("components/") or path == "platforms.py"},
}

_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".venv-runtime", ".cache", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    "out", "synth-out",
)  # fmt: skip
_MESSAGE_CALLS = {"print", "warn", "debug", "info", "warning", "error", "exception"}
_MESSAGE_LISTS = re.compile(r"problem|message|error", re.IGNORECASE)
_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BIN_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult,
}


@dataclasses.dataclass(frozen=True)
class Mutant:
    id: str
    path: str  # relative to the checkout
    scope: str  # enclosing function's qualified name, or "<module>" / a class name
    kind: str
    in_function: bool  # False: runs at import (module constants, class bodies, defaults)
    line: int
    end_line: int
    before: str
    after: str
    source: str  # the whole mutated file

    def describe(self) -> str:
        return f"{self.id} (line {self.line}): {_short(self.before)} → {_short(self.after)}"


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- generating mutants ------------------------------------------------------------------------


class _Source:
    """The file's text with byte offsets per line (ast columns count UTF-8 bytes)."""

    def __init__(self, text: str) -> None:
        self.data = text.encode()
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
        end = self.starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode()

    def replaced(self, node: ast.AST, text: str) -> str:
        start, end = self.span(node)
        return (self.data[:start] + text.encode() + self.data[end:]).decode()


@dataclasses.dataclass(frozen=True)
class _Context:
    scope: str = "<module>"
    in_function: bool = False
    message: bool = False  # inside message text: strings are not mutated


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _receiver(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return _receiver(node.value) + "." + node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _is_message_call(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name) and func.id == "print":
        return True
    if isinstance(func, ast.Attribute):
        owner = _receiver(func.value)
        if func.attr in ("append", "extend") and _MESSAGE_LISTS.search(owner):
            return True
        if func.attr in _MESSAGE_CALLS and re.search(r"(^|\.)(log|logging|logger|warnings)$", owner):
            return True
    return False


class _Generator:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.source = _Source(text)
        self.original = ast.dump(ast.parse(text))
        self.mutants: list[Mutant] = []
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, ctx: _Context, kind: str, node: ast.AST, replacement: str) -> None:
        before = self.source.segment(node)
        mutated = self.source.replaced(node, replacement)
        try:
            tree = ast.parse(mutated)
        except SyntaxError:
            return
        if ast.dump(tree) == self.original:
            return
        self.counts[(ctx.scope, kind)] += 1
        self.mutants.append(
            Mutant(
                id=f"{self.path}:{ctx.scope}#{kind}{self.counts[(ctx.scope, kind)]}",
                path=self.path,
                scope=ctx.scope,
                kind=kind,
                in_function=ctx.in_function,
                line=node.lineno,  # type: ignore[attr-defined]
                end_line=node.end_lineno or node.lineno,  # type: ignore[attr-defined]
                before=before,
                after=replacement,
                source=mutated,
            )
        )

    def expr_variant(self, ctx: _Context, kind: str, node: ast.expr, new: ast.expr) -> None:
        self.add(ctx, kind, node, "(" + ast.unparse(ast.fix_missing_locations(new)) + ")")

    # statements

    def body(self, statements: list[ast.stmt], ctx: _Context) -> None:
        for index, statement in enumerate(statements):
            if _is_docstring(statement):
                continue  # docstrings, and bare strings used as comments
            self.statement(statement, ctx, only=len(statements) == 1 and index == 0)

    def statement(self, node: ast.stmt, ctx: _Context, only: bool) -> None:
        if isinstance(node, ast.ImportFrom | ast.Import | ast.Global | ast.Nonlocal | ast.Pass):
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for default in (*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)):
                self.expr(default, ctx)
            inner = _Context(scope=_qualify(ctx, node.name), in_function=True)
            self.body(node.body, inner)
            return
        if isinstance(node, ast.ClassDef):
            self.body(node.body, _Context(scope=_qualify(ctx, node.name), in_function=ctx.in_function))
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            return
        if isinstance(node, ast.Raise):
            self.add(ctx, "drop-raise", node, "pass")
            message = dataclasses.replace(ctx, message=True)
            for child in (node.exc, node.cause):
                if child is not None:
                    self.expr(child, message)
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
            self.add(ctx, "drop-call", node, "pass")
        if isinstance(node, ast.AugAssign):
            self.add(ctx, "drop-augassign", node, "pass")
            if isinstance(node.op, ast.Add) and _MESSAGE_LISTS.search(_receiver(node.target)):
                self.expr(node.value, dataclasses.replace(ctx, message=True))
                return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.expr(node.value, ctx)
            return
        if isinstance(node, ast.If | ast.While):
            self.condition(node.test, ctx)
        for field_name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self.body(value, ctx)
            elif isinstance(value, ast.expr):
                self.expr(value, ctx)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        self.expr(item, ctx)
                    elif isinstance(item, ast.AST) and field_name in ("handlers", "items", "cases"):
                        self._nested(item, ctx)

    def _nested(self, node: ast.AST, ctx: _Context) -> None:
        """except handlers, with items, match cases."""
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self.body(value, ctx)
            elif isinstance(value, ast.expr):
                self.expr(value, ctx)

    def condition(self, test: ast.expr, ctx: _Context) -> None:
        """`if x` → `if not x`, where no operator mutant already flips the outcome."""
        if isinstance(test, ast.Compare | ast.BoolOp) or (
            isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        ):
            return
        self.expr_variant(ctx, "negate", test, ast.UnaryOp(op=ast.Not(), operand=test))

    # expressions

    def expr(self, node: ast.expr, ctx: _Context) -> None:
        if isinstance(node, ast.JoinedStr):
            if not ctx.message:
                self.add(ctx, "fstring", node, _xx_fstring(self.source.segment(node)))
            return  # expressions inside f-strings: positions unreliable on 3.11, rarely logic
        if isinstance(node, ast.Constant):
            self.constant(node, ctx)
            return
        if isinstance(node, ast.Subscript) and _subscript_name(node) == "Literal":
            return
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                swap = _CMP_SWAP.get(type(op))
                if swap is not None:
                    ops = list(node.ops)
                    ops[index] = swap()
                    self.expr_variant(ctx, "compare", node, ast.Compare(node.left, ops, node.comparators))
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.expr_variant(ctx, "boolop", node, ast.BoolOp(op=other, values=node.values))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.expr_variant(ctx, "drop-not", node, node.operand)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            self.expr_variant(ctx, "drop-minus", node, node.operand)
        elif isinstance(node, ast.BinOp):
            swap_op = _BIN_SWAP.get(type(node.op))
            if swap_op is not None:
                self.expr_variant(ctx, "binop", node, ast.BinOp(node.left, swap_op(), node.right))
        elif isinstance(node, ast.IfExp):
            self.condition(node.test, ctx)
        elif isinstance(node, ast.Call):
            for index, keyword in enumerate(node.keywords):
                if keyword.arg is None:
                    continue
                kept = [k for i, k in enumerate(node.keywords) if i != index]
                call = ast.Call(func=node.func, args=node.args, keywords=kept)
                self.add(ctx, "drop-kwarg", node, "(" + ast.unparse(call) + ")")
            if _is_message_call(node):
                ctx = dataclasses.replace(ctx, message=True)
        elif isinstance(node, ast.Lambda):
            for default in node.args.defaults:
                self.expr(default, ctx)
            self.expr(node.body, ctx)
            return
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for generator in node.generators:
                for test in generator.ifs:
                    self.condition(test, ctx)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, ctx)
            elif isinstance(child, ast.keyword | ast.comprehension):
                for grandchild in ast.iter_child_nodes(child):
                    if isinstance(grandchild, ast.expr):
                        self.expr(grandchild, ctx)

    def constant(self, node: ast.Constant, ctx: _Context) -> None:
        value = node.value
        if isinstance(value, bool):
            self.add(ctx, "bool", node, repr(not value))
        elif isinstance(value, int):
            self.add(ctx, "number", node, repr(value + 1))
        elif isinstance(value, float):
            self.add(ctx, "number", node, repr(value + 1.0))
        elif isinstance(value, str) and not ctx.message:
            self.add(ctx, "string", node, repr("XX" + value + "XX"))


def _qualify(ctx: _Context, name: str) -> str:
    return name if ctx.scope == "<module>" else f"{ctx.scope}.{name}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _subscript_name(node: ast.Subscript) -> str:
    value = node.value
    if isinstance(value, ast.Attribute):
        return value.attr
    return value.id if isinstance(value, ast.Name) else ""


def _xx_fstring(segment: str) -> str:
    """`f"…"` → `f"XX…XX"`, keeping the prefix and quotes (implicitly joined parts: the first and last)."""
    head = re.match(r"[rRfFbBuU]*('''|\"\"\"|'|\")", segment)
    assert head is not None, segment
    quote = head.group(1)
    return segment[: head.end()] + "XX" + segment[head.end() : len(segment) - len(quote)] + "XX" + quote


def mutants_of(path: str, root: Path = ROOT) -> list[Mutant]:
    text = (root / path).read_text()
    generator = _Generator(path, text)
    generator.body(ast.parse(text).body, _Context())
    return generator.mutants


# --- the baseline: which test runs which lines -------------------------------------------------


class _Tracer:
    """Per test, the lines of the target files it executes (a pytest plugin, see `pytest_configure`)."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = targets  # absolute file name -> relative path
        self.lines: dict[str, set[int]] = defaultdict(set)

    def global_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename in self.targets:
            return self.local_trace
        return None

    def local_trace(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines[self.targets[frame.f_code.co_filename]].add(frame.f_lineno)
        return self.local_trace


class BaselinePlugin:
    def __init__(self, targets: list[str], out: Path) -> None:
        self.tracer = _Tracer({str(ROOT / t): t for t in targets})
        self.out = out
        self.tests: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Iterator[None]:
        self.tracer.lines = defaultdict(set)
        started = time.perf_counter()
        sys.settrace(self.tracer.global_trace)
        threading.settrace(self.tracer.global_trace)
        try:
            yield
        finally:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]
        self.tests[item.nodeid] = {
            "seconds": round(time.perf_counter() - started, 4),
            "lines": {path: sorted(lines) for path, lines in self.tracer.lines.items()},
            "passed": self.tests.get(item.nodeid, {}).get("passed", True),
        }

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.tests.setdefault(report.nodeid, {})["passed"] = False

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        # third-party modules the tests imported: the workers import them once, before forking
        checkout = str(Path.cwd().resolve())
        preload = sorted(
            name
            for name, module in list(sys.modules.items())
            if getattr(module, "__file__", None)
            and not str(Path(module.__file__).resolve()).startswith(checkout)  # type: ignore[arg-type]
            and name != "__main__"
        )
        self.out.write_text(
            json.dumps({"exitstatus": int(exitstatus), "tests": self.tests, "preload": preload})
        )


def pytest_configure(config: Any) -> None:
    """Active only for the baseline run (MUTATE_BASELINE names the output file)."""
    out = os.environ.get("MUTATE_BASELINE")
    if out:
        targets = json.loads(os.environ["MUTATE_TARGETS"])
        config.pluginmanager.register(BaselinePlugin(targets, Path(out)), "mutate-baseline")


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            relative.parts[0] in (".git", ".venv", ".cache", ".venv-runtime")
            or "__pycache__" in relative.parts
        ):
            continue
        if relative == Path("tools/mutate.py"):
            continue  # this tool: no test runs it
        if path.is_file() and path.suffix in (".py", ".yaml", ".json", ".md", ".toml"):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def baseline(copy: Path, env: dict[str, str], refresh: bool) -> dict[str, Any]:
    # every target, so that one baseline serves any selection of modules
    key = hashlib.sha256((_fingerprint(ROOT) + ",".join(TARGETS)).encode()).hexdigest()[:16]
    cached = CACHE / f"baseline-{key}.json"
    if cached.is_file() and not refresh:
        print(f"== baseline: cached {cached.relative_to(ROOT)}", flush=True)
        return dict(json.loads(cached.read_text()))
    print("== baseline: the whole suite once, tracing which test runs which lines", flush=True)
    started = time.perf_counter()
    out = copy / ".mutate-baseline.json"
    run_env = {**env, "MUTATE_BASELINE": str(out), "MUTATE_TARGETS": json.dumps(list(TARGETS))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tools.mutate"]
    result = subprocess.run(command, cwd=copy, env=run_env, capture_output=True, text=True, check=False)
    data: dict[str, Any] = {"exitstatus": result.returncode, "tests": {}}
    if out.is_file():
        data = json.loads(out.read_text())
    failed = sorted(t for t, d in data["tests"].items() if not d.get("passed", True))
    if result.returncode != 0 or failed:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise SystemExit(f"baseline failed (status {result.returncode}; failing: {failed}):\n{tail}")
    print(f"   {len(data['tests'])} tests in {time.perf_counter() - started:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(data))
    return dict(data)


# --- running mutants ---------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    mutant: Mutant
    outcome: str  # killed | timeout | survived | not covered
    tests_run: int
    seconds: float
    killer: str = ""


class Selection:
    """Which tests to run for a mutant, from the baseline."""

    def __init__(self, data: dict[str, Any]) -> None:
        tests = {t: d for t, d in data["tests"].items() if t.split("::")[0] not in IMPORT_ONLY_TESTS}
        self.seconds = {t: d["seconds"] for t, d in tests.items()}
        self.position = {t: i for i, t in enumerate(tests)}  # the order the suite ran them
        self.lines: dict[str, dict[str, set[int]]] = defaultdict(dict)  # path -> test -> lines
        for test, d in tests.items():
            for path, lines in d["lines"].items():
                self.lines[path][test] = set(lines)
        self.file_tests: dict[str, list[str]] = defaultdict(list)
        for test in self.seconds:
            self.file_tests[test.split("::")[0]].append(test)

    def covering(self, mutant: Mutant) -> set[str]:
        covering = self.lines.get(mutant.path, {})
        span = set(range(mutant.line, mutant.end_line + 1))
        tests = {t for t, lines in covering.items() if lines & span}
        if mutant.in_function and tests:
            return tests
        # Module constants and class bodies, and functions that run only at import (building a
        # module constant, outside any test's trace): every test that uses the module, and every
        # test of a file that imports it (a dataclass's defaults run in its generated __init__,
        # which is no line of the module).
        return set(covering) | self.importing(mutant.path)

    def importing(self, path: str) -> set[str]:
        dotted = path.removesuffix(".py").replace("/", ".")
        package, _, name = dotted.rpartition(".")
        imports = re.compile(rf"\b{re.escape(dotted)}\b|from {re.escape(package)} import .*\b{name}\b")
        found = set()
        for file, tests in self.file_tests.items():
            source = ROOT / file
            if source.is_file() and imports.search(source.read_text()):
                found.update(tests)
        return found

    def stages(self, mutant: Mutant, budget: float) -> list[list[str]]:
        """Every test of the module's own test files that cover it; then the other covering tests,
        whole files, the cheapest first, up to `budget` seconds of baseline time (0: all of them)."""
        covering = self.covering(mutant)
        # The module's own tests: those of its directory's mirror (tests/builders/, tests/components/;
        # tests/*.py for platforms.py) and tests/**/test_<module>*.py (singular too: builders/alerts.py
        # has test_alert_scenarios.py).
        stem = Path(mutant.path).stem.removesuffix("s")
        pattern = re.compile(rf"tests/(\w+/)?test_{stem}s?(_\w+)?\.py")
        mirror = str(Path("tests") / Path(mutant.path).parent)
        also = ALSO_OWN.get(mutant.path, ())

        def is_own(file: str) -> bool:
            return bool(pattern.fullmatch(file)) or str(Path(file).parent) == mirror or file in also

        # Whole files: a test that uses a value computed (and cached) by an earlier test of its file
        # executes none of the mutated lines itself.
        # The tests against real artefacts always: they reach the module through values the test
        # session computes once (the program's run, the chart's render), so the baseline's trace
        # credits those lines to whichever test came first.
        own_files = {t.split("::")[0] for t in covering if is_own(t.split("::")[0])}
        own_files |= {file for file in also if file in self.file_tests}
        own = {t for file in own_files for t in self.file_tests[file]}
        others = self.ordered(covering - own)
        if budget:
            cheap: list[str] = []
            spent = 0.0
            for _file, tests in itertools.groupby(others, key=lambda t: t.split("::")[0]):
                chunk = list(tests)
                spent += sum(self.seconds[t] for t in chunk)
                if cheap and spent > budget:
                    break
                cheap += chunk
            others = cheap
        return [stage for stage in (self.ordered(own), others) if stage]

    def ordered(self, tests: set[str]) -> list[str]:
        """Grouped by file (module-scoped fixtures, such as a chart render, are set up once), the files
        with the least to run first, and within a file the baseline's order."""
        by_file: dict[str, list[str]] = defaultdict(list)
        for test in sorted(tests, key=self.position.__getitem__):
            by_file[test.split("::")[0]].append(test)
        files = sorted(by_file, key=lambda f: (sum(self.seconds[t] for t in by_file[f]), f))
        return [test for f in files for test in by_file[f]]

    def budget(self, tests: list[str]) -> float:
        return 5 * sum(self.seconds[t] for t in tests) + 60


class Worker:
    """A process that has imported every third-party module the tests use, and forks per mutant.

    Each mutant's tests run in a fresh fork (`pytest.main`), so the program's own modules, imported
    only in the fork, are the mutated ones, and the provider SDKs' imports (seconds) are paid once.
    """

    def __init__(self, copy: Path, env: dict[str, str], preload: list[str]) -> None:
        self.copy = copy
        self.env = env
        command = [sys.executable, "-m", "tools.mutate", "--serve"]
        self.process = subprocess.Popen(
            command, cwd=copy, env={**env, "MUTATE_PRELOAD": json.dumps(preload)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

    def run(self, tests: list[str], timeout: float) -> tuple[str, str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"tests": tests, "timeout": timeout}) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"worker in {self.copy} stopped")
        reply = json.loads(answer)
        if reply["suspect"]:
            # CPython 3.11's "AST constructor recursion depth mismatch" SystemError (python/cpython
            # gh-106905) shows up in a fork after many tests; a plain process decides instead.
            return _plain_pytest(self.copy, tests, timeout, self.env)
        return reply["outcome"], reply["killer"]

    def close(self) -> None:
        """Stop the worker and whatever fork it is running (its own process group)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.terminate()  # serve() stops its running fork first
            self.process.wait()


# What a worker imports before forking: the Python SDKs whose imports cost seconds. Not
# helm_python: it loads a Go library whose runtime threads do not survive a fork (forked tests that
# render the chart hang). Not pulumi_eks, pulumiverse_grafana or pulumi_kubernetes.apiextensions:
# with them imported before the fork, a mocked program test (tests/test_deferred_outputs.py) hangs
# in the fork (found by bisecting the module list). Not pulumi_aws: its lazily loaded subpackages,
# imported one module at a time, lose attributes (`pulumi_aws.eks.AccessPolicyAssociation`). The
# control run (the whole suite, unmutated, through a worker) proves the list harmless.
PRELOAD = re.compile(
    r"^(pulumi(\.|$)|pulumi_kubernetes(?!\.apiextensions)|pytest|_pytest|pluggy|grpc|google|"
    r"kubernetes|promql_parser|jsonschema|yaml)"
)


def serve() -> None:
    """The worker's loop: one JSON request per line on stdin, one JSON answer per line on stdout."""
    for name in json.loads(os.environ.get("MUTATE_PRELOAD", "[]")):
        if not PRELOAD.match(name):
            continue
        try:
            __import__(name)
        except Exception:  # a module that imports only in a test's context: left to the fork
            continue
    copy = Path.cwd()

    def stop(*_: object) -> None:
        if _RUNNING:
            os.killpg(_RUNNING[0], signal.SIGKILL)
        os._exit(143)

    signal.signal(signal.SIGTERM, stop)
    for line in sys.stdin:
        request = json.loads(line)
        outcome, killer = _forked_pytest(copy, request["tests"], request["timeout"])
        log = (copy / ".mutate-log").read_text(errors="replace")
        suspect = outcome == "killed" and "SystemError: " in log
        print(json.dumps({"outcome": outcome, "killer": killer, "suspect": suspect}), flush=True)


# Tests that only read the import statements of the sources (no mutant touches an import): not run
# for mutants. After many other tests in one process, in a copy without bytecode caches, their
# `ast.parse` can fail with CPython 3.11's "AST constructor recursion depth mismatch" SystemError
# (python/cpython gh-106905), which would count as a kill.
IMPORT_ONLY_TESTS = {"tests/tools/verify/test_runtime.py", "tests/test_runtime_imports.py"}
_RUNNING: list[int] = []  # the fork serve() waits for, if any


def _forked_pytest(copy: Path, tests: list[str], timeout: float) -> tuple[str, str]:
    args = copy / ".mutate-args"
    log = copy / ".mutate-log"
    args.write_text("\n".join(tests) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the fork: its own process group (killed whole on timeout), output to the log
        status = 3
        try:
            os.setpgid(0, 0)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.path.insert(0, str(copy))
            status = pytest.main(
                ["-x", "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", f"@{args}"]
            )
            sys.stdout.flush()
        finally:
            os._exit(int(status))
    _RUNNING[:] = [pid]
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            _RUNNING.clear()
            return "timeout", ""
        time.sleep(0.02)
    _RUNNING.clear()
    return _outcome(os.waitstatus_to_exitcode(status), log.read_text(errors="replace"), tests)


def _plain_pytest(copy: Path, tests: list[str], timeout: float, env: dict[str, str]) -> tuple[str, str]:
    """The tests in a new interpreter (no fork)."""
    args = copy / ".mutate-args"
    args.write_text("\n".join(tests) + "\n")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    try:
        result = subprocess.run(
            [*command, f"@{args}"], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return _outcome(result.returncode, result.stdout + result.stderr, tests)


def _outcome(code: int, output: str, tests: list[str]) -> tuple[str, str]:
    if code == 0:
        return "survived", ""
    if code == 5:
        raise RuntimeError(f"no tests collected from {tests[:3]}…:\n{output[-2000:]}")
    failed = re.search(r"^(FAILED|ERROR) (\S+)", output, re.MULTILINE)
    return "killed", failed.group(2) if failed else f"exit status {code}"


def run_mutant(mutant: Mutant, worker: Worker, selection: Selection, budget: float) -> Result:
    started = time.perf_counter()
    target = worker.copy / mutant.path
    original = target.read_text()
    try:
        target.write_text(mutant.source)
        ran = 0
        for tests in selection.stages(mutant, budget):
            outcome, killer = worker.run(tests, selection.budget(tests))
            if killer == f"exit status {pytest.ExitCode.USAGE_ERROR}":
                # A selected test id the mutant's collection lacks: its parametrisation reads the
                # mutated value. Not a kill: the files of those tests run whole instead.
                files = sorted({test.split("::")[0] for test in tests})
                outcome, killer = worker.run(files, 3 * selection.budget(tests))
            ran += len(tests)
            if outcome != "survived":
                return Result(mutant, outcome, ran, time.perf_counter() - started, killer)
        return Result(mutant, "survived" if ran else "not covered", ran, time.perf_counter() - started)
    finally:
        target.write_text(original)


def make_copies(count: int) -> tuple[Path, list[Path]]:
    base = Path(tempfile.mkdtemp(prefix="mutate-"))
    shared = ROOT.parent / "shared"
    if shared.exists():
        (base / "shared").symlink_to(shared)
    copies = []
    for index in range(count):
        copy = base / f"checkout-{index}"
        shutil.copytree(ROOT, copy, ignore=_COPY_IGNORE, symlinks=True)
        if (ROOT / ".cache").exists():
            (copy / ".cache").symlink_to(ROOT / ".cache")
        copies.append(copy)
    return base, copies


def child_env() -> dict[str, str]:
    from tools import prometheus_bin

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for name, path in prometheus_bin.ensure().items():
        env[prometheus_bin.BINARIES[name]] = str(path)
    return env


# --- the README's list of harmless survivors ----------------------------------------------------


def documented_survivors(readme: Path = README) -> set[str]:
    """Every mutant id (`<file>:<function>#<kind><n>`, in backticks) in the README's "Mutation testing"
    section: the survivors it explains."""
    text = readme.read_text()
    section = re.search(r"^### Mutation testing\n(.*?)(?=^#{1,3} )", text, re.MULTILINE | re.DOTALL)
    if not section:
        return set()
    return set(re.findall(r"`([\w/.]+\.py:[^`\s]+#[a-z-]+\d+)`", section.group(1)))


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="files relative to the checkout (default: TARGETS)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run in parallel (default 2)")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--json", type=Path, help="write every result here (JSON lines, as they finish)")
    parser.add_argument("--refresh", action="store_true", help="redo the baseline even if cached")
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="baseline seconds of covering tests from other test files per mutant; 0: all (default 20)",
    )
    parser.add_argument("--only", nargs="+", default=[], help="run only these mutant ids")
    parser.add_argument("--no-control", action="store_true", help="skip the unmutated run through a worker")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # a Worker's process
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"not in TARGETS: {unknown}")
    mutants = [m for module in modules for m in mutants_of(module)]
    not_run: set[str] = set()
    if args.only:
        not_run = {m.id for m in mutants if m.id not in args.only}
        mutants = [m for m in mutants if m.id in args.only]
        modules = [m for m in modules if any(mutant.path == m for mutant in mutants)]
    if args.list:
        for mutant in mutants:
            print(mutant.describe())
        print(f"{len(mutants)} mutants")
        return 0

    started = time.perf_counter()
    env = child_env()
    base, copies = make_copies(max(1, args.jobs))
    workers: list[Worker] = []
    try:
        data = baseline(copies[0], env, args.refresh)
        selection = Selection(data)
        print(f"== {len(mutants)} mutants in {len(modules)} modules, {len(copies)} at a time", flush=True)
        free: queue.Queue[Worker] = queue.Queue()
        workers += [Worker(copy, env, data.get("preload", [])) for copy in copies]
        for worker in workers:
            free.put(worker)
        if not args.no_control:
            control_started = time.perf_counter()
            everything = selection.ordered(set(selection.seconds))
            control = workers[0].run(everything, 2 * selection.budget(everything))
            if control[0] != "survived":
                log = (workers[0].copy / ".mutate-log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"control run (no mutant) failed in a worker: {control}\n{log}")
            took = time.perf_counter() - control_started
            print(f"== control: the whole suite passes in a worker ({took:.0f} s)", flush=True)

        def work(mutant: Mutant) -> Result:
            worker = free.get()
            try:
                return run_mutant(mutant, worker, selection, args.budget)
            finally:
                free.put(worker)

        results: list[Result] = []
        lines = args.json.open("w") if args.json else None
        with concurrent.futures.ThreadPoolExecutor(len(copies)) as pool:
            for result in pool.map(work, mutants):
                results.append(result)
                if lines:  # one JSON object per line, as they finish: a stopped run keeps what it did
                    record = {**dataclasses.asdict(result.mutant), "source": None}
                    record |= {"outcome": result.outcome, "killer": result.killer}
                    record |= {"tests_run": result.tests_run, "seconds": round(result.seconds, 2)}
                    lines.write(json.dumps(record) + "\n")
                    lines.flush()
                if result.outcome in ("survived", "not covered"):
                    print(f"   {result.outcome}: {result.mutant.describe()}", flush=True)
    finally:
        for worker in workers:
            worker.close()
        shutil.rmtree(base, ignore_errors=True)
    return report(results, modules, time.perf_counter() - started, not_run)


def documentation_gaps(
    survivors: set[str], documented: set[str], modules: list[str], not_run: set[str]
) -> tuple[list[str], list[str]]:
    """Survivors the README does not list, and listed mutants of `modules` that no longer survive
    (killed now, or gone: a changed line renumbers its function's mutants). A listed mutant that
    `--only` left out (`not_run`) is neither: this run says nothing about it."""
    in_scope = {k for k in documented if k.split(":")[0] in modules and k not in not_run}
    return sorted(survivors - documented), sorted(in_scope - survivors)


def report(results: list[Result], modules: list[str], seconds: float, not_run: set[str]) -> int:
    """The table, the score, and the survivors the README does not list or lists wrongly.

    `not_run`: mutants of `modules` left out by `--only`; whether they survive is not known here.
    """
    by_module: dict[str, Counter[str]] = {m: Counter() for m in modules}
    for result in results:
        by_module[result.mutant.path][result.outcome] += 1
    print("\n| module | mutants | killed | survived |\n|---|---:|---:|---:|")
    total: Counter[str] = Counter()
    for module, counts in by_module.items():
        killed = counts["killed"] + counts["timeout"]
        survived = counts["survived"] + counts["not covered"]
        total.update(counts)
        print(f"| `{module}` | {killed + survived} | {killed} | {survived} |")
    killed = total["killed"] + total["timeout"]
    print(f"| all | {len(results)} | {killed} | {len(results) - killed} |")
    print(f"\n{len(results)} mutants, {killed} killed ({total['timeout']} by timeout), "
          f"score {killed / max(1, len(results)):.1%}, in {seconds:.0f} s")  # fmt: skip
    survivors = {r.mutant.id: r for r in results if r.outcome in ("survived", "not covered")}
    new, stale = documentation_gaps(set(survivors), documented_survivors(), modules, not_run)
    for mutant_id in new:
        print(f"NOT DOCUMENTED: {survivors[mutant_id].mutant.describe()}")
    for mutant_id in stale:
        print(f"DOCUMENTED BUT NOT A SURVIVOR (remove from the README): {mutant_id}")
    return 1 if new or stale else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the copies when stopped
    sys.exit(main())
