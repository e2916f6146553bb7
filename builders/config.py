"""Typed stack configuration: parsed once from the raw Pulumi config, validated as a whole.

`parse_config` is pure: it takes the raw key/value strings Pulumi holds for the stack and
returns a `StackConfig`, or raises one `ConfigError` that lists every problem, each naming
the key, the value given and what is allowed. Secret values never pass through here: only
their presence and secrecy are checked; `stackconfig.py` reads them as `Output` secrets.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from builders import cloudwatch
from builders.app_instrumentation import DEFAULT_SERVICES, ServiceSpec
from builders.dashboards import ServiceRoles
from builders.features import FeatureToggles
from builders.k8s_monitoring import ALL_NAMESPACES
from builders.names import DNS1123_LABEL

PROJECT = "llm-judge-observability"

Platform = Literal["local", "eks"]
PLATFORMS: tuple[Platform, ...] = ("local", "eks")
ExternalSecretsOperator = Literal["install", "existing"]
EXTERNAL_SECRETS_OPERATORS: tuple[ExternalSecretsOperator, ...] = ("install", "existing")

_STACK_SLUG = re.compile(r"^[a-z][a-z0-9]{1,28}$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_HTTPS_URL = re.compile(r"^https://[^\s#]+$")
_EKS_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_K8S_VERSION = re.compile(r"^1\.\d{2}$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
# An IAM role or user (with its path, if any), the principals EKS access entries take. Not an STS
# assumed-role session ARN: an access entry names the role itself.
# https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:(role|user)(/[A-Za-z0-9_+=,.@-]+)+$")
_IAM_ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role(/[A-Za-z0-9_+=,.@-]+)+$")
# The values builder speaks the 4.x schema; another major would be accepted by Helm and
# then silently misread, as the plan's 1.x values are by 4.x.
SUPPORTED_CHART_MAJOR = 4
DEFAULT_RUNBOOKS = "https://github.com/llm-judge/llm-judge-observability/blob/main/docs/runbooks.md"
# An address as Grafana's email integration takes it: an RFC 5322 addr-spec with a dot-atom local
# part and a DNS host name (at least two labels, an alphabetic top-level one); no display name, no
# angle brackets, no IP literal. The form is checked; whether the mailbox exists cannot be.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# The address of Grafana's built-in `grafana-default-email` contact point: a placeholder nobody reads
# (grafana/grafana PR #113341: "configured with a placeholder email address `<example@email.com>`").
GRAFANA_PLACEHOLDER_EMAIL = "example@email.com"
ALERT_DESTINATION_KEYS = ("alertEmailAddresses", "slackWebhookUrl", "pagerdutyIntegrationKey")


class ConfigError(Exception):
    """Bad stack configuration. The message is meant for the user, as it is."""


@dataclass(frozen=True)
class SecretSetting:
    key: str
    required: bool
    purpose: str


# Secret settings: only presence and secrecy are checked here; values stay Outputs.
SECRETS: tuple[SecretSetting, ...] = (
    SecretSetting(
        "grafanaCloudApiToken",
        required=True,
        purpose="Grafana Cloud access-policy token the program uses to manage access policies",
    ),
    SecretSetting("slackWebhookUrl", required=False, purpose="Slack incoming-webhook URL for warning alerts"),
    SecretSetting(
        "pagerdutyIntegrationKey",
        required=False,
        purpose="PagerDuty Events API v2 integration key for critical alerts",
    ),
)


@dataclass(frozen=True)
class TokenPolicy:
    """Lifetime of the collectors' Grafana Cloud token and when it is rotated."""

    lifetime_days: int = 90
    rotate_before_days: int = 30

    @property
    def expire_after(self) -> str:
        """Provider duration syntax (hours are its largest unit)."""
        return f"{self.lifetime_days * 24}h"

    @property
    def early_rotation_window(self) -> str:
        return f"{self.rotate_before_days * 24}h"


@dataclass(frozen=True)
class NodeGroup:
    """The managed node group of a cluster the program creates."""

    instance_types: tuple[str, ...] = ("t3.large",)
    min_size: int = 2
    desired_size: int = 2
    max_size: int = 4


