"""parse_config without Pulumi: typed values, defaults, and what counts as one problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builders import cloudwatch
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


def test_the_engines_namespace_is_left_to_the_engine():
    given = {**raw(), "pulumi:disable-default-providers": '["kubernetes", "grafana"]', "pulumi:tags": "{}"}
    assert parse_config(given, {TOKEN_KEY}, "local").cluster_name == "llm-judge-local"


def test_a_misspelt_namespace_is_reported_with_the_key_meant():
    given = {**raw(), "llm-judge-observabilty:traceSampleRate": "0.5"}
    with pytest.raises(ConfigError) as raised:
        parse_config(given, {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1
    assert "llm-judge-observabilty:traceSampleRate: namespace 'llm-judge-observabilty'" in message
    assert "did you mean llm-judge-observability:traceSampleRate?" in message
    assert "0.5" not in message  # other namespaces' values may be secrets


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("aws:region", "llm-judge-observability:awsRegion"),
        ("aws:profile", "AWS_PROFILE"),
        ("kubernetes:context", "llm-judge-observability:kubeContext"),
        ("grafana:auth", "llm-judge-observability:grafanaCloudApiToken"),
        ("someother:setting", "explicit providers ignore someother: config"),
    ],
)
def test_provider_and_other_namespaces_are_refused_as_read_by_nothing(key, fragment):
    # Explicit providers do not read `<provider>:` stack config (pulumi/pulumi-aws#1307), and the
    # program passes every provider explicitly: such a key would be silently ignored.
    with pytest.raises(ConfigError) as raised:
        parse_config({**raw(), key: "secret-looking-value"}, {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert f"{key}: nothing reads it" in message and fragment in message
    assert "secret-looking-value" not in message


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


# --- names are matched in full -------------------------------------------------------------------


def _stack_file_strings(stack: str) -> list[tuple[str, str]]:
    from tools.program import stack_file_config

    config, secret_keys = stack_file_config(stack)
    return [
        (full.removeprefix(f"{PROJECT}:"), value)
        for full, value in sorted(config.items())
        if full.startswith(f"{PROJECT}:") and full not in secret_keys and not value.startswith(("{", "["))
    ]


@pytest.mark.parametrize(
    ("stack", "key", "value"),
    [(stack, key, value) for stack in ("local", "eks") for key, value in _stack_file_strings(stack)],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_a_trailing_newline_is_refused_in_every_setting(stack, key, value):
    # `$` matches before a final newline: "name\n" passed every `re.match(...$)` check and reached
    # Deployment names, PromQL and Grafana Cloud names.
    given = eks_raw() if stack == "eks" else raw()
    given[f"{PROJECT}:{key}"] = value
    assert parse_config(given, {TOKEN_KEY}, stack)  # the stack file's value itself is fine
    given[f"{PROJECT}:{key}"] = value + "\n"
    with pytest.raises(ConfigError) as raised:
        parse_config(given, {TOKEN_KEY}, stack)
    assert f"{PROJECT}:{key} = " in str(raised.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("services", '[{"name": "gateway-service\\n", "port": 8000}]'),
        ("services", '[{"name": "gateway-service", "port": 8000, "container": "app\\n"}]'),
        ("sqsQueues", '["inference_queue\\n"]'),
        ("subnetIds", '["subnet-0123456789abcdef0\\n"]'),
        ("nodeGroup", '{"instanceTypes": ["t3.large\\n"]}'),
        ("serviceRoles", '{"gateway": "gateway-service\\n"}'),
    ],
)
def test_a_trailing_newline_is_refused_inside_structured_settings(key, value):
    with pytest.raises(ConfigError, match=f"{PROJECT}:{key}"):
        parse_config(eks_raw(**{key: value}), {TOKEN_KEY}, "eks")


# --- the documented ranges (README "Configuration") ----------------------------------------------


README = Path(__file__).resolve().parents[2] / "README.md"
EN_DASH = "\u2013"  # the README writes ranges with an en dash


def test_the_readme_documents_every_setting_and_no_other() -> None:
    """The "Configuration" section's two tables (settings, secret settings): one row per key (a row may
    name several, `vpcId`, `subnetIds`), the same keys the program reads."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    documented = [
        name
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Za-z0-9]+)`", line.split(" | ", 1)[0])
    ]
    assert sorted(documented) == sorted(known_keys())


def readme_row(key: str) -> str:
    (row,) = [line for line in README.read_text().splitlines() if line.startswith(f"| `{key}` |")]
    return row


@pytest.mark.parametrize(
    ("key", "documented", "accepted", "refused"),
    [
        ("collectorTokenLifetimeDays", f"2{EN_DASH}365", ["2", "365"], ["1", "366", "0", "-1", "30.5"]),
        ("collectorTokenRotateBeforeDays", f"1{EN_DASH}364", ["1", "364"], ["0", "365", "-1"]),
        ("traceSampleRate", "from 0 to 1", ["0", "1", "0.0", "1.0"], ["-0.01", "1.01", "inf"]),
        ("grafanaCloudStackSlug", f"2{EN_DASH}29", ["ab", "a" * 29], ["a", "a" * 30]),
        ("clusterName", "DNS-1123 label", ["a", "a" * 63], ["a" * 64, "a-", "A"]),
    ],
)
def test_documented_ranges_hold_at_their_bounds(key, documented, accepted, refused):
    assert documented in readme_row(key)
    # The other token setting as far out of the way as it goes, so only `key` is judged.
    other = {"collectorTokenLifetimeDays": "365", "collectorTokenRotateBeforeDays": "1"}
    other.pop(key, None)
    for value in accepted:
        parse_config(raw(**{**other, key: value}), {TOKEN_KEY}, "local")
    for value in refused:
        with pytest.raises(ConfigError, match=f"{key} = "):
            parse_config(raw(**{**other, key: value}), {TOKEN_KEY}, "local")


@pytest.mark.parametrize(
    ("sizes", "ok"),
    [((1, 1, 1), True), ((1, 2, 100), True), ((0, 1, 1), False), ((1, 1, 101), False), ((2, 1, 3), False)],
)
def test_node_group_sizes_hold_at_their_bounds(sizes, ok):
    group = json.dumps(dict(zip(("minSize", "desiredSize", "maxSize"), sizes, strict=True)))
    if ok:
        parse_config(eks_raw(nodeGroup=group), {TOKEN_KEY}, "eks")
    else:
        with pytest.raises(ConfigError, match="nodeGroup = "):
            parse_config(eks_raw(nodeGroup=group), {TOKEN_KEY}, "eks")


@pytest.mark.parametrize(
    "group",
    [
        '{"instanceTypes": null}',  # `instanceTypes:` left empty in YAML: was a TypeError
        '{"instanceTypes": []}',
        '{"instanceTypes": "t3.large"}',
        '{"instanceTypes": {"t3.large": 1}}',
        '{"instanceTypes": [null]}',
        '{"minSize": null}',
        '{"minSize": 1.5}',
        '{"minSize": true}',
        "null",
        "[]",
    ],
)
def test_a_bad_node_group_is_one_message(group):
    with pytest.raises(ConfigError) as raised:
        parse_config(eks_raw(nodeGroup=group), {TOKEN_KEY}, "eks")
    assert str(raised.value).count("\n  - ") == 1
    assert "nodeGroup = " in str(raised.value)


# --- runbook URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://wiki.example.com/{{ $labels.alertname }}",
        "https://wiki.example.com/runbooks}}",
        "https://wiki.example.com/{x}",
        "http://wiki.example.com/runbooks",
        "https://wiki.example.com/runbooks#top",
    ],
)
def test_runbook_url_refuses_what_grafana_would_template_or_mangle(url):
    with pytest.raises(ConfigError, match="runbookBaseUrl = "):
        parse_config(raw(runbookBaseUrl=url), {TOKEN_KEY}, "local")


def test_runbook_url_accepts_a_plain_https_url():
    url = "https://wiki.example.com/sre/llm-judge-runbooks?version=2"
    assert parse_config(raw(runbookBaseUrl=url), {TOKEN_KEY}, "local").runbook_base_url == url


# --- SQS queues ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queues", "why"),
    [
        ("[]", "empty: the collector config needs one queue"),
        ('["a-b", "a_b"]', "one Alloy block label"),
        ('["a.b", "a_b"]', "one Alloy block label"),
        (json.dumps(["inference_queue", "q" * 76 + ".fifo"]), "81 characters with .fifo"),
        (json.dumps(["q" * 81]), "81 characters"),
        ('["inference_queue", 3]', "not a name"),
        ('"inference_queue"', "not a list"),
    ],
)
def test_queue_lists_the_collector_would_refuse_are_refused_here(queues, why):
    with pytest.raises(ConfigError) as raised:
        parse_config(eks_raw(sqsQueues=queues), {TOKEN_KEY}, "eks")
    assert "sqsQueues = " in str(raised.value), why


def test_an_inference_queue_name_the_collector_would_refuse_is_refused_as_a_name():
    """One rule for a queue name (builders.cloudwatch, 80 characters with `.fifo`), for the list and
    for the queue the backlog alert watches alike."""
    too_long = "q" * 76 + ".fifo"
    with pytest.raises(ValueError):
        cloudwatch.validate_queue_name(too_long)
    with pytest.raises(ConfigError) as raised:
        parse_config(eks_raw(inferenceQueue=too_long), {TOKEN_KEY}, "eks")
    problems = [line for line in str(raised.value).splitlines() if "inferenceQueue" in line]
    assert len(problems) == 1 and "must be the name of one of the sqsQueues" in problems[0], problems


@pytest.mark.parametrize(
    "region",
    ["us-east-1", "us-gov-west-1", "us-isob-east-1", "eu-west-10", "eu-west", "us-east-1a", "EU-WEST-1"],
)
def test_aws_region_follows_the_collectors_rule(region):
    """The stack's region and the CloudWatch exporter's regions are checked by one rule."""
    try:
        cloudwatch.validate_region(region)
        collector_accepts = True
    except ValueError:
        collector_accepts = False
    try:
        parse_config(eks_raw(awsRegion=region), {TOKEN_KEY}, "eks")
        config_accepts = True
    except ConfigError:
        config_accepts = False
    assert config_accepts == collector_accepts


def test_longest_queue_names_are_accepted():
    queues = ["inference_queue", "q" * 75 + ".fifo", "r" * 80]
    config = parse_config(eks_raw(sqsQueues=json.dumps(queues)), {TOKEN_KEY}, "eks")
    assert config.eks is not None and list(config.eks.sqs_queues) == queues


# --- roles: service and queue names are free -----------------------------------------------------

RENAMED = json.dumps(
    [
        {"name": "api", "port": 8000},
        {"name": "worker", "port": 8001},
        {"name": "cache-proxy", "port": 8002},
    ]
)


def test_default_roles_are_todays_service_and_queue_names():
    config = parse_config(eks_raw(), {TOKEN_KEY}, "eks")
    assert config.service_roles.by_role() == {
        "gateway": "gateway-service",
        "inference": "inference-service",
        "redis": "redis-service",
    }
    assert config.eks is not None and config.eks.inference_queue == "inference_queue"


def test_renamed_services_name_their_roles():
    roles = '{"gateway": "api", "inference": "worker", "redis": "cache-proxy"}'
    config = parse_config(raw(services=RENAMED, serviceRoles=roles), {TOKEN_KEY}, "local")
    assert config.service_roles.by_role() == {"gateway": "api", "inference": "worker", "redis": "cache-proxy"}


def test_renamed_services_without_roles_say_which_roles_to_set():
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(services=RENAMED), {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1
    assert "serviceRoles is not set, and its defaults {'gateway': 'gateway-service'," in message
    assert "are not among the services ['api', 'worker', 'cache-proxy']" in message


@pytest.mark.parametrize(
    "roles",
    ['{"gateway": "nope"}', '{"gateway": "api", "inference": "worker", "redis": "ghost"}'],
)
def test_a_role_naming_no_listed_service_is_refused(roles):
    with pytest.raises(ConfigError, match=r"serviceRoles\.\w+ = \"(nope|ghost)\": must be one of"):
        parse_config(raw(services=RENAMED, serviceRoles=roles), {TOKEN_KEY}, "local")


@pytest.mark.parametrize("roles", ['{"gateway": "api", "frontend": "api"}', '["api"]', '{"gateway": 1}'])
def test_a_malformed_roles_object_is_refused(roles):
    with pytest.raises(ConfigError, match="serviceRoles = "):
        parse_config(raw(services=RENAMED, serviceRoles=roles), {TOKEN_KEY}, "local")


def test_queues_without_the_default_inference_queue_say_to_set_it():
    with pytest.raises(ConfigError) as raised:
        parse_config(eks_raw(sqsQueues='["jobs", "results"]'), {TOKEN_KEY}, "eks")
    message = str(raised.value)
    assert message.count("\n  - ") == 1
    assert (
        "inferenceQueue (default \"inference_queue\"): must be one of the sqsQueues ['jobs', 'results']"
        in (message)
    )
    config = parse_config(eks_raw(sqsQueues='["jobs", "results"]', inferenceQueue="jobs"), {TOKEN_KEY}, "eks")
    assert config.eks is not None and config.eks.inference_queue == "jobs"


def test_an_inference_queue_that_is_not_collected_is_refused():
    with pytest.raises(ConfigError, match='inferenceQueue = "other": must be one of the sqsQueues'):
        parse_config(eks_raw(inferenceQueue="other"), {TOKEN_KEY}, "eks")


def test_inference_queue_is_an_eks_setting():
    with pytest.raises(ConfigError, match=r"inferenceQueue = .*only applies to platform eks"):
        parse_config(raw(inferenceQueue="inference_queue"), {TOKEN_KEY}, "local")


def test_pod_logs_namespaces_default_to_the_services_namespace_and_widen_as_listed():
    assert parse_config(raw(), {TOKEN_KEY}, "local").pod_logs_namespaces is None  # `namespace` alone
    listed = parse_config(raw(podLogsNamespaces='["llm-judge", "payments"]'), {TOKEN_KEY}, "local")
    assert listed.pod_logs_namespaces == ("llm-judge", "payments")
    every = parse_config(raw(podLogsNamespaces='["*"]'), {TOKEN_KEY}, "local")
    assert every.pod_logs_namespaces == ("*",)


@pytest.mark.parametrize(
    "value",
    ["[]", '["llm-judge", "llm-judge"]', '["Llm-Judge"]', '["llm-judge", "*"]', '"llm-judge"', '["team-.*"]'],
)
def test_bad_pod_logs_namespaces_are_one_problem_naming_key_value_and_what_is_allowed(value):
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(podLogsNamespaces=value), {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1, message
    assert f"{PROJECT}:podLogsNamespaces = " in message and 'or ["*"] for every namespace' in message


def test_pod_logs_namespaces_must_keep_the_services_own():
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(namespace="judge", podLogsNamespaces='["payments"]'), {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1, message
    assert f'{PROJECT}:podLogsNamespaces = ["payments"]: must include' in message
    assert 'the services\' namespace "judge"' in message
