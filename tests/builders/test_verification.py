"""The verification access's definitions: read-only scopes, a policy name of its own, query bases."""

from __future__ import annotations

from builders.grafana_cloud import ALLOWED_COLLECTOR_SCOPES
from builders.grafana_objects import collector_policy_name, verify_policy_name
from builders.verification import ENDPOINT_KEYS, VERIFY_SCOPES, query_endpoints

STACK = {
    "prometheusUrl": "https://prometheus-prod-13-prod-us-east-0.grafana.net",
    "prometheusUserId": 1234567,
    "logsUrl": "https://logs-prod-006.grafana.net/",
    "logsUserId": 765432,
    "tracesUrl": "https://tempo-prod-04-prod-us-east-0.grafana.net",
    "tracesUserId": 987654,
}


def test_scopes_read_each_signal_and_write_nothing() -> None:
    assert VERIFY_SCOPES == ("metrics:read", "logs:read", "traces:read")
    assert not set(VERIFY_SCOPES) & set(ALLOWED_COLLECTOR_SCOPES)


def test_policy_name_is_its_own_and_never_the_collectors() -> None:
    assert verify_policy_name("llm-judge-local") == "llm-judge-local-verify-read"
    assert verify_policy_name("c") != collector_policy_name("c")


def test_query_endpoints_from_the_stack_lookup() -> None:
    endpoints = query_endpoints(STACK)
    assert endpoints == {
        "prometheusUrl": "https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom",
        "prometheusUserId": "1234567",
        "lokiUrl": "https://logs-prod-006.grafana.net",
        "lokiUserId": "765432",
        "tempoUrl": "https://tempo-prod-04-prod-us-east-0.grafana.net/tempo",
        "tempoUserId": "987654",
    }
    assert tuple(endpoints) == ENDPOINT_KEYS
