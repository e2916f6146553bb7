"""The command line of tools.verify: read the stack, run the checks (retrying with --wait), report.

    python -m tools.verify --stack local [--wait 10m]
    python -m tools.verify --stack eks --outputs outputs.json

Exit status: 0 when every check passed or was skipped, 1 when any failed, 2 when the stack cannot be
read (settings, outputs, arguments). Results go to stdout, one line per check; progress while
waiting goes to stderr. Every line passes through the Redactor: no credential is ever printed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from clients import kube
from clients.redact import Redactor
from tools.program import ROOT
from tools.verify.backends import LokiApi, PrometheusApi, TempoApi
from tools.verify.checks import CHECKS, FREE_TIER_SERIES, Check, Env, Result
from tools.verify.target import Target, TargetError, load_config, target

DEFAULT_INTERVAL = "20s"
DEFAULT_WINDOW = "15m"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def duration(text: str) -> int:
    """Seconds of `90`, `90s`, `10m`, `1h30m`."""
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 10m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.verify",
        description="Check that the stack's metrics, logs and traces arrive (README: Verify).",
    )
    parser.add_argument(
        "--stack", required=True, help="stack name as `pulumi` knows it (local, eks, org/eks)"
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        help="the stack's outputs as `pulumi stack output --json --show-secrets` prints them",
    )
    parser.add_argument("--stack-file", type=Path, help="settings file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--kubeconfig", type=Path, help="kubeconfig (default: eks output / $KUBECONFIG)")
    parser.add_argument("--kube-context", help="kube context (default: kubeContext of the stack / current)")
    parser.add_argument("--wait", type=duration, default=0, help="retry failing checks this long, e.g. 10m")
    parser.add_argument("--interval", type=duration, default=duration(DEFAULT_INTERVAL), help="between tries")
    parser.add_argument(
        "--window", type=duration, default=duration(DEFAULT_WINDOW), help="how recent data must be (15m)"
    )
    parser.add_argument(
        "--series-limit",
        type=int,
        default=FREE_TIER_SERIES,
        help="this cluster's series budget (free tier: 10000)",
    )
    return parser


class Console:
    """stdout for results, stderr for progress and errors; both redacted."""

    def __init__(self, redactor: Redactor, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.redact = redactor
        self._out = out or sys.stdout
        self._err = err or sys.stderr

    def result(self, line: str) -> None:
        print(self.redact(line), file=self._out, flush=True)

    def progress(self, line: str) -> None:
        print(self.redact(line), file=self._err, flush=True)


def stack_outputs(stack: str, path: Path | None) -> dict[str, Any]:
    """The outputs, secrets in plain text: from `path`, or from the Pulumi CLI (never printed)."""
    if path is not None:
        try:
            text = path.read_text()
        except OSError as err:
            raise TargetError(f"--outputs {path}: {err.strerror}") from None
        source = str(path)
    else:
        command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack]
        try:
            run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        except FileNotFoundError:
            raise TargetError("the Pulumi CLI is not on PATH: install it, or pass --outputs FILE") from None
        if run.returncode != 0:
            raise TargetError(f"`{' '.join(command)}` failed: {' '.join(run.stderr.split())[-600:]}")
        text, source = run.stdout, "`pulumi stack output`"
    try:
        outputs = json.loads(text)
    except ValueError:
        raise TargetError(f"{source} is not the JSON of `pulumi stack output --json`") from None
    if not isinstance(outputs, dict):
        raise TargetError(f"{source} is not a JSON object of outputs")
    return outputs


def _kube_client(
    args: argparse.Namespace, tgt: Target, outputs: Mapping[str, Any], redactor: Redactor
) -> kube.KubeClient | kube.KubeError:
    """The cluster's API client, or the KubeError that says why there is none."""
    try:
        if args.kubeconfig is not None:
            document = kube.load_kubeconfig([args.kubeconfig])
        elif tgt.platform == "eks":
            if not outputs.get("kubeconfig"):
                raise kube.KubeError("the eks stack has no `kubeconfig` output; pass --kubeconfig")
            document = kube.parse_kubeconfig(outputs["kubeconfig"])
        else:
            document = kube.load_kubeconfig(kube.default_kubeconfig_paths())
        context = args.kube_context or (tgt.kube_context if tgt.platform == "local" else None)
        return kube.client_for(document, context, redactor)
    except kube.KubeError as err:
        return err