@dataclass(frozen=True)
class EksSettings:
    """Platform eks: where the cluster is and what the AWS side collects."""

    region: str
    # The external-secrets chart the program installs; None with external_secrets_operator "existing".
    external_secrets_chart_version: str | None
    existing_cluster_name: str | None = None
    # "install": the program installs External Secrets (a created cluster, or an existing one without
    # it); "existing": the cluster runs it already, the program only adds a SecretStore and the
    # ExternalSecret in the namespace (README "Using a cluster's own External Secrets").
    external_secrets_operator: ExternalSecretsOperator = "install"
    kubernetes_version: str = "1.33"
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    node_group: NodeGroup = field(default_factory=NodeGroup)
    sqs_queues: tuple[str, ...] = (cloudwatch.DEFAULT_INFERENCE_QUEUE,)
    secrets_kms_key_arn: str | None = None
    inference_queue: str = cloudwatch.DEFAULT_INFERENCE_QUEUE  # one of sqs_queues: the backlog alert's
    # Access to a cluster the program creates (EKS access entries it manages).
    cluster_admin_principals: tuple[str, ...] = ()
    cluster_preview_role_arn: str | None = None


@dataclass(frozen=True)
class StackConfig:
    stack: str
    platform: Platform
    cluster_name: str
    grafana_cloud_stack_slug: str
    chart_version: str
    namespace: str = "llm-judge"
    kube_context: str | None = None
    deployment_environment: str = ""
    trace_sample_rate: float = 1.0
    runbook_base_url: str = DEFAULT_RUNBOOKS
    collector_token: TokenPolicy = field(default_factory=TokenPolicy)
    features: FeatureToggles = field(default_factory=FeatureToggles)
    services: tuple[ServiceSpec, ...] = DEFAULT_SERVICES
    service_roles: ServiceRoles = field(default_factory=ServiceRoles)
    app_config_map: str = "appconfig"
    app_config_key: str = "appconfig.json"
    alert_email_addresses: tuple[str, ...] = ()  # the program's own email contact point
    # Whose pod logs are collected: None, `namespace` alone; ("*",), every namespace.
    pod_logs_namespaces: tuple[str, ...] | None = None
    eks: EksSettings | None = None


# --- value parsers: each returns the typed value or raises ValueError ---


