"""parse_config without Pulumi: typed values, defaults, and what counts as one problem."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builders import cloudwatch
from builders.config import (
    PROJECT,
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
    """The key's row of the README's "Configuration" table."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    (row,) = [line for line in section.splitlines() if line.startswith(f"| `{key}` |")]
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


# --- the documented defaults and a valid value of every setting (pinned against mutation) ----------


def test_documented_defaults_of_the_local_platform():
    """README "Configuration", default column, written out; a minimal stack file gets each of them."""
    config = parse_config(raw(), {TOKEN_KEY}, "local")
    for key, documented in [
        ("namespace", "`llm-judge`"),
        ("deploymentEnvironment", "the stack name"),
        ("traceSampleRate", "`1.0`"),
        ("collectorTokenLifetimeDays", "`90`"),
        ("collectorTokenRotateBeforeDays", "`30`"),
        ("appConfigMapName", "`appconfig`"),
        ("appConfigKey", "`appconfig.json`"),
        ("services", f"the five services, ports 8000{EN_DASH}8004, `/metrics`"),
        ("features", "all `true` but `apiServerMetrics`"),
    ]:
        assert documented in readme_row(key), key
    assert (config.namespace, config.deployment_environment, config.trace_sample_rate) == (
        "llm-judge",
        "local",
        1.0,
    )
    assert (config.collector_token.lifetime_days, config.collector_token.rotate_before_days) == (90, 30)
    assert (config.app_config_map, config.app_config_key) == ("appconfig", "appconfig.json")
    assert config.runbook_base_url == (
        "https://github.com/llm-judge/llm-judge-observability/blob/main/docs/runbooks.md"
    )
    assert [(s.name, s.port, s.metrics_path) for s in config.services] == [
        (f"{name}-service", 8000 + index, "/metrics")
        for index, name in enumerate(("gateway", "redis", "persistence", "inference", "judge"))
    ]
    toggles = vars(config.features)
    assert toggles.pop("api_server_metrics") is False
    assert len(toggles) == 10 and set(toggles.values()) == {True}
    assert config.kube_context == "kind-llm-judge" and config.eks is None


def test_documented_defaults_of_the_eks_platform():
    config = parse_config(eks_raw(), {TOKEN_KEY}, "eks")
    for key, documented in [
        ("kubernetesVersion", "`1.33`"),
        ("nodeGroup", "`t3.large`, 2/2/4"),
        ("sqsQueues", '`["inference_queue"]`'),
        ("inferenceQueue", "`inference_queue`"),
    ]:
        assert documented in readme_row(key), key
    assert config.eks is not None
    assert config.eks.kubernetes_version == "1.33"
    assert config.eks.node_group == NodeGroup(("t3.large",), 2, 2, 4)
    assert (config.eks.sqs_queues, config.eks.inference_queue) == (("inference_queue",), "inference_queue")
    assert (config.eks.vpc_id, config.eks.subnet_ids, config.eks.secrets_kms_key_arn) == (None, (), None)
    assert (config.eks.cluster_admin_principals, config.eks.cluster_preview_role_arn) == ((), None)
    assert (config.eks.existing_cluster_name, config.kube_context) == (None, None)
    assert config.deployment_environment == "eks"


def test_a_valid_value_of_every_local_setting_reaches_the_config():
    config = parse_config(
        raw(
            namespace="judge-prod",
            deploymentEnvironment="prod.eu-1_a",
            traceSampleRate="0.5",
            runbookBaseUrl="https://wiki.example.com/runbooks/llm-judge",
            appConfigMapName="llm-judge.app-config",
            appConfigKey="app_config-v2.json",
            alertEmailAddresses='["oncall@llm-judge.dev", "sre.team+alerts@example.co.uk"]',
        ),
        {TOKEN_KEY},
        "local",
    )
    assert (config.namespace, config.deployment_environment, config.trace_sample_rate) == (
        "judge-prod",
        "prod.eu-1_a",
        0.5,
    )
    assert config.runbook_base_url == "https://wiki.example.com/runbooks/llm-judge"
    assert (config.app_config_map, config.app_config_key) == ("llm-judge.app-config", "app_config-v2.json")
    assert config.alert_email_addresses == ("oncall@llm-judge.dev", "sre.team+alerts@example.co.uk")