def run_checks(
    env: Env,
    checks: Sequence[Check],
    wait_seconds: int,
    interval_seconds: int,
    console: Console,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Result]:
    """Run every check; with a wait, retry the failing ones until they pass or time runs out."""
    started = clock()
    results: dict[str, Result] = {}
    pending = list(checks)
    attempt = 0
    while True:
        attempt += 1
        for check in pending:
            results[check.id] = _run_one(check, env)
        pending = [c for c in pending if results[c.id].status == "FAIL"]
        left = wait_seconds - (clock() - started)
        if not pending or left <= 0:
            break
        pause = min(interval_seconds, left)
        console.progress(
            f"waiting ({_clock(clock() - started)} of {_clock(wait_seconds)}, try {attempt}): "
            f"{len(pending)} check(s) not passing yet: "
            + "; ".join(f"{c.id}: {results[c.id].summary[:100]}" for c in pending)
            + f" — next try in {int(pause)}s"
        )
        sleep(pause)
    return [results[c.id] for c in checks]


def _run_one(check: Check, env: Env) -> Result:
    try:
        return check.run(env)
    except Exception as err:  # a check must never take the others down; the error is the result
        return Result(
            check.id, "FAIL", f"{type(err).__name__}: {err}", "", "this error (a bug or an odd answer)"
        )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def result_line(result: Result, check: Check, tgt: Target) -> str:
    line = f"{result.status} {check.letter} {result.check}: {result.summary}"
    if result.query:
        line += f" | ran: {result.query}"
    if result.status == "FAIL":
        line += f" | look at: {result.look_at}; runbook: {tgt.runbook('verify-' + result.check)}"
    return line


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    args = _parser().parse_args(argv)
    redactor = Redactor()
    console = Console(redactor, out, err)
    try:
        config = load_config(args.stack, args.stack_file)
        outputs = stack_outputs(args.stack, args.outputs)
        for secret in ("verifyToken", "kubeconfig"):
            value = outputs.get(secret)
            redactor.add(value if isinstance(value, str) else json.dumps(value) if value else None)
        tgt = target(args.stack, config, outputs)
        endpoints, token = outputs["verifyEndpoints"], str(outputs["verifyToken"])
        env = Env(
            target=tgt,
            prometheus=PrometheusApi(
                endpoints["prometheusUrl"], str(endpoints["prometheusUserId"]), token, redactor
            ),
            loki=LokiApi(endpoints["lokiUrl"], str(endpoints["lokiUserId"]), token, redactor),
            tempo=TempoApi(endpoints["tempoUrl"], str(endpoints["tempoUserId"]), token, redactor),
            kube=_kube_client(args, tgt, outputs, redactor),
            window_seconds=args.window,
            series_limit=args.series_limit,
        )
    except TargetError as error:
        console.progress(f"error: {error}")
        return 2
    except Exception as error:  # never a traceback: it could show a credential
        console.progress(f"error: {type(error).__name__}: {error}")
        return 2
    console.result(
        f"verify stack {args.stack}: cluster {tgt.cluster_name}, namespace {tgt.namespace}, "
        f"release {tgt.release}, data of the last {env.window}"
        + (f", waiting up to {_clock(args.wait)}" if args.wait else "")
    )
    results = run_checks(env, CHECKS, args.wait, args.interval, console, clock, sleep)
    for result, check in zip(results, CHECKS, strict=True):
        console.result(result_line(result, check, tgt))
    counts = {status: sum(r.status == status for r in results) for status in ("PASS", "FAIL", "SKIP")}
    console.result(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 1 if counts["FAIL"] else 0
