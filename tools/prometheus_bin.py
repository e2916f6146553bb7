"""A real `promtool` and a real Prometheus server for the tests, from Debian's `prometheus` package.

    .venv/bin/python -m tools.prometheus_bin      # find or fetch them; prints PROMTOOL=… PROMETHEUS=…

The alert rules are proven with `promtool test rules`, and `tools.verify` is tested against a real
Prometheus on 127.0.0.1, so both binaries are part of the test environment, like a Python package.
Debian and Ubuntu ship them in the `prometheus` package; `apt-get download` + `dpkg-deb -x` unpack it
into `.cache/prometheus/` without installing it or starting a server (about 2 s). No exact version
is pinned: it is whatever the machine's distribution release offers (Debian 12: 2.42.0), and what the
tests use of it (`promtool test rules`, the HTTP query API, remote-write receiving) is stable across
2.x. The version found is printed.

Lookup order for each binary: `$PROMTOOL` / `$PROMETHEUS`, then `PATH`, then `.cache/prometheus`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "prometheus"
BINARIES = {"promtool": "PROMTOOL", "prometheus": "PROMETHEUS"}
HOW_TO = (
    "get it with `.venv/bin/python -m tools.prometheus_bin` (runs `apt-get download prometheus` and "
    "`dpkg-deb -x` into .cache/prometheus; on a machine without package lists run "
    "`sudo apt-get update` first), or point ${env} at the binary"
)


class MissingBinaryError(RuntimeError):
    pass


def find(name: str) -> Path | None:
    """The binary `name` (promtool or prometheus), or None."""
    configured = os.environ.get(BINARIES[name])
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    cached = CACHE / "usr" / "bin" / name
    return cached if cached.is_file() else None


def require(name: str) -> Path:
    """The binary, or an error that says how to get it (tests fail with it, they never skip)."""
    found = find(name)
    if found is None:
        env = BINARIES[name]
        where = f"${env}={os.environ[env]} is not a file" if os.environ.get(env) else f"{name} not found"
        raise MissingBinaryError(f"{where}: " + HOW_TO.replace("${env}", f"${env}"))
    return found


def _download(workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", "download", "prometheus"], cwd=workdir, capture_output=True, text=True, check=False
    )


def fetch() -> None:
    """Download Debian's prometheus package and unpack it into the cache (nothing is installed)."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise MissingBinaryError("apt-get and dpkg-deb are needed to fetch promtool: " + HOW_TO)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        result = _download(workdir)
        if result.returncode != 0 and os.geteuid() == 0:
            # A fresh machine has no package lists yet; as root, read them once and retry.
            print("apt-get download failed; running `apt-get update -qq` once", file=sys.stderr)
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            result = _download(workdir)
        if result.returncode != 0:
            raise MissingBinaryError(
                f"apt-get download prometheus failed: {result.stderr.strip()}; " + HOW_TO
            )
        package = next(workdir.glob("prometheus_*.deb"))
        if CACHE.exists():
            shutil.rmtree(CACHE)
        CACHE.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(package), str(CACHE)], check=True)


def ensure() -> dict[str, Path]:
    """Both binaries, fetched into the cache when neither env, PATH nor the cache has them."""
    if any(find(name) is None for name in BINARIES):
        fetch()
    return {name: require(name) for name in BINARIES}


def version(binary: Path) -> str:
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else "?"


def main() -> int:
    try:
        found = ensure()
    except MissingBinaryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for name, path in found.items():
        print(f"{BINARIES[name]}={path}")  # stdout: NAME=path lines, e.g. for $GITHUB_ENV
        print(f"{name}: {version(path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