def test_a_valid_value_of_every_eks_setting_reaches_the_config():
    kms = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    admins = ["arn:aws:iam::111122223333:role/platform-admin", "arn:aws:iam::111122223333:user/ops/alice"]
    config = parse_config(
        eks_raw(
            awsRegion="us-gov-west-1",
            externalSecretsChartVersion="0.10.4",
            kubernetesVersion="1.32",
            vpcId="vpc-0123456789abcdef0",
            subnetIds='["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]',
            secretsManagerKmsKeyArn=kms,
            sqsQueues='["jobs.fifo", "judge_queue"]',
            inferenceQueue="jobs.fifo",
            clusterAdminPrincipals=json.dumps(admins),
            clusterPreviewRoleArn="arn:aws:iam::111122223333:role/preview/pulumi-preview",
        ),
        {TOKEN_KEY},
        "eks",
    )
    eks = config.eks
    assert eks is not None
    assert (eks.region, eks.external_secrets_chart_version, eks.kubernetes_version) == (
        "us-gov-west-1",
        "0.10.4",
        "1.32",
    )
    assert (eks.vpc_id, eks.subnet_ids) == (
        "vpc-0123456789abcdef0",
        ("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
    )
    assert (eks.secrets_kms_key_arn, eks.sqs_queues, eks.inference_queue) == (
        kms,
        ("jobs.fifo", "judge_queue"),
        "jobs.fifo",
    )
    assert eks.cluster_admin_principals == tuple(admins)
    assert eks.cluster_preview_role_arn == "arn:aws:iam::111122223333:role/preview/pulumi-preview"
    existing = parse_config(eks_raw(existingClusterName="Shared_Prod-1"), {TOKEN_KEY}, "eks").eks
    assert existing is not None and existing.existing_cluster_name == "Shared_Prod-1"


@pytest.mark.parametrize(
    ("version", "ok"),
    [("4.4.0", True), ("4.5.1", True), ("4.0.12", True), ("5.4.0", False), ("3.4.4", False), ("4.4", False)],
)
def test_chart_version_is_judged_by_its_major(version, ok):
    given = raw(k8sMonitoringChartVersion=version)
    if ok:
        assert parse_config(given, {TOKEN_KEY}, "local").chart_version == version
    else:
        with pytest.raises(ConfigError, match="k8sMonitoringChartVersion = "):
            parse_config(given, {TOKEN_KEY}, "local")


@pytest.mark.parametrize(
    ("context", "ok"),
    [
        ("kind-llm-judge", True),
        ("my cluster!", True),  # inner spaces and punctuation are a context name's business
        ("arn:aws:eks:eu-west-1:111122223333:cluster/x", True),
        ("ctx\x1f", False),  # control characters (below 32) ...
        ("ctx\x7f", False),  # ... and DEL
        ("ctx\t", False),
        (" ctx", False),
    ],
)
def test_kube_context_is_free_text_without_control_characters(context, ok):
    given = raw(kubeContext=context)
    if ok:
        assert parse_config(given, {TOKEN_KEY}, "local").kube_context == context
    else:
        with pytest.raises(ConfigError, match="kubeContext = "):
            parse_config(given, {TOKEN_KEY}, "local")


def test_email_addresses_hold_at_their_length_limits():
    # RFC 5321 section 4.5.3.1: a local part of at most 64 octets, a path of 256 with its angle
    # brackets, so an address of at most 254.
    host = ".".join(["a" * 63, "b" * 63, "c" * 61, "dev"])  # 63+1+63+1+61+1+3 = 193 characters

    def address(local: int, domain: str = "example.com") -> str:
        return "l" * local + "@" + domain

    longest = address(60, host)
    assert len(longest) == 254
    for ok in (address(64), longest):
        config = parse_config(raw(alertEmailAddresses=json.dumps([ok])), {TOKEN_KEY}, "local")
        assert config.alert_email_addresses == (ok,)
    for refused in (address(65), address(61, host)):
        with pytest.raises(ConfigError, match="alertEmailAddresses = "):
            parse_config(raw(alertEmailAddresses=json.dumps([refused])), {TOKEN_KEY}, "local")


@pytest.mark.parametrize("url", ["https://wiki.example.com/{runbooks", "https://wiki.example.com/runbooks}"])
def test_a_single_brace_in_the_runbook_url_is_refused(url):
    with pytest.raises(ConfigError, match="runbookBaseUrl = "):
        parse_config(raw(runbookBaseUrl=url), {TOKEN_KEY}, "local")


@pytest.mark.parametrize(
    ("platform", "key"),
    [
        ("local", "clusterName"),
        ("local", "grafanaCloudStackSlug"),
        ("local", "k8sMonitoringChartVersion"),
        ("local", "kubeContext"),
        ("local", "grafanaCloudApiToken"),
        ("eks", "awsRegion"),
        ("eks", "externalSecretsChartVersion"),
    ],
)
def test_each_required_setting_missing_is_one_message_naming_it(platform, key):
    """README "Configuration": the rows marked required (and the required secret)."""
    given = raw() if platform == "local" else eks_raw()
    del given[f"{PROJECT}:{key}"]
    with pytest.raises(ConfigError) as raised:
        parse_config(given, {TOKEN_KEY}, platform)
    message = str(raised.value)
    assert message.count("\n  - ") == 1
    assert f"{PROJECT}:{key} is not set: it is required" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("awsRegion", "eu-west-1"),
        ("externalSecretsChartVersion", "2.10.0"),
        ("existingClusterName", "shared-prod"),
        ("kubernetesVersion", "1.33"),
        ("vpcId", "vpc-0123456789abcdef0"),
        ("subnetIds", '["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]'),
        ("nodeGroup", '{"minSize": 1}'),
        ("sqsQueues", '["inference_queue"]'),
        ("inferenceQueue", "inference_queue"),
        (
            "secretsManagerKmsKeyArn",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        ("clusterAdminPrincipals", '["arn:aws:iam::111122223333:role/admin"]'),
        ("clusterPreviewRoleArn", "arn:aws:iam::111122223333:role/preview"),
    ],
)
def test_an_eks_setting_on_the_local_platform_is_refused(key, value):
    """README "Configuration": the rows of platform eks; on a local stack nothing would read them."""
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(**{key: value}), {TOKEN_KEY}, "local")
    assert f"{PROJECT}:{key} = " in str(raised.value)
    assert "only applies to platform eks, and this stack is platform local; remove it" in str(raised.value)


