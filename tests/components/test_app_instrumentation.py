"""AppInstrumentation under mocks: patches of the user's objects, derived from the receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest

from builders.app_instrumentation import DEFAULT_SERVICES, KEY_METRICS_ENABLED, KEY_TRACES_ENDPOINT
from builders.k8s_monitoring_names import monitoring_names
from components.alloy_monitoring import RELEASE_NAME
from components.app_instrumentation import AppInstrumentation, AppInstrumentationArgs
from tests.support import alloy_monitoring, by_type, config_for, one, prepared, settled
from tools.program import prepare

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "appconfig.json"
DEPLOYMENT_PATCH = "kubernetes:apps/v1:DeploymentPatch"
CONFIGMAP_PATCH = "kubernetes:core/v1:ConfigMapPatch"


def cluster(namespace: str = "llm-judge", app_config: str | None = None, skip: str = "") -> dict:
    """The objects a user's cluster holds: the five Deployments and the app ConfigMap."""
    objects = {
        ("kubernetes:apps/v1:Deployment", f"{namespace}/{s.name}"): {
            "metadata": {"name": s.name, "namespace": namespace}
        }
        for s in DEFAULT_SERVICES
        if s.name != skip
    }
    if skip != "appconfig":
        objects[("kubernetes:core/v1:ConfigMap", f"{namespace}/appconfig")] = {
            "metadata": {"name": "appconfig", "namespace": namespace},
            "data": {"appconfig.json": app_config if app_config is not None else FIXTURE.read_text()},
        }
    return objects


def start(namespace: str = "llm-judge", existing: dict | None = None, **overrides):
    config, secret_keys = config_for("local", namespace=namespace, **overrides)
    run = prepare("local", config, secret_keys, existing=cluster(namespace) if existing is None else existing)
    return run.start()


