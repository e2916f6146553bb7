"""The one HTTP GET the clients use: the Kubernetes API (clients.kube) and tools.verify's Mimir, Loki and
Tempo (standard library: urllib and ssl)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

Params = Mapping[str, str | int | Sequence[str]] | None
TIMEOUT_SECONDS = 30.0
_BODY_EXCERPT = 300


class RequestError(Exception):
    """A request that did not succeed. The message names the URL (without query) and the reason;
    it may carry part of the server's body, so it is printed through the Redactor like all output."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def where(url: str) -> str:
    """The URL without its query string: what messages show."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def get(
    url: str,
    params: Params = None,
    headers: Mapping[str, str] | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> bytes:
    """GET `url` with `params` (a sequence value repeats the key); the body, or RequestError."""
    if params:
        url = f"{url}?{urllib.parse.urlencode(params, doseq=True)}"
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as err:
        excerpt = err.read(_BODY_EXCERPT * 4).decode("utf-8", "replace").strip().replace("\n", " ")
        if len(excerpt) > _BODY_EXCERPT:
            excerpt = excerpt[:_BODY_EXCERPT] + "…"
        raise RequestError(f"HTTP {err.code} from {where(url)}: {excerpt or err.reason}", err.code) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise RequestError(f"cannot reach {where(url)}: {reason}") from None


def get_json(
    url: str,
    params: Params = None,
    headers: Mapping[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Any:
    body = get(url, params, {"Accept": "application/json", **(headers or {})}, context)
    try:
        return json.loads(body)
    except ValueError:
        raise RequestError(f"{where(url)} answered with no JSON: {body[:120]!r}") from None
