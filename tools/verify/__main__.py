"""Entry point: `python -m tools.verify`."""

from __future__ import annotations

import sys

from tools.verify.cli import main

if __name__ == "__main__":
    sys.exit(main())
