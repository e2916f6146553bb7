"""Bad stack config: one clear error naming key, value and what is allowed; nothing declared."""

from __future__ import annotations

import pulumi
import pytest

from tests.support import DELETE, config_for, prepared
from tools.program import prepare

DNS = "DNS-1123 label"
CASES = [
    # (key, bad value or DELETE, fragments the message must hold)
    ("clusterName", "LLM_Judge", ['clusterName = "LLM_Judge"', DNS]),
    ("clusterName", "-judge", ['clusterName = "-judge"', DNS]),
    ("clusterName", "a" * 64, ["clusterName = ", "at most 63 characters"]),
    ("clusterName", DELETE, ["clusterName is not set", "required", DNS]),
    ("namespace", "llm judge", ['namespace = "llm judge"', DNS]),
    (
        "grafanaCloudStackSlug",
        "My-Stack",
        ['grafanaCloudStackSlug = "My-Stack"', "lowercase letters and digits"],
    ),
    ("grafanaCloudStackSlug", "1stack", ['grafanaCloudStackSlug = "1stack"', "starting with a letter"]),
    ("kubeContext", " ", ['kubeContext = " "', "context in your kubeconfig"]),
    ("kubeContext", DELETE, ["kubeContext is not set", "required on platform local"]),
    ("awsRegion", "eu-west-1", ['awsRegion = "eu-west-1"', "only applies to platform eks"]),
    ("services", '[{"name": "gateway-service", "port": 0}]', ["services[0]", "port 0 must be an integer"]),
    ("appConfigMapName", "App_Config", ['appConfigMapName = "App_Config"', "DNS-1123 subdomain"]),
    ("k8sMonitoringChartVersion", "4.4", ['k8sMonitoringChartVersion = "4.4"', "exact chart version"]),
    ("k8sMonitoringChartVersion", "^4.4.0", ['k8sMonitoringChartVersion = "^4.4.0"', "MAJOR.MINOR.PATCH"]),
    ("k8sMonitoringChartVersion", "1.6.0", ['k8sMonitoringChartVersion = "1.6.0"', "of major 4"]),
    ("k8sMonitoringChartVersion", "4.4.0-rc.1", ['= "4.4.0-rc.1"', "exact chart version"]),
    ("traceSampleRate", "1.5", ['traceSampleRate = "1.5"', "a number from 0 to 1"]),
    ("traceSampleRate", "-0.1", ['traceSampleRate = "-0.1"', "a number from 0 to 1"]),
    ("traceSampleRate", "all", ['traceSampleRate = "all"', "a number from 0 to 1"]),
    ("traceSampleRate", "nan", ['traceSampleRate = "nan"', "a number from 0 to 1"]),
    ("collectorTokenLifetimeDays", "0", ['collectorTokenLifetimeDays = "0"', "days from 2 to 365"]),
    ("collectorTokenLifetimeDays", "90d", ['collectorTokenLifetimeDays = "90d"', "whole number of days"]),
    ("collectorTokenLifetimeDays", "400", ['collectorTokenLifetimeDays = "400"', "days from 2 to 365"]),
    ("collectorTokenRotateBeforeDays", "90", ["collectorTokenRotateBeforeDays = 90", "fewer days than"]),
    ("platform", "gke", ['platform = "gke"', "one of local, eks"]),
    ("platform", DELETE, ["platform is not set", "one of local, eks"]),
    ("deploymentEnvironment", "prod env", ['deploymentEnvironment = "prod env"', "letters, digits"]),
    (
        "features",
        '{"costMetric": true}',
        ["features.costMetric is not a feature", "did you mean costMetrics?"],
    ),
    ("features", '{"costMetrics": "yes"}', ['features.costMetrics = "yes"', "must be true or false"]),
    ("features", "[true]", ['features = "[true]"', "an object of feature names"]),
    ("clustrName", "llm-judge", ["clustrName is not a setting", "did you mean clusterName?"]),
    ("grafanaCloudApiToken", DELETE, ["grafanaCloudApiToken is not set", "pulumi config set --secret"]),
    (
        "alertEmailAddresses",
        '["<example@email.com>"]',
        ['alertEmailAddresses = "["<example@email.com>"]"', "email addresses", "--path"],
    ),
    (
        "alertEmailAddresses",
        DELETE,  # and neither Slack nor PagerDuty: alerts would reach nobody
        ["no alert destination is set", "slackWebhookUrl", "pagerdutyIntegrationKey", "features.alerting"],
    ),
]


@pytest.mark.parametrize(
    ("key", "value", "fragments"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
@pulumi.runtime.test
def test_bad_value_is_one_clear_error_before_any_resource(key, value, fragments):
    run = prepared("local", **{key: value})
    with pytest.raises(pulumi.RunError) as raised:
        run.start()
    message = str(raised.value)
    assert message.startswith("Invalid configuration in Pulumi.local.yaml:")
    assert f"llm-judge-observability:{key}" in message
    for fragment in fragments:
        assert fragment in message
    assert message.count("\n  - ") == 1, f"expected exactly one problem, got:\n{message}"
    assert run.monitor.registrations == []


@pulumi.runtime.test
def test_token_in_plain_text_is_refused_without_echoing_it():
    config, _ = config_for("local", grafanaCloudApiToken="glc_plaintext_value")
    run = prepare("local", config, secret_keys=[])  # set without --secret
    with pytest.raises(pulumi.RunError) as raised:
        run.start()
    message = str(raised.value)
    assert "grafanaCloudApiToken is stored in plain text" in message
    assert "glc_plaintext_value" not in message
    assert run.monitor.registrations == []


@pulumi.runtime.test
def test_several_problems_are_reported_together():
    run = prepared("local", clusterName="Bad_Name", traceSampleRate="3")
    with pytest.raises(pulumi.RunError) as raised:
        run.start()
    assert "clusterName" in str(raised.value) and "traceSampleRate" in str(raised.value)
    assert run.monitor.registrations == []
