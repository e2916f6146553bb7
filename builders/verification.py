"""The read-only way in for `tools.verify`: its access policy's name and scopes, and the query endpoints.

Why an access policy of its own (and not the stack Grafana's data-source proxy with a Viewer service
account): a Cloud access policy with `metrics:read`, `logs:read` and `traces:read` in the realm of
this one stack, with a label policy for this cluster (components/verification_access.py), can read
this cluster's metrics and logs, the stack's traces, and nothing else — no dashboards, alert rules,
contact points or data-source settings, all of which a Viewer of the stack's Grafana can read. It
needs no stack Grafana at all (the checks still work with `features.alerting` and
`features.dashboards` off), and it goes to Mimir, Loki and Tempo directly with the same basic auth
(user id : token) the collectors use, so the checks query the same HTTP APIs the tests run against.
It rotates exactly like the collectors' token (AccessPolicyRotatingToken, same lifetime).
Scopes: https://grafana.com/docs/grafana-cloud/security-and-account-management/authentication-and-permissions/access-policies/#scopes
"""

from __future__ import annotations

from collections.abc import Mapping

# Read, and only read, each signal the pipeline delivers. The policy pack allows exactly these for
# the policy named by `builders.grafana_objects.verify_policy_name` (policy/rules.py).
VERIFY_SCOPES: tuple[str, ...] = ("metrics:read", "logs:read", "traces:read")

# Keys of the `verifyEndpoints` stack output, read back by tools.verify.
ENDPOINT_KEYS: tuple[str, ...] = (
    "prometheusUrl",
    "prometheusUserId",
    "lokiUrl",
    "lokiUserId",
    "tempoUrl",
    "tempoUserId",
)


def query_endpoints(stack: Mapping[str, object]) -> dict[str, str]:
    """Query bases and basic-auth users from the stack lookup (`grafana.cloud.get_stack`, camelCase).

    - Mimir's Prometheus-compatible API lives under `<prometheusUrl>/api/prom` (`/api/v1/query`
      below it): https://grafana.com/docs/grafana-cloud/send-data/metrics/metrics-prometheus/query-http-api/
    - Loki's API is at the root of `logsUrl` (`/loki/api/v1/query`), as its push API is.
    - Tempo's is under `<tracesUrl>/tempo`: the provider documents `traces_url` as "Base URL of the
      Traces instance ... To use this in the Tempo data source in Grafana, append `/tempo`"
      (pulumiverse_grafana 2.44.0, cloud/get_stack.py, `traces_url`).
    """
    return {
        "prometheusUrl": str(stack["prometheusUrl"]).rstrip("/") + "/api/prom",
        "prometheusUserId": str(stack["prometheusUserId"]),
        "lokiUrl": str(stack["logsUrl"]).rstrip("/"),
        "lokiUserId": str(stack["logsUserId"]),
        "tempoUrl": str(stack["tracesUrl"]).rstrip("/") + "/tempo",
        "tempoUserId": str(stack["tracesUserId"]),
    }
