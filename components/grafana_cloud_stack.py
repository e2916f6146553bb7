"""GrafanaCloudStack: the Grafana Cloud stack looked up by slug, and the collectors' access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from builders.config import TokenPolicy
from builders.grafana_cloud import AUTOMATION_ROLE, OPENCOST_SCOPES, cluster_selector, loki_push_url
from builders.grafana_objects import (
    automation_service_account_name,
    collector_policy_name,
    opencost_policy_name,
)
from builders.verification import query_endpoints
from components.access_policy import policy_with_rotating_token


@dataclass
class GrafanaCloudStackArgs:
    stack_slug: str
    cluster_name: str
    scopes: Sequence[str]
    token_policy: TokenPolicy
    cloud_provider: grafana.Provider  # Grafana Cloud API (access-policy token)
    # A service account of the stack's Grafana, for the alert rules and dashboards.
    manage_grafana: bool = True
    # OpenCost's own read-only policy and token (cost metrics on).
    opencost_reader: bool = False


class GrafanaCloudStack(pulumi.ComponentResource):
    stack_id: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    region: pulumi.Output[str]
    prometheus_remote_write_endpoint: pulumi.Output[str]
    prometheus_user_id: pulumi.Output[str]
    loki_push_url: pulumi.Output[str]
    logs_user_id: pulumi.Output[str]
    otlp_url: pulumi.Output[str]
    # Where tools.verify reads the telemetry back (builders/verification.py): query bases and users.
    query_endpoints: pulumi.Output[dict[str, str]]
    collector_token: pulumi.Output[str]
    collector_token_expires_at: pulumi.Output[str]
    opencost_token: pulumi.Output[str] | None  # secret; None unless opencost_reader
    opencost_token_expires_at: pulumi.Output[str] | None
    # When each token the cluster holds expires (the collectors', then OpenCost's).
    cluster_tokens_expire_at: pulumi.Output[list[str]]
    grafana_token: pulumi.Output[str] | None  # secret; None unless manage_grafana
    # The resource behind grafana_token: lookups through a provider that uses the token must
    # wait for it (while it is created or rotated, that provider is not configured yet).
    grafana_token_resource: pulumi.Resource | None

    def __init__(
        self, name: str, args: GrafanaCloudStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmjudge:observability:GrafanaCloudStack", name, None, opts)
        stack = grafana.cloud.get_stack_output(
            slug=args.stack_slug,
            opts=pulumi.InvokeOutputOptions(parent=self, provider=args.cloud_provider),
        )
        token = self._policy_token(
            f"{name}-collectors",
            policy_name=collector_policy_name(args.cluster_name),
            display_name=f"Alloy collectors of {args.cluster_name}",
            scopes=args.scopes,
            stack=stack,
            args=args,
        )
        reader = (
            self._policy_token(
                f"{name}-opencost",
                policy_name=opencost_policy_name(args.cluster_name),
                display_name=f"OpenCost of {args.cluster_name} (reads metrics)",
                scopes=OPENCOST_SCOPES,
                stack=stack,
                args=args,
                # This cluster's metrics only. OpenCost asks for no other: the chart runs it with
                # CURRENT_CLUSTER_ID_FILTER_ENABLED "true" and PROM_CLUSTER_ID_LABEL `cluster`
                # (4.4.0 charts/telemetry-services/values.yaml, opencost.exporter.extraEnv), its
                # cluster id being clusterName (`defaultClusterId`, builders/k8s_monitoring.py).
                label_selectors=[cluster_selector(args.cluster_name)],
            )
            if args.opencost_reader
            else None
        )

        self.grafana_token_resource = self._automation_token(name, args) if args.manage_grafana else None
        self.grafana_token = (
            pulumi.Output.secret(self.grafana_token_resource.key) if self.grafana_token_resource else None
        )
        self.stack_id = stack.id
        self.grafana_url = stack.url
        self.region = stack.region_slug
        self.prometheus_remote_write_endpoint = stack.prometheus_remote_write_endpoint
        self.prometheus_user_id = stack.prometheus_user_id.apply(str)
        self.loki_push_url = stack.logs_url.apply(loki_push_url)
        self.logs_user_id = stack.logs_user_id.apply(str)
        self.otlp_url = stack.otlp_url
        self.query_endpoints = pulumi.Output.all(
            prometheusUrl=stack.prometheus_url,
            prometheusUserId=stack.prometheus_user_id,
            logsUrl=stack.logs_url,
            logsUserId=stack.logs_user_id,
            tracesUrl=stack.traces_url,
            tracesUserId=stack.traces_user_id,
        ).apply(query_endpoints)
        # Explicitly secret: the provider marks it, but that marking is the engine's, not ours.
        self.collector_token = pulumi.Output.secret(token.token)
        self.collector_token_expires_at = token.expires_at
        self.opencost_token = pulumi.Output.secret(reader.token) if reader else None
        self.opencost_token_expires_at = reader.expires_at if reader else None
        self.cluster_tokens_expire_at = pulumi.Output.all(
            token.expires_at, *([reader.expires_at] if reader else [])
        ).apply(list)
        self.register_outputs(
            {
                "stack_id": self.stack_id,
                "grafana_url": self.grafana_url,
                "prometheus_remote_write_endpoint": self.prometheus_remote_write_endpoint,
                "prometheus_user_id": self.prometheus_user_id,
                "loki_push_url": self.loki_push_url,
                "logs_user_id": self.logs_user_id,
                "otlp_url": self.otlp_url,
                "query_endpoints": self.query_endpoints,
                "collector_token": self.collector_token,
                "collector_token_expires_at": self.collector_token_expires_at,
                "opencost_token": self.opencost_token,
                "opencost_token_expires_at": self.opencost_token_expires_at,
                "cluster_tokens_expire_at": self.cluster_tokens_expire_at,
                "grafana_token": self.grafana_token,
            }
        )

    def _policy_token(
        self,
        name: str,
        *,
        policy_name: str,
        display_name: str,
        scopes: Sequence[str],
        stack: pulumi.Output[grafana.cloud.GetStackResult],
        args: GrafanaCloudStackArgs,
        label_selectors: Sequence[str] = (),
    ) -> grafana.cloud.AccessPolicyRotatingToken:
        """A policy on this stack alone and its rotating token. The token the cluster holds is
        replaced, not revoked (`delete_on_destroy=False`): its readers pick up the new one only
        later, so the old one is left to expire (components/access_policy.py)."""
        return policy_with_rotating_token(
            name,
            f"{name}-token",
            policy_name=policy_name,
            display_name=display_name,
            scopes=scopes,
            stack_id=stack.id,
            region=stack.region_slug,
            token_policy=args.token_policy,
            delete_on_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, provider=args.cloud_provider),
            label_selectors=label_selectors,
        ).token

    def _automation_token(
        self, name: str, args: GrafanaCloudStackArgs
    ) -> grafana.cloud.StackServiceAccountRotatingToken:
        """A service account of the stack's Grafana and its rotating token, on the same
        lifetime and rotation as the collectors' token."""
        child = pulumi.ResourceOptions(parent=self, provider=args.cloud_provider)
        account = grafana.cloud.StackServiceAccount(
            f"{name}-automation",
            stack_slug=args.stack_slug,
            name=automation_service_account_name(args.cluster_name),
            role=AUTOMATION_ROLE,
            is_disabled=False,
            opts=child,
        )
        token = grafana.cloud.StackServiceAccountRotatingToken(
            f"{name}-automation-token",
            stack_slug=args.stack_slug,
            service_account_id=account.id,
            name_prefix=automation_service_account_name(args.cluster_name),
            seconds_to_live=args.token_policy.lifetime_days * 86400,
            early_rotation_window_seconds=args.token_policy.rotate_before_days * 86400,
            delete_on_destroy=True,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(additional_secret_outputs=["key"])
            ),
        )
        return token
