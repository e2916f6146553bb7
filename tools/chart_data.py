"""Extract the k8s-monitoring chart's published data (the layout tools/chart_check.py reads).

    python -m tools.chart_data k8s-monitoring-4.4.0.tgz --out DIR     # or a chart directory

From a chart (`helm pull` .tgz, or its unpacked directory) writes only what the checks need:

    DIR/Chart.yaml, DIR/values.yaml, DIR/values.schema.json
    DIR/subcharts/<dependency>/values.yaml, values.schema.json   (each local dependency with a
                                                                   schema: directory or nested .tgz)
    DIR/allowLists/*.yaml   (charts/feature-cluster-metrics/default-allow-lists)

Point `K8S_MONITORING_DATA` at DIR. Reads tar members without extracting the archive. The chart is
not part of this repository: DIR must be outside the work tree (CI uses $RUNNER_TEMP).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CHART_ENV = "K8S_MONITORING_CHART"
# The packaged chart beside the checkout (see ../shared/k8s-monitoring/README.md); never committed.
DEFAULT_CHART = REPO_ROOT.parent / "shared" / "k8s-monitoring" / "k8s-monitoring-4.4.0.tgz"
ROOT_FILES = ("Chart.yaml", "values.yaml", "values.schema.json")
SUBCHART_FILES = ("values.yaml", "values.schema.json")
ALLOW_LISTS = "charts/feature-cluster-metrics/default-allow-lists"
# The `alloy` integration's default list lives in another subchart.
ALLOY_ALLOW_LIST = "charts/feature-integrations/default-allow-lists/alloy.yaml"


class ChartError(Exception):
    """The input is not a chart with the expected files."""


class _Chart:
    """Files of one chart by path relative to its root, from a directory or a tar archive."""

    def __init__(self, files: dict[str, bytes | Path]) -> None:
        self._files = files

    @classmethod
    def open(cls, source: Path) -> _Chart:
        if source.is_dir():
            root = source if (source / "Chart.yaml").is_file() else _only_chart_dir(source)
            return cls({p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()})
        with tarfile.open(source, "r:*") as archive:
            return cls._from_tar(archive, str(source))

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> _Chart:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            return cls._from_tar(archive, name)

    @classmethod
    def _from_tar(cls, archive: tarfile.TarFile, name: str) -> _Chart:
        members = [m for m in archive.getmembers() if m.isfile()]
        charts = [PurePosixPath(m.name) for m in members if PurePosixPath(m.name).name == "Chart.yaml"]
        tops = sorted((p for p in charts if len(p.parts) == 2), key=str)
        if not tops:
            raise ChartError(f"{name}: no <chart>/Chart.yaml at the top of the archive")
        prefix = str(tops[0].parent) + "/"
        files: dict[str, bytes | Path] = {}
        for member in members:
            if member.name.startswith(prefix) and ".." not in PurePosixPath(member.name).parts:
                extracted = archive.extractfile(member)
                if extracted is not None:
                    files[member.name[len(prefix) :]] = extracted.read()
        return cls(files)

    def read(self, path: str) -> bytes | None:
        found = self._files.get(path)
        return found.read_bytes() if isinstance(found, Path) else found

    def require(self, path: str) -> bytes:
        data = self.read(path)
        if data is None:
            raise ChartError(f"the chart has no {path}")
        return data

    def under(self, directory: str) -> Iterator[tuple[str, bytes]]:
        prefix = directory.rstrip("/") + "/"
        for path in sorted(self._files):
            if path.startswith(prefix) and "/" not in path[len(prefix) :]:
                yield path[len(prefix) :], self.require(path)

    def subchart(self, name: str, version: str | None) -> _Chart | None:
        """A dependency under charts/: as a directory, or packaged as charts/<name>-<version>.tgz."""
        prefix = f"charts/{name}/"
        files = {p[len(prefix) :]: f for p, f in self._files.items() if p.startswith(prefix)}
        if files:
            return _Chart(files)
        packaged = self.read(f"charts/{name}-{version}.tgz") if version else None
        return _Chart.from_bytes(packaged, f"{name}-{version}.tgz") if packaged else None


def chart_location() -> tuple[Path, bool]:
    """(the chart to render with, whether it was asked for explicitly with K8S_MONITORING_CHART)."""
    configured = os.environ.get(CHART_ENV)
    return (Path(configured), True) if configured else (DEFAULT_CHART, False)


def chart_file(source: Path, path: str) -> bytes | None:
    """One file of a chart (.tgz or directory) by its path inside the chart, e.g.
    `charts/feature-integrations/default-allow-lists/alloy.yaml`."""
    return _Chart.open(source).read(path)


def allow_lists(source: Path) -> dict[str, tuple[str, ...]]:
    """The chart's default allow lists by name: `allowLists/<name>.yaml` of the data, and `alloy`."""
    chart = _Chart.open(source)
    raw = {
        name.removesuffix(".yaml"): data for name, data in chart.under(ALLOW_LISTS) if name.endswith(".yaml")
    }
    raw["alloy"] = chart.require(ALLOY_ALLOW_LIST)
    lists = {}
    for name, data in raw.items():
        entries = yaml.safe_load(data)
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise ChartError(f"{source}: allow list {name} is not a list of names")
        lists[name] = tuple(entries)
    return lists


def _only_chart_dir(directory: Path) -> Path:
    found = [p.parent for p in directory.glob("*/Chart.yaml")]
    if len(found) != 1:
        raise ChartError(f"{directory}: expected one chart directory, found {len(found)}")
    return found[0]


def _inside_repo(path: Path) -> bool:
    return path.resolve().is_relative_to(REPO_ROOT)


def extract(source: Path, out: Path, expect_version: str | None = None) -> list[str]:
    """Write the chart data of `source` to `out`; returns the files written (relative to `out`)."""
    chart = _Chart.open(source)
    meta = yaml.safe_load(chart.require("Chart.yaml")) or {}
    if expect_version and str(meta.get("version")) != expect_version:
        raise ChartError(f"{source}: chart version {meta.get('version')}, expected {expect_version}")
    written: dict[str, bytes] = {name: chart.require(name) for name in ROOT_FILES}
    for dependency in meta.get("dependencies") or []:
        if str(dependency.get("repository") or "").split("://")[0] not in ("", "file"):
            continue  # a remote chart (alloy-operator): not part of the data, as in ../shared
        sub = chart.subchart(dependency["name"], dependency.get("version"))
        if sub is None or sub.read("values.schema.json") is None:
            continue
        for name in SUBCHART_FILES:
            written[f"subcharts/{dependency['name']}/{name}"] = sub.require(name)
    for name, data in chart.under(ALLOW_LISTS):
        if name.endswith(".yaml"):
            written[f"allowLists/{name}"] = data
    for relative, data in written.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.chart_data", description=__doc__.split("\n")[0])
    parser.add_argument("chart", type=Path, help="chart .tgz (helm pull) or chart directory")
    parser.add_argument("--out", required=True, type=Path, help="directory to write (outside the repository)")
    parser.add_argument("--expect-version", help="fail unless Chart.yaml has this version")
    args = parser.parse_args(argv)
    if _inside_repo(args.out):
        print(f"error: {args.out} is inside the repository; chart content is not committed", file=sys.stderr)
        return 2
    try:
        files = extract(args.chart, args.out, args.expect_version)
    except (ChartError, OSError, tarfile.TarError, yaml.YAMLError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(files)} files -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
