"""The pinned grafana.com dashboards as test data, for CI machines without ../shared/dashboards.

    python -m tools.pinned_dashboards --out DIR      # then PINNED_DASHBOARDS_DIR=DIR

Downloads each pin of builders/grafana_com.py by revision with the code `pulumi up` uses
(dynamic/grafana_com_dashboard.py: checked against the pinned content hash) and writes
DIR/<gnet id>-<title>.json, the layout tests/support.py `pinned_dashboard` reads. DIR must be outside
the work tree: the dashboards are never committed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from builders.grafana_com import PREBUILT_DASHBOARDS, DashboardIntegrityError
from dynamic.grafana_com_dashboard import GrafanaComDownloadError, Pin, fetch_model_json

REPO_ROOT = Path(__file__).resolve().parent.parent


def file_name(gnet_id: int, title: str) -> str:
    return f"{gnet_id}-{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.pinned_dashboards", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", required=True, type=Path, help="directory to write (outside the repository)")
    args = parser.parse_args(argv)
    if args.out.resolve().is_relative_to(REPO_ROOT):
        print(
            f"error: {args.out} is inside the repository; the dashboards are not committed", file=sys.stderr
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for pinned in PREBUILT_DASHBOARDS:
        try:
            model_json = fetch_model_json(Pin(pinned.gnet_id, pinned.revision, pinned.sha256))
        except (GrafanaComDownloadError, DashboardIntegrityError, OSError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        (args.out / file_name(pinned.gnet_id, pinned.title)).write_text(model_json)
        print(f"{pinned.describe()} -> {args.out / file_name(pinned.gnet_id, pinned.title)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
