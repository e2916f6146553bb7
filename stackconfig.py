"""Reads this stack's configuration from the Pulumi runtime, once.

The only module that touches the SDK's config internals; everything else gets a typed
`StackConfig` and `StackSecrets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from builders.config import PROJECT, ConfigError, StackConfig, parse_config


@dataclass(frozen=True)
class StackSecrets:
    """Credentials from secret config; they only ever exist as secret Outputs."""

    grafana_cloud_api_token: pulumi.Output[str]
    # None: not set; that severity's rules name another destination this stack configured
    # (builders.notification_routing), never Grafana's default contact point.
    slack_webhook_url: pulumi.Output[str] | None
    pagerduty_integration_key: pulumi.Output[str] | None


def raw_config() -> tuple[dict[str, Any], set[str]]:
    """Every config key the program was given, and which of them are secret.

    `pulumi.Config` can only answer for keys it is asked about; rejecting unknown keys needs
    the whole set. The language host fills `CONFIG` (and `set_all_config` does under mocks);
    older hosts pass `PULUMI_CONFIG` in the environment (see ../shared/DESIGN.md, "Config").
    """
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = set(runtime_config.get_config_secret_keys_env())
    secret |= {key for key in values if runtime_config.is_config_secret(key)}
    return values, secret


def load_stack_config() -> tuple[StackConfig, StackSecrets]:
    """Validate the whole stack config before any resource is declared."""
    values, secret_keys = raw_config()
    try:
        config = parse_config(values, secret_keys, pulumi.get_stack())
    except ConfigError as err:
        # RunError ends the program with this message alone, without a traceback.
        raise pulumi.RunError(str(err)) from None
    project_config = pulumi.Config(PROJECT)
    secrets = StackSecrets(
        grafana_cloud_api_token=project_config.require_secret("grafanaCloudApiToken"),
        slack_webhook_url=project_config.get_secret("slackWebhookUrl"),
        pagerduty_integration_key=project_config.get_secret("pagerdutyIntegrationKey"),
    )
    return config, secrets
