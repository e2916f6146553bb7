"""AlloyMonitoring under mocks: the pinned, safe Helm release and the names it hands on."""

from __future__ import annotations

import pulumi

from builders.credentials import KEYS, SECRET_NAME
from builders.k8s_monitoring_names import COLLECTORS
from components.alloy_monitoring import RELEASE_NAME
from tests.support import alloy_monitoring, one, prepared, settled
from tools.chart_check import check_values
from tools.mocks import unwrap
from tools.synth import helm_values

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def release_values(run) -> dict:
    """The k8s-monitoring release's values as the program declared them."""
    values = helm_values(run.monitor.registrations)
    assert values is not None
    return values


@pulumi.runtime.test
def test_release_is_pinned_waits_and_rolls_back():
    run = prepared("local").start()

    def check(run):
        release = one(run, HELM_RELEASE)
        assert release.inputs["name"] == RELEASE_NAME
        assert release.inputs["namespace"] == "llm-judge"
        assert release.inputs["chart"] == "k8s-monitoring"
        assert release.inputs["version"] == "4.4.0"  # Pulumi.local.yaml, exact
        # Grafana's chart repository (https://github.com/grafana/helm-charts#usage).
        assert release.inputs["repositoryOpts"] == {"repo": "https://grafana.github.io/helm-charts"}
        assert release.inputs["atomic"] is True
        assert release.inputs["cleanupOnFail"] is True
        assert release.inputs["timeout"] == 600  # ten minutes: image pulls on a fresh local cluster
        assert not release.inputs.get("skipAwait", False)
        # The namespace is the program's own (components/namespace.py), never Helm's; ten
        # revisions of history (Helm's storage Secrets in the namespace) are kept.
        assert (release.inputs["createNamespace"], release.inputs["maxHistory"]) == (False, 10)
        assert release.provider_name == "local-cluster"

    return settled(run, check)


@pulumi.runtime.test
def test_release_waits_for_the_credentials_secret():
    run = prepared("local").start()

    def check(run):
        release = one(run, HELM_RELEASE)
        # depends_on a component means on its children: the Secret itself.
        assert one(run, "kubernetes:core/v1:Secret").urn in release.dependencies

    return settled(run, check)


@pulumi.runtime.test
def test_program_values_pass_the_chart_checks_and_carry_no_credential():
    run = prepared("local").start()

    def check(run):
        values = release_values(run)
        assert check_values(values) == []
        text = repr(unwrap(one(run, HELM_RELEASE).inputs))
        assert "placeholder-token" not in text and "placeholder-secret" not in text
        metrics = values["destinations"]["grafana-cloud-metrics"]
        assert metrics["secret"] == {"create": False, "name": SECRET_NAME, "namespace": "llm-judge"}
        assert metrics["auth"]["passwordKey"] == KEYS.token
        assert metrics["url"].endswith("/api/prom/push")  # from the Grafana Cloud stack lookup

    return settled(run, check)


@pulumi.runtime.test
def test_names_follow_the_release_name_and_namespace():
    component = alloy_monitoring("obs")

    def check(values):
        host, grpc, http, accounts, metrics_account = values
        assert host == "obs-alloy-receiver.obs-ns.svc.cluster.local"
        assert (grpc, http) == (4317, 4318)
        assert accounts == {c: f"obs-{c}" for c in COLLECTORS}
        assert metrics_account == "obs-alloy-metrics"

    return pulumi.Output.all(
        component.receiver_host,
        component.otlp_grpc_port,
        component.otlp_http_port,
        component.service_accounts,
        component.metrics_service_account,
    ).apply(check)


@pulumi.runtime.test
def test_default_release_gives_the_designs_receiver_service():
    component = alloy_monitoring(RELEASE_NAME)
    return component.receiver_host.apply(
        lambda host: _equal(host, "grafana-k8s-monitoring-alloy-receiver.obs-ns.svc.cluster.local")
    )


def _equal(actual, expected) -> None:
    assert actual == expected


@pulumi.runtime.test
def test_pod_logs_namespaces_reach_the_release():
    run = prepared("local", podLogsNamespaces='["llm-judge", "payments"]').start()

    def check(run):
        values = release_values(run)
        assert values["podLogsViaLoki"]["namespaces"] == ["llm-judge", "payments"]

    return settled(run, check)


LOCAL_FEATURES_WITHOUT_LOGS_AND_COST = (
    '{"clusterMetrics": true, "costMetrics": false, "clusterEvents": true, "podLogs": false, '
    '"annotationAutodiscovery": true, "applicationObservability": true, "collectorSelfMetrics": true, '
    '"appInstrumentation": true, "alerting": true, "dashboards": true}'
)


@pulumi.runtime.test
def test_the_stacks_features_reach_the_release_and_the_secret():
    run = prepared("local", features=LOCAL_FEATURES_WITHOUT_LOGS_AND_COST).start()

    def check(run):
        values = release_values(run)
        assert "podLogsViaLoki" not in values and "costMetrics" not in values
        assert "alloy-logs" not in values["collectors"]
        secret = one(run, "kubernetes:core/v1:Secret")
        assert KEYS.opencost_token not in unwrap(secret.inputs["stringData"])

    return settled(run, check)


@pulumi.runtime.test
def test_the_eks_release_carries_the_cloudwatch_exporter():
    run = prepared("eks").start()

    def check(run):
        values = release_values(run)
        metrics = values["collectors"]["alloy-metrics"]
        assert "prometheus.exporter.cloudwatch" in metrics["extraConfig"]
        assert metrics["includeDestinations"] == ["grafana-cloud-metrics"]

    return settled(run, check)


@pulumi.runtime.test
def test_opencosts_pod_is_keyed_to_its_tokens_expiry():
    """A rotated token gets a new expiry, the annotation a new value, OpenCost a new pod."""
    run = prepared("local").start()

    def check(run):
        values = release_values(run)
        annotations = values["telemetryServices"]["opencost"]["podAnnotations"]
        # The mocks' clock (2026-01-01) plus collectorTokenLifetimeDays (90, Pulumi.local.yaml).
        assert annotations == {"llm-judge-observability/credentials-version": "2026-04-01T00:00:00Z"}

    return settled(run, check)
