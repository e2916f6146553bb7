"""parse_config without Pulumi: typed values, defaults, and what counts as one problem."""

from __future__ import annotations

import pytest

from builders.config import (
    PROJECT,
    SETTINGS,
    ConfigError,
    NodeGroup,
    TokenPolicy,
    known_keys,
    parse_config,
)
from builders.features import FeatureToggles

TOKEN_KEY = f"{PROJECT}:grafanaCloudApiToken"


def raw(**values: str | None) -> dict[str, str]:
    """A valid local config; a value None leaves that key out."""
    base = {
        "platform": "local",
        "clusterName": "llm-judge-local",
        "kubeContext": "kind-llm-judge",
        "grafanaCloudStackSlug": "llmjudge",
        "k8sMonitoringChartVersion": "4.4.0",
        "grafanaCloudApiToken": "secret-value",
        "alertEmailAddresses": '["oncall@llm-judge.dev"]',
    }
    base.update(values)
    return {f"{PROJECT}:{k}": v for k, v in base.items() if v is not None}


def test_minimal_local_config_gets_documented_defaults():
    config = parse_config(raw(), {TOKEN_KEY}, "local")
    assert config.namespace == "llm-judge"
    assert config.trace_sample_rate == 1.0
    assert config.deployment_environment == "local"  # the stack name
    assert config.collector_token == TokenPolicy(lifetime_days=90, rotate_before_days=30)
    assert config.features == FeatureToggles()


def test_values_are_typed():
    config = parse_config(
        raw(traceSampleRate="0.25", collectorTokenLifetimeDays="30", collectorTokenRotateBeforeDays="7"),
        {TOKEN_KEY},
        "local",
    )
    assert config.trace_sample_rate == 0.25
    assert config.collector_token.expire_after == "720h"
    assert config.collector_token.early_rotation_window == "168h"


def test_features_object_turns_single_features_off():
    config = parse_config(raw(features='{"costMetrics": false, "podLogs": false}'), {TOKEN_KEY}, "local")
    assert config.features.cost_metrics is False
    assert config.features.pod_logs is False
    assert config.features.cluster_metrics is True


def test_keys_of_other_namespaces_are_not_ours_to_judge():
    given = {
        **raw(),
        "kubernetes:context": "x",
        "aws:region": "eu-west-1",
        "pulumi:disable-default-providers": "[]",
    }
    assert parse_config(given, {TOKEN_KEY}, "local").cluster_name == "llm-judge-local"


def eks_raw(**values: str) -> dict[str, str]:
    given = raw(platform="eks", awsRegion="eu-west-1", externalSecretsChartVersion="2.10.0")
    del given[f"{PROJECT}:kubeContext"]
    given.update({f"{PROJECT}:{k}": v for k, v in values.items()})
    return given


def test_eks_platform_needs_no_kube_context_and_refuses_one():
    config = parse_config(eks_raw(), {TOKEN_KEY}, "eks")
    assert config.kube_context is None
    assert config.eks is not None and config.eks.region == "eu-west-1"
    with pytest.raises(ConfigError, match=r"kubeContext = .*only applies to platform local"):
        parse_config(eks_raw(kubeContext="kind-x"), {TOKEN_KEY}, "eks")


def test_eks_settings_are_typed_with_defaults():
    config = parse_config(
        eks_raw(
            nodeGroup='{"instanceTypes": ["m6i.large"], "minSize": 1, "desiredSize": 2, "maxSize": 3}',
            sqsQueues='["inference_queue", "judge_queue"]',
        ),
        {TOKEN_KEY},
        "eks",
    )
    assert config.eks is not None
    assert config.eks.node_group == NodeGroup(("m6i.large",), 1, 2, 3)
    assert config.eks.sqs_queues == ("inference_queue", "judge_queue")
    assert config.eks.existing_cluster_name is None
    assert config.eks.kubernetes_version == "1.33"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("nodeGroup", '{"minSize": 3, "desiredSize": 2}'),
        ("nodeGroup", '{"instanceTypes": [], "minSize": 1}'),
        ("nodeGroup", '{"minSize": 1, "spot": true}'),
        ("sqsQueues", '["inference queue"]'),
        ("sqsQueues", '["a", "a"]'),
        ("subnetIds", '["subnet-12"]'),
        ("awsRegion", "Europe"),
        ("secretsManagerKmsKeyArn", "alias/my-key"),
        ("kubernetesVersion", "1.33.2"),
    ],
)
def test_bad_eks_values_name_key_and_value(key, value):
    with pytest.raises(ConfigError) as raised:
        parse_config(eks_raw(**{key: value}), {TOKEN_KEY}, "eks")
    assert f"{PROJECT}:{key} = " in str(raised.value)
    assert "must be" in str(raised.value)


