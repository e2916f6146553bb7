"""GrafanaCloudStack on its own: outputs derived from the stack lookup, the token secret."""

from __future__ import annotations

import datetime as dt

import pulumi
import pulumiverse_grafana as grafana

from builders.config import TokenPolicy
from components.grafana_cloud_stack import GrafanaCloudStack, GrafanaCloudStackArgs
from tools.mocks import PLACEHOLDER_STACK, PlaceholderMocks, placeholder_token
from tools.program import prepare


def make_stack() -> GrafanaCloudStack:
    prepare("local", {}, [])
    provider = grafana.Provider("cloud", cloud_access_policy_token=pulumi.Output.secret("t"))
    return GrafanaCloudStack(
        "gc",
        GrafanaCloudStackArgs(
            stack_slug="llmjudge",
            cluster_name="c1",
            scopes=("metrics:write",),
            token_policy=TokenPolicy(),
            cloud_provider=provider,
        ),
    )


@pulumi.runtime.test
def test_collector_token_is_an_explicit_secret():
    stack = make_stack()

    def check(args):
        is_secret, token = args
        assert is_secret
        assert token == placeholder_token("c1-alloy-collectors")

    return pulumi.Output.all(
        pulumi.Output.from_input(stack.collector_token.is_secret()), stack.collector_token
    ).apply(check)


@pulumi.runtime.test
def test_endpoints_come_from_the_stack_lookup():
    stack = make_stack()

    def check(values):
        stack_id, remote_write, prom_user, loki, logs_user, otlp = values
        assert stack_id == PLACEHOLDER_STACK["id"]
        assert remote_write == PLACEHOLDER_STACK["prometheusRemoteWriteEndpoint"]
        assert prom_user == str(PLACEHOLDER_STACK["prometheusUserId"])
        assert loki == PLACEHOLDER_STACK["logsUrl"] + "/loki/api/v1/push"
        assert logs_user == str(PLACEHOLDER_STACK["logsUserId"])
        assert otlp == PLACEHOLDER_STACK["otlpUrl"]

    return pulumi.Output.all(
        stack.stack_id,
        stack.prometheus_remote_write_endpoint,
        stack.prometheus_user_id,
        stack.loki_push_url,
        stack.logs_user_id,
        stack.otlp_url,
    ).apply(check)


@pulumi.runtime.test
def test_token_expiry_is_exposed():
    stack = make_stack()
    return stack.collector_token_expires_at.apply(lambda at: _assert_timestamp(at))


def _assert_timestamp(value: str) -> None:
    issued = PlaceholderMocks().now  # the mock provider's clock
    assert value == (issued + dt.timedelta(days=TokenPolicy().lifetime_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
