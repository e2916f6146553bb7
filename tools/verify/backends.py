"""Read-only clients of the stack's Mimir (Prometheus API), Loki and Tempo, with the verification token.

Each speaks the documented HTTP query API and authenticates as Grafana Cloud expects: basic auth,
user = the backend's user id (`verifyEndpoints`), password = the token.
- Prometheus (Mimir serves it under `<prometheusUrl>/api/prom`):
  https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
- Loki: https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-logs-at-a-single-point-in-time
  and #query-logs-within-a-range-of-time
- Tempo: https://grafana.com/docs/tempo/latest/api_docs/#search and #query
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clients import http
from clients.redact import Redactor

Sample = dict[str, Any]  # {"metric": {...}, "value": [time, "1"]}


@dataclass
class QueryApi:
    """One backend: its query base URL and basic-auth credentials."""

    base_url: str
    user: str
    token: str
    redactor: Redactor
    _authorization: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._authorization = self.redactor.add_basic_auth(self.user, self.token)

    def _get_json(self, path: str, params: http.Params = None) -> Any:
        return http.get_json(self.base_url + path, params, {"Authorization": self._authorization})


def _vector(answer: Any, url: str) -> list[Sample]:
    """The samples of an instant query's answer (Prometheus and Loki share this envelope)."""
    if not isinstance(answer, Mapping) or answer.get("status") != "success":
        error = answer.get("error") if isinstance(answer, Mapping) else answer
        raise http.RequestError(f"{url} refused the query: {error}")
    data = answer.get("data") or {}
    if data.get("resultType") != "vector":
        raise http.RequestError(f"{url} answered {data.get('resultType')!r}, not a vector")
    return list(data.get("result") or [])


class PrometheusApi(QueryApi):
    def query(self, promql: str) -> list[Sample]:
        """An instant query at the server's now."""
        return _vector(self._get_json("/api/v1/query", {"query": promql}), self.base_url)


class LokiApi(QueryApi):
    def query(self, logql: str, at_ns: int) -> list[Sample]:
        """A metric LogQL query (count_over_time, ...) at one instant."""
        return _vector(self._get_json("/loki/api/v1/query", {"query": logql, "time": at_ns}), self.base_url)

    def lines(
        self, logql: str, start_ns: int, end_ns: int, limit: int
    ) -> list[tuple[Mapping[str, str], str]]:
        """Up to `limit` log lines, newest first, as (stream labels, line)."""
        answer = self._get_json(
            "/loki/api/v1/query_range",
            {"query": logql, "start": start_ns, "end": end_ns, "limit": limit, "direction": "backward"},
        )
        if not isinstance(answer, Mapping) or answer.get("status") != "success":
            raise http.RequestError(f"{self.base_url} refused the query: {answer}")
        found: list[tuple[int, Mapping[str, str], str]] = []
        for stream in (answer.get("data") or {}).get("result") or []:
            for timestamp, line in stream.get("values") or []:
                found.append((int(timestamp), stream.get("stream") or {}, line))
        found.sort(key=lambda entry: entry[0], reverse=True)
        return [(labels, line) for _, labels, line in found]


class TempoApi(QueryApi):
    def search(self, traceql: str, start_s: int, end_s: int, limit: int = 20) -> list[Mapping[str, Any]]:
        """Traces matching a TraceQL query in [start, end] (unix seconds)."""
        answer = self._get_json("/api/search", {"q": traceql, "start": start_s, "end": end_s, "limit": limit})
        traces = answer.get("traces") if isinstance(answer, Mapping) else None
        return list(traces or [])

    def trace(self, trace_id: str) -> Mapping[str, Any] | None:
        """The trace by id, or None when Tempo does not have it (404)."""
        try:
            answer = self._get_json(f"/api/traces/{trace_id}")
        except http.RequestError as err:
            if err.status == 404:
                return None
            raise
        return answer if isinstance(answer, Mapping) else None
