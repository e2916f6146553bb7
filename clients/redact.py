"""`Redactor`: no credential a client meets reaches the output. Every line tools.verify prints, and the
cluster preflight's message, pass through it.

Two nets. The exact values: every credential the tool holds is registered before it is used (the
verification token, the basic-auth header built from it, kubeconfig tokens, passwords, client keys,
exec-plugin credentials). The shapes: anything that looks like a Grafana Cloud token (`glc_`),
service-account token (`glsa_`), EKS token (`k8s-aws-v1.`) or an Authorization header value, in
case a server echoes one the tool never saw (an HTTP error body, a log line).
"""

from __future__ import annotations

import base64
import re

REDACTED = "[redacted]"
_SHAPES = re.compile(
    r"glc_[A-Za-z0-9+/=_-]{8,}"
    r"|glsa_[A-Za-z0-9_]{8,}"
    r"|k8s-aws-v1\.[A-Za-z0-9_-]{8,}"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}"
    r"|(?<=Basic )[A-Za-z0-9+/=]{8,}",
    re.IGNORECASE,
)
_MIN_LENGTH = 4  # shorter values (a user id digit, "true") would blank out ordinary text


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: object) -> None:
        """Register a credential (and, for a multi-line one such as a PEM key, each of its lines)."""
        if not isinstance(value, str) or len(value.strip()) < _MIN_LENGTH:
            return
        self._values.add(value)
        self._values.add(value.strip())
        for line in value.splitlines():
            if len(line.strip()) >= 16 and not line.startswith("-----"):
                self._values.add(line.strip())

    def add_basic_auth(self, user: str, password: str) -> str:
        """Register a password and the header value built from it; returns that header value."""
        self.add(password)
        header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.add(header.removeprefix("Basic "))
        return header

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return _SHAPES.sub(REDACTED, text)