def _matching(regex: re.Pattern[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not regex.fullmatch(raw):
            raise ValueError(raw)
        return raw

    return parse


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(raw)
        return raw

    return parse


def _chart_version(raw: str) -> str:
    match = _SEMVER.fullmatch(raw)
    if not match or int(match.group(1)) != SUPPORTED_CHART_MAJOR:
        raise ValueError(raw)
    return raw


def _fraction(raw: str) -> float:
    # float() alone would also take " 1\n", "1_0" and "nan".
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", raw):
        raise ValueError(raw)
    value = float(raw)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(raw)
    return value


def _days(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not re.fullmatch(r"\d+", raw) or not low <= int(raw) <= high:
            raise ValueError(raw)
        return int(raw)

    return parse


def _non_empty(raw: str) -> str:
    # Free text (a kubeconfig context), but no surrounding spaces or control characters.
    if not raw.strip() or raw != raw.strip() or any(ord(char) < 32 or ord(char) == 127 for char in raw):
        raise ValueError(raw)
    return raw


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(raw) from None


def _id_list(regex: re.Pattern[str]) -> Callable[[str], tuple[str, ...]]:
    def parse(raw: str) -> tuple[str, ...]:
        given = _json(raw)
        if not isinstance(given, list) or not all(isinstance(v, str) and regex.fullmatch(v) for v in given):
            raise ValueError(raw)
        if len(set(given)) != len(given):
            raise ValueError(raw)
        return tuple(given)

    return parse


def _namespace_list(raw: str) -> tuple[str, ...]:
    """`podLogsNamespaces`: distinct namespace names, or ["*"] alone for every namespace."""
    if _json(raw) == [ALL_NAMESPACES]:
        return (ALL_NAMESPACES,)
    names = _id_list(DNS1123_LABEL)(raw)
    if not names:
        raise ValueError(raw)
    return names


def _email_addresses(raw: str) -> tuple[str, ...]:
    given = _json(raw)
    if not isinstance(given, list) or not given or not all(isinstance(a, str) for a in given):
        raise ValueError(raw)
    for address in given:
        if len(address) > 254 or len(address.split("@")[0]) > 64 or not _EMAIL.fullmatch(address):
            raise ValueError(raw)
        if address.lower() == GRAFANA_PLACEHOLDER_EMAIL:
            raise ValueError(raw)
    if len(set(given)) != len(given):
        raise ValueError(raw)
    return tuple(given)


_EMAIL_ALLOWED = (
    "a non-empty list of distinct email addresses such as oncall@yourcompany.com (no display names, "
    f"not Grafana's placeholder {GRAFANA_PLACEHOLDER_EMAIL}); set one with "
    "`pulumi config set --path 'alertEmailAddresses[0]' <address>`"
)


_NODE_GROUP_ALLOWED = (
    "an object {instanceTypes: [..], minSize, desiredSize, maxSize} with "
    "1 <= minSize <= desiredSize <= maxSize <= 100"
)


def _node_group(raw: str) -> NodeGroup:
    given = _json(raw)
    if not isinstance(given, dict) or set(given) - {"instanceTypes", "minSize", "desiredSize", "maxSize"}:
        raise ValueError(raw)
    if not isinstance(given.get("instanceTypes", []), list):  # null, a string, an object
        raise ValueError(raw)
    group = NodeGroup(
        instance_types=tuple(given.get("instanceTypes", NodeGroup.instance_types)),
        min_size=given.get("minSize", NodeGroup.min_size),
        desired_size=given.get("desiredSize", NodeGroup.desired_size),
        max_size=given.get("maxSize", NodeGroup.max_size),
    )
    sizes = (group.min_size, group.desired_size, group.max_size)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
        raise ValueError(raw)
    if not 1 <= group.min_size <= group.desired_size <= group.max_size <= 100:
        raise ValueError(raw)
    if not group.instance_types or not all(
        isinstance(t, str) and _INSTANCE_TYPE.fullmatch(t) for t in group.instance_types
    ):
        raise ValueError(raw)
    return group


def _sqs_queues(raw: str) -> tuple[str, ...]:
    given = _json(raw)
    if not isinstance(given, list) or not all(isinstance(queue, str) for queue in given):
        raise ValueError(raw)
    # The collector's own check (names, repeats, clashes once made Alloy labels), here before any
    # resource exists instead of inside the run.
    return tuple(cloudwatch.checked_queues(given))


_ROLES = tuple(ServiceRoles().by_role())


def _service_roles(raw: str) -> ServiceRoles:
    given = _json(raw)
    if not isinstance(given, dict) or set(given) - set(_ROLES):
        raise ValueError(raw)
    if not all(isinstance(name, str) and DNS1123_LABEL.fullmatch(name) for name in given.values()):
        raise ValueError(raw)
    return ServiceRoles(**given)


def _runbook_url(raw: str) -> str:
    # Grafana expands annotations as Go templates: `{{`/`}}` in the URL would be run, not linked.
    # Braces are not URL characters anyway (RFC 3986 section 2).
    if not _HTTPS_URL.fullmatch(raw) or "{" in raw or "}" in raw:
        raise ValueError(raw)
    return raw


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[str], Any]
    allowed: str
    required: bool = False
    platform: Platform | None = None  # set: the setting exists only on that platform


_DNS_LABEL_ALLOWED = (
    "a DNS-1123 label: lowercase letters, digits and '-', starting and ending "
    "with a letter or digit, at most 63 characters"
)

# Every non-secret setting; problems are reported in this order. The README's "Configuration" table
# documents each one (tests/builders/test_config.py checks that it lists exactly these keys).
SETTINGS: tuple[Setting, ...] = (
    Setting("platform", _one_of(PLATFORMS), "one of " + ", ".join(PLATFORMS), required=True),
    Setting("clusterName", _matching(DNS1123_LABEL), _DNS_LABEL_ALLOWED, required=True),
    Setting("namespace", _matching(DNS1123_LABEL), _DNS_LABEL_ALLOWED),
    Setting(
        "kubeContext",
        _non_empty,
        "the name of a context in your kubeconfig (no surrounding spaces or control characters)",
        True,
        "local",
    ),
    Setting(
        "grafanaCloudStackSlug",
        _matching(_STACK_SLUG),
        "a Grafana Cloud stack slug: 2-29 lowercase letters and digits, starting with a letter",
        required=True,
    ),
    Setting(
        "k8sMonitoringChartVersion",
        _chart_version,
        f"an exact chart version MAJOR.MINOR.PATCH of major {SUPPORTED_CHART_MAJOR}, e.g. 4.4.0",
        required=True,
    ),
    Setting(
        "deploymentEnvironment",
        _matching(_ENV_NAME),
        "letters, digits, '.', '_' and '-', at most 63 characters",
    ),
    Setting("traceSampleRate", _fraction, "a number from 0 to 1"),
    Setting(
        "runbookBaseUrl",
        _runbook_url,
        "an https:// URL of the runbooks page, without spaces, '#', '{' or '}' "
        "(Grafana expands {{ }} in alert annotations as templates)",
    ),
    Setting("alertEmailAddresses", _email_addresses, _EMAIL_ALLOWED),
    Setting(
        "podLogsNamespaces",
        _namespace_list,
        "a non-empty list of distinct namespace names (DNS-1123 labels) that includes `namespace`, "
        'or ["*"] for every namespace of the cluster',
    ),
    Setting("collectorTokenLifetimeDays", _days(2, 365), "a whole number of days from 2 to 365"),
    Setting("collectorTokenRotateBeforeDays", _days(1, 364), "a whole number of days from 1 to 364"),
    Setting(
        "appConfigMapName",
        _matching(_DNS1123_SUBDOMAIN),
        "the name of the services' existing ConfigMap (a DNS-1123 subdomain)",
    ),
    Setting("appConfigKey", _matching(_CONFIGMAP_KEY), "a ConfigMap key: letters, digits, '-', '_' and '.'"),
    # Structured values; their content is checked entry by entry in _features and _services.
    Setting("features", str, "an object of feature names to true/false"),
    Setting("services", str, "a list of services"),
    Setting(
        "serviceRoles",
        _service_roles,
        "an object {gateway, inference, redis}, each the name of one of the services",
    ),
    # Platform eks only.
    Setting("awsRegion", cloudwatch.validate_region, "an AWS region such as eu-west-1", True, "eks"),
    Setting(
        "externalSecretsChartVersion",
        _matching(_SEMVER),
        "an exact chart version MAJOR.MINOR.PATCH of the external-secrets chart",
        platform="eks",
    ),
    Setting(
        "externalSecretsOperator",
        _one_of(EXTERNAL_SECRETS_OPERATORS),
        "install (the program installs External Secrets) or existing (the cluster's own installation, "
        "with existingClusterName)",
        platform="eks",
    ),
    Setting(
        "existingClusterName",
        _matching(_EKS_NAME),
        "the name of an existing EKS cluster (letters, digits, '-', '_', at most 100 characters)",
        platform="eks",
    ),
    Setting("kubernetesVersion", _matching(_K8S_VERSION), "a minor version such as 1.33", platform="eks"),
    Setting("vpcId", _matching(_VPC_ID), "a VPC id such as vpc-0abc1234", platform="eks"),
    Setting("subnetIds", _id_list(_SUBNET_ID), "a list of subnet ids (subnet-0abc1234)", platform="eks"),
    Setting("nodeGroup", _node_group, _NODE_GROUP_ALLOWED, platform="eks"),
    Setting(
        "sqsQueues",
        _sqs_queues,
        "a non-empty list of distinct SQS queue names (1-80 characters: A-Z, a-z, 0-9, '-', '_', "
        "a FIFO queue's ending in '.fifo'), still distinct with '-' and '.' read as '_'",
        platform="eks",
    ),
    Setting(
        "inferenceQueue",
        cloudwatch.validate_queue_name,
        "the name of one of the sqsQueues: the queue the backlog alert watches",
        platform="eks",
    ),
    Setting(
        "secretsManagerKmsKeyArn",
        _matching(_KMS_KEY_ARN),
        "the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>)",
        platform="eks",
    ),
    Setting(
        "clusterAdminPrincipals",
        _id_list(_IAM_PRINCIPAL_ARN),
        "a list of IAM role or user ARNs (arn:aws:iam::<account>:role/<name> or :user/<name>, each once; "
        "not an assumed-role session ARN arn:aws:sts::...)",
        platform="eks",
    ),
    Setting(
        "clusterPreviewRoleArn",
        _matching(_IAM_ROLE_ARN),
        "an IAM role ARN (arn:aws:iam::<account>:role/<name>; "
        "not an assumed-role session ARN arn:aws:sts::...)",
        platform="eks",
    ),
)


def known_keys() -> tuple[str, ...]:
    return (*(s.key for s in SETTINGS), *(s.key for s in SECRETS))


def parse_config(raw: Mapping[str, Any], secret_keys: Collection[str], stack: str) -> StackConfig:
    """Validate every key of this project's namespace and build the typed config."""
    problems: list[str] = []
    ours = _project_keys(raw)
    problems += _unknown_keys(ours)
    values: dict[str, Any] = {}
    platform = ours.get("platform")
    for setting in SETTINGS:
        if setting.platform is not None and setting.platform != platform:
            if setting.key in ours and platform in PLATFORMS:
                problems.append(
                    f"{_full(setting.key)} = {_show(ours[setting.key])}: only applies to platform "
                    f"{setting.platform}, and this stack is platform {platform}; remove it"
                )
            continue
        if setting.key not in ours:
            if setting.required:
                where = f" on platform {setting.platform}" if setting.platform else ""
                problems.append(f"{_full(setting.key)} is not set: it is required{where} ({setting.allowed})")
            continue
        try:
            values[setting.key] = setting.parse(_as_text(ours[setting.key]))
        except ValueError:
            problems.append(f"{_full(setting.key)} = {_show(ours[setting.key])}: must be {setting.allowed}")
    problems += _secret_problems(ours, {k for k in secret_keys})
    features = _features(ours.get("features"), problems)
    before_services = len(problems)
    services = _services(ours.get("services"), problems)
    services_ok = len(problems) == before_services
    problems += _cross_checks(values)
    problems += _alert_destination_problems(ours, features)
    problems += _role_problems(values, services if services_ok else None)
    problems.extend(_other_namespaces(raw))
    if problems:
        raise ConfigError(_message(stack, problems))
    return _build(stack, values, features, services)


def _project_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    prefix = PROJECT + ":"
    return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}


def _unknown_keys(ours: Mapping[str, Any]) -> list[str]:
    known = known_keys()
    problems = []
    for key in sorted(set(ours) - set(known)):
        hint = difflib.get_close_matches(key, known, n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else ""
        problems.append(
            f"{_full(key)} is not a setting of this program{suggestion}; known settings: {', '.join(known)}"
        )
    return problems


def _secret_problems(ours: Mapping[str, Any], secret_keys: set[str]) -> list[str]:
    problems = []
    for setting in SECRETS:
        full = _full(setting.key)
        if setting.key not in ours:
            if setting.required:
                problems.append(
                    f"{full} is not set: it is required ({setting.purpose}); "
                    f"set it with `pulumi config set --secret {setting.key} <value>`"
                )
        elif full not in secret_keys:
            # Value deliberately not shown: it is a credential stored in plain text.
            problems.append(
                f"{full} is stored in plain text: it must be a secret; "
                f"set it again with `pulumi config set --secret {setting.key} <value>`"
            )
    return problems


def _features(raw: Any, problems: list[str]) -> FeatureToggles:
    if raw is None:
        return FeatureToggles()
    names = FeatureToggles.config_names()
    allowed_obj = "an object of feature names to true/false: " + ", ".join(names)
    try:
        given = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        given = None
    if not isinstance(given, dict):
        problems.append(f"{_full('features')} = {_show(raw)}: must be {allowed_obj}")
        return FeatureToggles()
    toggles: dict[str, bool] = {}
    for name, value in given.items():
        key = f"{_full('features')}.{name}"
        if name not in names:
            hint = difflib.get_close_matches(name, list(names), n=1)
            suggestion = f" (did you mean {hint[0]}?)" if hint else ""
            problems.append(f"{key} is not a feature{suggestion}; known features: {', '.join(names)}")
        elif not isinstance(value, bool):
            problems.append(f"{key} = {_show(value)}: must be true or false")
        else:
            toggles[names[name]] = value
    return FeatureToggles(**toggles)


_SERVICE_FIELDS = {"name": "name", "port": "port", "metricsPath": "metrics_path", "container": "container"}
_SERVICES_ALLOWED = (
    "a list of objects with name (DNS-1123 label), port (1-65535), "
    "metricsPath ('/…' or null) and optional container"
)


def _services(raw: Any, problems: list[str]) -> tuple[ServiceSpec, ...]:
    if raw is None:
        return DEFAULT_SERVICES
    key = _full("services")
    try:
        given = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        given = None
    if not isinstance(given, list) or not given or not all(isinstance(s, dict) for s in given):
        problems.append(f"{key} = {_show(raw)}: must be {_SERVICES_ALLOWED}")
        return DEFAULT_SERVICES
    services: list[ServiceSpec] = []
    for index, entry in enumerate(given):
        unknown = sorted(set(entry) - set(_SERVICE_FIELDS))
        if unknown or "name" not in entry or "port" not in entry:
            problems.append(f"{key}[{index}] = {_show(entry)}: must be {_SERVICES_ALLOWED}")
            continue
        try:
            services.append(ServiceSpec(**{_SERVICE_FIELDS[k]: v for k, v in entry.items()}))
        except ValueError as err:
            problems.append(f"{key}[{index}] = {_show(entry)}: {err}")
    names = [s.name for s in services]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{key}: service {name!r} is listed twice; each service must appear once")
    return tuple(services)


def _cross_checks(values: Mapping[str, Any]) -> list[str]:
    problems = []
    lifetime = values.get("collectorTokenLifetimeDays", TokenPolicy.lifetime_days)
    before = values.get("collectorTokenRotateBeforeDays", TokenPolicy.rotate_before_days)
    if before >= lifetime:
        problems.append(
            f"{_full('collectorTokenRotateBeforeDays')} = {before}: must be fewer days than "
            f"{_full('collectorTokenLifetimeDays')} ({lifetime}), or the token would rotate on every run"
        )
    if ("vpcId" in values) != ("subnetIds" in values):
        problems.append(
            f"{_full('vpcId')} and {_full('subnetIds')}: set both (the cluster's VPC and its subnets) "
            "or neither (the account's default VPC)"
        )
    problems += _eks_access_checks(values)
    problems += _external_secrets_checks(values)
    pod_logs = values.get("podLogsNamespaces")
    namespace = values.get("namespace", "llm-judge")
    if pod_logs is not None and pod_logs != (ALL_NAMESPACES,) and namespace not in pod_logs:
        problems.append(
            f"{_full('podLogsNamespaces')} = {_show(list(pod_logs))}: must include the services' namespace "
            f"{_show(namespace)} (their logs are what the dashboard, the trace links and tools.verify read), "
            'or be ["*"] for every namespace'
        )
    return problems


def _eks_access_checks(values: Mapping[str, Any]) -> list[str]:
    """Cluster access and subnets: combinations that EKS or the program cannot honour."""
    problems = []
    # https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html: "at least two subnets
    # that are in different Availability Zones" (the zones themselves are checked at deploy time).
    if "subnetIds" in values and len(values["subnetIds"]) < 2:
        problems.append(
            f"{_full('subnetIds')} = {_show(list(values['subnetIds']))}: EKS needs subnets in at least two "
            "Availability Zones; list at least two"
        )
    preview = values.get("clusterPreviewRoleArn")
    if preview is not None and preview in values.get("clusterAdminPrincipals", ()):
        # EKS keeps one access entry per principal: it cannot be both admin and read-only.
        problems.append(
            f"{_full('clusterPreviewRoleArn')} = {_show(preview)}: is also in "
            f"{_full('clusterAdminPrincipals')}; a principal has one access entry, so it is either an admin "
            "or the read-only preview role"
        )
    if "existingClusterName" in values:
        for key in ("clusterAdminPrincipals", "clusterPreviewRoleArn"):
            if key in values:
                problems.append(
                    f"{_full(key)}: only applies to a cluster the program creates; with "
                    f"{_full('existingClusterName')} the cluster's owner manages its access entries "
                    '(see the README, "Cluster access"); remove it'
                )
    return problems


def _external_secrets_checks(values: Mapping[str, Any]) -> list[str]:
    """The chart version goes with installing External Secrets; using the cluster's own needs an existing
    cluster to have it."""
    if values.get("platform") != "eks":
        return []
    operator = values.get("externalSecretsOperator", "install")
    chart, mode = _full("externalSecretsChartVersion"), _full("externalSecretsOperator")
    if operator == "install" and "externalSecretsChartVersion" not in values:
        return [
            f"{chart} is not set: it is required on platform eks while the program installs External "
            f"Secrets (an exact chart version such as 2.10.0); or set {mode} to existing to use the "
            "External Secrets an existing cluster already runs"
        ]
    if operator == "existing" and "externalSecretsChartVersion" in values:
        return [
            f"{chart} = {_show(values['externalSecretsChartVersion'])}: only applies while the program "
            f"installs External Secrets, and {mode} is existing (the cluster's own installation); remove it"
        ]
    if operator == "existing" and "existingClusterName" not in values:
        return [
            f'{mode} = "existing": only with {_full("existingClusterName")}; a cluster the program creates '
            "runs no External Secrets until the program installs it (install, the default)"
        ]
    return []


def _alert_destination_problems(ours: Mapping[str, Any], features: FeatureToggles) -> list[str]:
    """With alerting on, at least one real destination: never Grafana's placeholder contact point."""
    if not features.alerting or any(key in ours for key in ALERT_DESTINATION_KEYS):
        return []
    email, slack, pagerduty = (_full(key) for key in ALERT_DESTINATION_KEYS)
    return [
        f"{_full('features')}.alerting is on but no alert destination is set: set {email} "
        "(`pulumi config set --path 'alertEmailAddresses[0]' <address>`), "
        f"{slack} or {pagerduty} (`pulumi config set --secret <key> <value>`), or turn alerting off "
        "with features.alerting: false. Without one, alerts would go to Grafana's grafana-default-email "
        f"contact point, whose address is the placeholder {GRAFANA_PLACEHOLDER_EMAIL}"
    ]


_ROLE_MEANING = {
    "gateway": "entry point",
    "inference": "service that calls the OpenAI API",
    "redis": "service that fronts Redis",
}


def _role_problems(values: Mapping[str, Any], services: tuple[ServiceSpec, ...] | None) -> list[str]:
    """The dashboard's and the alerts' roles name a listed service and a collected queue.

    `services` None: the services themselves are wrong, which is the one problem to report.
    """
    problems = []
    names = [service.name for service in services or ()]
    roles = values.get("serviceRoles", ServiceRoles())
    unknown = {role: name for role, name in roles.by_role().items() if name not in names}
    if services is None or not unknown:
        pass
    elif "serviceRoles" not in values:
        problems.append(
            f"{_full('serviceRoles')} is not set, and its defaults {unknown} are not among the "
            f"services {names}: set it to {{gateway, inference, redis}}, each one of the services "
            f"(the platform's {', '.join(_ROLE_MEANING.values())})"
        )
    else:
        problems += [
            f"{_full('serviceRoles')}.{role} = {_show(name)}: must be one of the services {names} "
            f"(the platform's {_ROLE_MEANING[role]})"
            for role, name in unknown.items()
        ]
    if values.get("platform") == "eks":
        queues = values.get("sqsQueues", EksSettings.sqs_queues)
        queue = values.get("inferenceQueue", cloudwatch.DEFAULT_INFERENCE_QUEUE)
        if queue not in queues:
            given = f" = {_show(queue)}" if "inferenceQueue" in values else f" (default {_show(queue)})"
            problems.append(
                f"{_full('inferenceQueue')}{given}: must be one of the sqsQueues {list(queues)} "
                "(the backlog alert watches it)"
            )
    return problems


# Namespaces of keys the program sees besides its own. `pulumi:` holds the engine's settings.
# Provider namespaces (`aws:`, `kubernetes:`, `grafana:`) configure only *default* providers
# (pulumi/pulumi docs/architecture/providers/default.md: default providers take "inputs sourced
# from the stack's configuration values for the relevant provider package"); this program passes
# every provider explicitly and the stack files disable the defaults, and an explicit provider
# ignores them (pulumi/pulumi-aws#1307: "by design ... configured independent of any aws:*
# config"). Such a key would be silently ignored, so it is refused like a typo.
ENGINE_NAMESPACE = "pulumi"
_WHERE_INSTEAD = {
    "aws": f"the AWS provider takes its region from {PROJECT}:awsRegion and its credentials from "
    "the environment (AWS_PROFILE, SSO, the CI's OIDC role)",
    "kubernetes": f"the cluster is {PROJECT}:kubeContext (local) or the EKS cluster (eks)",
    "grafana": f"the Grafana providers use {PROJECT}:grafanaCloudApiToken",
}


def _other_namespaces(raw: Mapping[str, Any]) -> list[str]:
    problems = []
    known = known_keys()
    for full in sorted(raw):
        namespace, _, key = full.partition(":")
        if namespace in (PROJECT, ENGINE_NAMESPACE):
            continue
        # The value is not shown: keys of other namespaces may be secrets.
        if difflib.get_close_matches(namespace, [PROJECT], n=1, cutoff=0.75):
            hint = difflib.get_close_matches(key, known, n=1)
            problems.append(
                f"{full}: namespace {namespace!r} is not this program's {PROJECT!r}, so nothing "
                f"reads it (did you mean {_full(hint[0] if hint else key)}?)"
            )
        else:
            instead = f" ({_WHERE_INSTEAD[namespace]})" if namespace in _WHERE_INSTEAD else ""
            problems.append(
                f"{full}: nothing reads it: the program passes every provider its settings "
                f"explicitly, and explicit providers ignore {namespace}: config{instead}; remove it"
            )
    return problems


def _build(
    stack: str, values: Mapping[str, Any], features: FeatureToggles, services: tuple[ServiceSpec, ...]
) -> StackConfig:
    token = TokenPolicy(
        lifetime_days=values.get("collectorTokenLifetimeDays", TokenPolicy.lifetime_days),
        rotate_before_days=values.get("collectorTokenRotateBeforeDays", TokenPolicy.rotate_before_days),
    )
    return StackConfig(
        stack=stack,
        platform=values["platform"],
        cluster_name=values["clusterName"],
        grafana_cloud_stack_slug=values["grafanaCloudStackSlug"],
        chart_version=values["k8sMonitoringChartVersion"],
        namespace=values.get("namespace", "llm-judge"),
        kube_context=values.get("kubeContext"),
        deployment_environment=values.get("deploymentEnvironment", stack),
        trace_sample_rate=values.get("traceSampleRate", 1.0),
        runbook_base_url=values.get("runbookBaseUrl", DEFAULT_RUNBOOKS),
        collector_token=token,
        features=features,
        services=services,
        service_roles=values.get("serviceRoles", ServiceRoles()),
        app_config_map=values.get("appConfigMapName", "appconfig"),
        app_config_key=values.get("appConfigKey", "appconfig.json"),
        alert_email_addresses=values.get("alertEmailAddresses", ()),
        pod_logs_namespaces=values.get("podLogsNamespaces"),
        eks=_eks(values) if values["platform"] == "eks" else None,
    )


def _eks(values: Mapping[str, Any]) -> EksSettings:
    defaults = EksSettings(region="", external_secrets_chart_version="")
    return EksSettings(
        region=values["awsRegion"],
        external_secrets_chart_version=values.get("externalSecretsChartVersion"),
        existing_cluster_name=values.get("existingClusterName"),
        external_secrets_operator=values.get("externalSecretsOperator", defaults.external_secrets_operator),
        kubernetes_version=values.get("kubernetesVersion", defaults.kubernetes_version),
        vpc_id=values.get("vpcId"),
        subnet_ids=values.get("subnetIds", ()),
        node_group=values.get("nodeGroup", defaults.node_group),
        sqs_queues=values.get("sqsQueues", defaults.sqs_queues),
        secrets_kms_key_arn=values.get("secretsManagerKmsKeyArn"),
        inference_queue=values.get("inferenceQueue", defaults.inference_queue),
        cluster_admin_principals=values.get("clusterAdminPrincipals", ()),
        cluster_preview_role_arn=values.get("clusterPreviewRoleArn"),
    )


def _full(key: str) -> str:
    return f"{PROJECT}:{key}"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


def _message(stack: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"Invalid configuration in Pulumi.{stack}.yaml:\n{lines}"


def epoch_seconds(rfc3339: str) -> int:
    """A provider timestamp (e.g. a token's `expiresAt`, 2026-04-01T00:00:00Z) as Unix seconds."""
    return int(dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())