def env_of(patch) -> dict[str, str]:
    (container,) = patch.inputs["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


@pulumi.runtime.test
def test_one_patch_per_service_pointing_at_the_receiver_of_the_release():
    run = start()

    def check(run):
        patches = {p.inputs["metadata"]["name"]: p for p in by_type(run, DEPLOYMENT_PATCH)}
        assert set(patches) == {s.name for s in DEFAULT_SERVICES}
        receiver = monitoring_names(RELEASE_NAME, "llm-judge")
        for service in DEFAULT_SERVICES:
            env = env_of(patches[service.name])
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{receiver.receiver_host}:4318"
            assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
            assert env["OTEL_SERVICE_NAME"] == service.name
            attributes = dict(kv.split("=") for kv in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
            assert attributes == {
                "deployment.environment": "local",
                "service.namespace": "llm-judge",
                "k8s.cluster.name": "llm-judge-local",
            }
            assert env["OTEL_SEMCONV_STABILITY_OPT_IN"] == "http"
            annotations = patches[service.name].inputs["spec"]["template"]["metadata"]["annotations"]
            assert annotations["prometheus.io/port"] == str(service.port)

    return settled(run, check)


@pulumi.runtime.test
def test_endpoint_follows_the_namespace():
    run = start(namespace="judge-staging")

    def check(run):
        patches = by_type(run, DEPLOYMENT_PATCH)
        # One patch per service first: a loop over no patches at all would prove nothing.
        assert sorted(p.inputs["metadata"]["name"] for p in patches) == sorted(
            s.name for s in DEFAULT_SERVICES
        )
        for patch in patches:
            assert patch.inputs["metadata"]["namespace"] == "judge-staging"
            assert ".judge-staging.svc.cluster.local:4318" in env_of(patch)["OTEL_EXPORTER_OTLP_ENDPOINT"]

    return settled(run, check)


@pulumi.runtime.test
def test_app_config_keeps_every_other_entry():
    run = start()

    def check(run):
        patch = one(run, CONFIGMAP_PATCH)
        merged = json.loads(patch.inputs["data"]["appconfig.json"])
        original = json.loads(FIXTURE.read_text())
        ours = {k for k in merged if k.startswith("observability")}
        assert {k: v for k, v in merged.items() if k not in ours} == {
            k: v for k, v in original.items() if k not in ours
        }
        assert [k for k in merged if k not in ours] == [k for k in original if k not in ours]
        receiver = monitoring_names(RELEASE_NAME, "llm-judge")
        assert merged[KEY_TRACES_ENDPOINT] == f"http://{receiver.receiver_host}:4318/v1/traces"
        assert merged["observability.traces.sample_rate"] == 1.0

    return settled(run, check)


@pulumi.runtime.test
def test_patches_use_our_field_manager_and_the_config_survives_destroy():
    run = start()

    def check(run):
        # The user's own objects, by name, in the services' namespace (appConfigMapName's default).
        assert {
            (p.inputs["metadata"]["name"], p.inputs["metadata"]["namespace"])
            for p in by_type(run, DEPLOYMENT_PATCH)
        } == {(s.name, "llm-judge") for s in DEFAULT_SERVICES}
        config_metadata = one(run, CONFIGMAP_PATCH).inputs["metadata"]
        assert (config_metadata["name"], config_metadata["namespace"]) == ("appconfig", "llm-judge")
        for patch in [*by_type(run, DEPLOYMENT_PATCH), one(run, CONFIGMAP_PATCH)]:
            annotations = patch.inputs["metadata"]["annotations"]
            assert annotations["pulumi.com/patchFieldManager"] == "llm-judge-observability"
            assert annotations["pulumi.com/patchForce"] == "true"
        assert one(run, CONFIGMAP_PATCH).retain_on_delete
        assert not any(p.retain_on_delete for p in by_type(run, DEPLOYMENT_PATCH))
        assert by_type(run, "kubernetes:apps/v1:Deployment") == []  # never owned, only read

    return settled(run, check)


@pulumi.runtime.test
def test_no_scrape_annotations_without_autodiscovery():
    run = start(features='{"annotationAutodiscovery": false}')

    def check(run):
        patches = by_type(run, DEPLOYMENT_PATCH)
        # The services are still patched (their OTel env), only without the scrape annotations.
        assert sorted(p.inputs["metadata"]["name"] for p in patches) == sorted(
            s.name for s in DEFAULT_SERVICES
        )
        for patch in patches:
            assert "metadata" not in patch.inputs["spec"]["template"]
            assert env_of(patch)["OTEL_SERVICE_NAME"] == patch.inputs["metadata"]["name"]

    return settled(run, check)


def _metrics_enabled(run) -> object:
    return json.loads(one(run, CONFIGMAP_PATCH).inputs["data"]["appconfig.json"])[KEY_METRICS_ENABLED]


@pulumi.runtime.test
def test_turning_autodiscovery_off_keeps_the_services_otlp_metrics_on():
    # Every service alert and the LLM Judge dashboard read the OTLP metrics; the scrape annotations
    # are another source. Dropping the annotations must not tell the services to stop sending them.
    run = start(features='{"annotationAutodiscovery": false}')

    def check(run):
        assert _metrics_enabled(run) is True
        assert all("metadata" not in p.inputs["spec"]["template"] for p in by_type(run, DEPLOYMENT_PATCH))

    return settled(run, check)


@pulumi.runtime.test
def test_otlp_metrics_follow_the_receiver():
    # Without applicationObservability nothing takes OTLP metrics in: the services are told not to send.
    run = start(features='{"applicationObservability": false}')

    def check(run):
        assert _metrics_enabled(run) is False
        patches = by_type(run, DEPLOYMENT_PATCH)
        assert len(patches) == len(DEFAULT_SERVICES)
        for patch in patches:
            assert "prometheus.io/scrape" in patch.inputs["spec"]["template"]["metadata"]["annotations"]

    return settled(run, check)


def deploy(existing: dict) -> None:
    """A whole run against `existing`; failures surface when the run settles."""

    @pulumi.runtime.test
    def run_program():
        run = prepare("local", *config_for("local"), existing=existing).start()
        return settled(run, lambda run: None)

    run_program()


def test_missing_deployment_stops_the_run_naming_it():
    with pytest.raises(
        Exception, match="'llm-judge/judge-service' of type kubernetes:apps/v1:Deployment does not exist"
    ):
        deploy(cluster(skip="judge-service"))


def test_missing_config_map_stops_the_run_naming_it():
    with pytest.raises(
        Exception, match="'llm-judge/appconfig' of type kubernetes:core/v1:ConfigMap does not exist"
    ):
        deploy(cluster(skip="appconfig"))


def test_missing_app_config_key_is_one_clear_error():
    existing = cluster()
    existing[("kubernetes:core/v1:ConfigMap", "llm-judge/appconfig")]["data"] = {"other.json": "{}"}
    with pytest.raises(Exception, match=r"ConfigMap llm-judge/appconfig key appconfig.json does not exist"):
        deploy(existing)


def test_app_config_that_is_not_json_is_refused_naming_it():
    with pytest.raises(Exception, match=r"ConfigMap llm-judge/appconfig key appconfig\.json"):
        deploy(cluster(app_config="not: json"))


@pulumi.runtime.test
def test_endpoint_follows_the_release_name():
    monitoring = alloy_monitoring("observability", namespace="llm-judge")
    provider = k8s.Provider("apps-k8s")
    apps = AppInstrumentation(
        "apps",
        AppInstrumentationArgs(
            namespace="llm-judge",
            services=DEFAULT_SERVICES,
            receiver_host=monitoring.receiver_host,
            otlp_grpc_port=monitoring.otlp_grpc_port,
            otlp_http_port=monitoring.otlp_http_port,
            deployment_environment="dev",
            cluster_name="c1",
            trace_sample_rate=0.5,
            export_logs_to_loki=True,
            send_otlp_metrics=True,
            scrape_annotations=True,
            app_config_map="appconfig",
            app_config_key="appconfig.json",
            k8s_provider=provider,
        ),
    )
    expected = "http://observability-alloy-receiver.llm-judge.svc.cluster.local:4318"
    return pulumi.Output.all(apps.otlp_endpoint, apps.traces_endpoint).apply(
        lambda endpoints: _assert_equal(endpoints, [expected, f"{expected}/v1/traces"])
    )


def _assert_equal(actual, expected) -> None:
    assert actual == expected


@pulumi.runtime.test
def test_a_new_eks_cluster_is_not_patched_until_its_services_exist():
    run = prepared("eks").start()  # Pulumi.eks.yaml: appInstrumentation false (a new cluster)

    def check(run):
        assert by_type(run, DEPLOYMENT_PATCH) == [] and by_type(run, CONFIGMAP_PATCH) == []
        assert run.mocks.read == []  # nothing is read from a cluster that cannot hold it yet

    return settled(run, check)


@pulumi.runtime.test
def test_eks_with_services_gets_the_same_patches():
    run = prepared("eks", features='{"appInstrumentation": true}').start()
    return settled(run, lambda run: _count(by_type(run, DEPLOYMENT_PATCH), len(DEFAULT_SERVICES)))


def _count(found, expected: int) -> None:
    assert len(found) == expected
