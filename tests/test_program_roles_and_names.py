"""Through the whole program: free service and queue names, and generated names within their limits."""

from __future__ import annotations

import json

import pulumi

from tests.support import by_type, one, prepared, settled

RENAMED_SERVICES = json.dumps(
    [
        {"name": "api", "port": 8000},
        {"name": "worker", "port": 8001},
        {"name": "cache-proxy", "port": 8002},
        {"name": "scorer", "port": 8003},
    ]
)
ROLES = json.dumps({"gateway": "api", "inference": "worker", "redis": "cache-proxy"})
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"


def _panels(run) -> dict[str, list[str]]:
    """LLM Judge dashboard: panel title -> its query expressions."""
    (custom,) = [d for d in by_type(run, DASHBOARD) if d.name == "dashboards-llm-judge"]
    model = json.loads(custom.inputs["configJson"])
    return {p["title"]: [t.get("expr", "") for t in p.get("targets", [])] for p in model["panels"]}


@pulumi.runtime.test
def test_renamed_services_and_queues_reach_the_dashboard_and_the_alerts_by_role():
    run = prepared(
        "eks",
        services=RENAMED_SERVICES,
        serviceRoles=ROLES,
        sqsQueues='["jobs", "results"]',
        inferenceQueue="jobs",
    ).start()

    def check(run):
        panels = _panels(run)
        assert all('job="llm-judge/api"' in e for e in panels["End-to-end request latency (gateway)"])
        assert all(
            'job="llm-judge/cache-proxy"' in e for e in panels["Redis operation latency (cache-proxy)"]
        )
        assert all('job="llm-judge/worker"' in e for e in panels["Failed inference ratio"])
        dashboard = one_dashboard_text(run)
        for default in ("gateway-service", "inference-service", "redis-service", "inference_queue"):
            assert default not in dashboard
        rules = [rule for group in by_type(run, RULE_GROUP) for rule in group.inputs["rules"]]
        backlog = [r for r in rules if r["name"] == "InferenceQueueBacklog"]
        assert [r["labels"]["queue"] for r in backlog] == ["jobs"]
        assert 'dimension_QueueName=\\"jobs\\"' in backlog[0]["datas"][0]["model"]
        assert "inference_queue" not in json.dumps(rules)

    return settled(run, check)


def one_dashboard_text(run) -> str:
    (custom,) = [d for d in by_type(run, DASHBOARD) if d.name == "dashboards-llm-judge"]
    return str(custom.inputs["configJson"])


LONGEST_CLUSTER = "judge-" + "x" * 57  # 63 characters, the longest DNS-1123 label


@pulumi.runtime.test
def test_a_63_character_cluster_name_gives_distinct_names_within_each_services_limits():
    run = prepared("eks", clusterName=LONGEST_CLUSTER).start()

    def check(run):
        roles = [r.inputs["name"] for r in by_type(run, "aws:iam/role:Role")]
        assert len(roles) == 4  # nodes, alloy-metrics, external-secrets, ebs-csi-driver
        assert len(set(roles)) == len(roles), roles  # cut at 64 they were one name
        assert all(len(name) <= 64 for name in roles)  # IAM RoleName: 1-64
        # Who uses a role gets that role's ARN.
        attached = {
            a.inputs["role"] for a in by_type(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        }
        assert {name for name in roles if name.endswith("-nodes")} <= attached
        # The collectors' through the Helm values, the secret store's through its reader account.
        users = {
            "alloy-metrics": [r.inputs.get("values") for r in by_type(run, "kubernetes:helm.sh/v3:Release")],
            "external-secrets": [
                r.inputs["metadata"] for r in by_type(run, "kubernetes:core/v1:ServiceAccount")
            ],
        }
        for key, where in users.items():
            (name,) = [n for n in roles if n.endswith(f"-{key}")]
            assert f":role/{name}" in json.dumps(where), key
        # Secrets Manager: 1-512 characters (API_CreateSecret); rotating tokens' name_prefix: 1-200
        # (terraform-provider-grafana resource_cloud_access_policy_rotating_token.go).
        secret = one(run, "aws:secretsmanager/secret:Secret").inputs["name"]
        assert secret.startswith(LONGEST_CLUSTER) and len(secret) <= 512
        tokens = by_type(run, "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken")
        tokens += by_type(
            run, "grafana:cloud/stackServiceAccountRotatingToken:StackServiceAccountRotatingToken"
        )
        assert tokens and all(1 <= len(t.inputs["namePrefix"]) <= 200 for t in tokens)

    return settled(run, check)