def test_services_take_name_port_metrics_path_and_container():
    services = [
        {"name": "gateway-service", "port": 8000, "metricsPath": "/internal/metrics", "container": "app"},
        {"name": "worker", "port": 9000, "metricsPath": None},
    ]
    config = parse_config(
        raw(services=json.dumps(services), serviceRoles=json.dumps(ROLES)), {TOKEN_KEY}, "local"
    )
    assert [(s.name, s.port, s.metrics_path, s.container) for s in config.services] == [
        ("gateway-service", 8000, "/internal/metrics", "app"),
        ("worker", 9000, None, "worker"),  # the container defaults to the service name
    ]


ROLES = {"gateway": "gateway-service", "inference": "worker", "redis": "worker"}


@pytest.mark.parametrize(
    ("services", "culprit"),
    [
        ('{"name": "gateway-service"}', "services = "),  # not a list
        ("[]", "services = "),
        ('["gateway-service"]', "services = "),  # entries are objects
        ("not json", "services = "),
        ('[{"name": "a", "port": 1, "image": "x"}]', "services[0] = "),  # unknown field
        ('[{"port": 8000}]', "services[0] = "),
        ('[{"name": "a"}]', "services[0] = "),
        ('[{"name": "a", "port": 0}]', "services[0] = "),
        ('[{"name": "a", "port": 1}, {"name": "a", "port": 2}]', "services: service 'a' is listed twice"),
    ],
)
def test_bad_service_lists_are_one_message_naming_the_entry(services, culprit):
    with pytest.raises(ConfigError) as raised:
        parse_config(raw(services=services), {TOKEN_KEY}, "local")
    message = str(raised.value)
    assert message.count("\n  - ") == 1, message
    assert f"{PROJECT}:{culprit}" in message


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