def test_vpc_and_subnets_come_together():
    with pytest.raises(ConfigError, match="set both"):
        parse_config(eks_raw(vpcId="vpc-0123456789abcdef0"), {TOKEN_KEY}, "eks")


def test_local_config_has_no_eks_settings():
    assert parse_config(raw(), {TOKEN_KEY}, "local").eks is None


def test_message_names_the_stack_file():
    with pytest.raises(ConfigError, match=r"^Invalid configuration in Pulumi\.staging\.yaml:"):
        parse_config(raw(clusterName="UPPER"), {TOKEN_KEY}, "staging")


def test_unknown_keys_list_every_known_setting():
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(sampleRate="1"), {TOKEN_KEY}, "local")
    for key in known_keys():
        assert key in str(raised.value)


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if s.required and s.platform in (None, "local")], ids=lambda s: s.key
)
def test_each_required_setting_is_required(setting):
    given = raw()
    given.pop(f"{PROJECT}:{setting.key}", None)
    with pytest.raises(ConfigError, match=f"{setting.key} is not set"):
        parse_config(given, {TOKEN_KEY}, "local")


# --- alert destinations -----------------------------------------------------------------------

SLACK_KEY = f"{PROJECT}:slackWebhookUrl"
PAGERDUTY_KEY = f"{PROJECT}:pagerdutyIntegrationKey"


def test_email_addresses_are_plain_config_kept_in_order():
    config = parse_config(
        raw(alertEmailAddresses='["oncall@llm-judge.dev", "Team.SRE+alerts@mail.example.org"]'),
        {TOKEN_KEY},
        "local",
    )
    assert config.alert_email_addresses == ("oncall@llm-judge.dev", "Team.SRE+alerts@mail.example.org")


@pytest.mark.parametrize(
    "value",
    [
        '["<example@email.com>"]',  # Grafana's placeholder, as its default contact point holds it
        '["example@email.com"]',  # the same placeholder without brackets
        '["Ops <ops@llm-judge.dev>"]',  # a display name
        '["ops@llm-judge"]',  # no top-level domain
        '["ops@@llm-judge.dev"]',
        '["ops @llm-judge.dev"]',
        '["ops@llm-judge.dev\\n"]',  # a trailing newline
        '["ops@-llm-judge.dev"]',
        '["ops@[10.0.0.1]"]',  # an IP literal
        '["oncall@llm-judge.dev", "oncall@llm-judge.dev"]',
        "[]",
        '"oncall@llm-judge.dev"',  # not a list: set it with --path 'alertEmailAddresses[0]'
        "oncall@llm-judge.dev",
    ],
)
def test_bad_email_lists_are_one_problem_naming_key_value_and_how_to_set_it(value):
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(alertEmailAddresses=value), {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1, message
    assert f"{PROJECT}:alertEmailAddresses = " in message
    assert "pulumi config set --path 'alertEmailAddresses[0]' <address>" in message


def test_alerting_without_any_destination_is_refused_naming_the_keys_to_set():
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(alertEmailAddresses=None), {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1, message
    for key in ("alertEmailAddresses", "slackWebhookUrl", "pagerdutyIntegrationKey", "features"):
        assert f"{PROJECT}:{key}" in message
    assert "no alert destination is set" in message
    assert "example@email.com" in message  # why the built-in contact point will not do


@pytest.mark.parametrize(
    ("values", "secret"),
    [
        ({"slackWebhookUrl": "https://hooks.slack.com/services/T0/B0/x"}, SLACK_KEY),
        ({"pagerdutyIntegrationKey": "0123456789abcdef0123456789abcdef"}, PAGERDUTY_KEY),
        ({"features": '{"alerting": false}'}, None),
    ],
)
def test_slack_or_pagerduty_alone_or_alerting_off_need_no_email(values, secret):
    secrets = {TOKEN_KEY, secret} if secret else {TOKEN_KEY}
    config = parse_config(raw(alertEmailAddresses=None, **values), secrets, "local")
    assert config.alert_email_addresses == ()
