"""Name rules shared by the builders (one definition each)."""

from __future__ import annotations

import re

# RFC 1123 label: Kubernetes namespaces, Deployment, Service and container names.
# `\Z`, not `$`: `$` also matches before a final newline, so "name\n" would pass a `.match`.
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
