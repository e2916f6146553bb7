"""The k8s-monitoring values builder and the names derived from the release (pure, no Pulumi)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from builders import scrape_annotations
from builders.credentials import KEYS, SECRET_NAME
from builders.features import FeatureToggles
from builders.k8s_monitoring import (
    DASHBOARD_INCLUDES,
    DROPPED_OTLP_METRICS,
    METRICS_DESTINATION,
    MonitoringSpec,
    build_values,
    cpu_millicores,
    memory_bytes,
    node_requests,
    prometheus_query_url,
    workloads,
)
from builders.k8s_monitoring_names import monitoring_names

PROM_PUSH = "https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom/push"
GiB = 2**30


def make_spec(platform: str = "local", **changes: Any) -> MonitoringSpec:
    spec = MonitoringSpec(
        cluster_name=f"llm-judge-{platform}",
        namespace="llm-judge",
        release_name="grafana-k8s-monitoring",
        platform=platform,  # type: ignore[arg-type]
        prometheus_url=PROM_PUSH,
        loki_url="https://logs-prod-006.grafana.net/loki/api/v1/push",
        otlp_url="https://otlp-gateway-prod-us-east-0.grafana.net/otlp",
    )
    return dataclasses.replace(spec, **changes)


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) in a values tree, lists included."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, str(index)))


@pytest.fixture(params=["local", "eks"])
def platform(request: pytest.FixtureRequest) -> str:
    return request.param


# --- plain data, cluster ------------------------------------------------------------------


def test_values_are_plain_data(platform: str) -> None:
    for path, value in walk(build_values(make_spec(platform))):
        assert isinstance(value, (dict, list, str, int, bool)), (path, type(value))


def test_cluster_name_comes_from_spec() -> None:
    assert build_values(make_spec(cluster_name="my-cluster"))["cluster"] == {"name": "my-cluster"}


# --- destinations and credentials ---------------------------------------------------------


def test_destinations_read_credentials_from_the_secret_by_key(platform: str) -> None:
    spec = make_spec(platform, namespace="observability")
    destinations = build_values(spec)["destinations"]
    expected_user_keys = {
        "prometheus": KEYS.prometheus_user,
        "loki": KEYS.loki_user,
        "otlp": KEYS.instance_id,
    }
    assert {d["type"] for d in destinations.values()} == set(expected_user_keys)
    for destination in destinations.values():
        assert destination["secret"] == {"create": False, "name": SECRET_NAME, "namespace": "observability"}
        assert destination["auth"] == {
            "type": "basic",
            "usernameKey": expected_user_keys[destination["type"]],
            "passwordKey": KEYS.token,
        }


def test_destination_urls_come_from_spec() -> None:
    spec = make_spec()
    by_type = {d["type"]: d for d in build_values(spec)["destinations"].values()}
    assert by_type["prometheus"]["url"] == spec.prometheus_url
    assert by_type["loki"]["url"] == spec.loki_url
    assert by_type["otlp"]["url"] == spec.otlp_url


def test_traces_destination_is_otlp_http_traces_only() -> None:
    (otlp,) = [d for d in build_values(make_spec())["destinations"].values() if d["type"] == "otlp"]
    assert otlp["protocol"] == "http"
    assert otlp["traces"] == {"enabled": True}
    assert otlp["metrics"] == {"enabled": False}
    assert otlp["logs"] == {"enabled": False}


SECRET_FIELDS = {"password", "username", "bearerToken", "clientSecret", "token", "secretKey", "accessKey"}


def test_no_credential_value_in_values(platform: str) -> None:
    values = build_values(make_spec(platform))
    for path, value in walk(values):
        assert not (path and path[-1] in SECRET_FIELDS), f"credential field at {'.'.join(path)}"
        if isinstance(value, str):
            assert not value.startswith("glc_"), f"token-like value at {'.'.join(path)}"
    # the only places the Secret is named, and only key names from KEYS are used
    key_names = {
        v
        for p, v in walk(values)
        if p and p[-1] in {"usernameKey", "passwordKey", "username_key", "password_key"}
    }
    assert key_names <= {*KEYS.all(), KEYS.opencost_token}


# --- OpenCost -----------------------------------------------------------------------------


def test_opencost_reads_with_its_own_token_from_the_credentials_secret(platform: str) -> None:
    values = build_values(make_spec(platform))
    metrics = values["destinations"][METRICS_DESTINATION]
    opencost = values["telemetryServices"]["opencost"]
    # Not the guided setup: that one insists on the destination's (write-only) token key.
    assert opencost["metricsSource"] == "custom"
    prometheus = opencost["opencost"]["prometheus"]
    assert prometheus["existingSecretName"] == metrics["secret"]["name"]
    assert prometheus["username_key"] == metrics["auth"]["usernameKey"]  # the stack's Prometheus user
    assert prometheus["password_key"] == KEYS.opencost_token != metrics["auth"]["passwordKey"]


def test_opencost_queries_grafana_cloud_and_matches_cluster_name() -> None:
    values = build_values(make_spec(cluster_name="c1"))
    inner = values["telemetryServices"]["opencost"]["opencost"]
    assert inner["prometheus"]["external"] == {
        "enabled": True,
        "url": "https://prometheus-prod-13-prod-us-east-0.grafana.net/api/prom",
    }
    assert inner["exporter"]["defaultClusterId"] == "c1"


@pytest.mark.parametrize(
    ("remote_write", "query"),
    [
        (PROM_PUSH, PROM_PUSH.removesuffix("/push")),
        ("https://mimir.example/api/v1/push", "https://mimir.example/api/v1/query"),
        ("http://prometheus:9090/api/v1/write", "http://prometheus:9090/api/v1/query"),
    ],
)
def test_prometheus_query_url(remote_write: str, query: str) -> None:
    assert prometheus_query_url(remote_write) == query


def test_prometheus_query_url_rejects_unknown_shapes() -> None:
    with pytest.raises(ValueError, match=r"example\.com/write"):
        prometheus_query_url("https://example.com/write")


# --- features -----------------------------------------------------------------------------

# Which top-level blocks, telemetry services and collectors each toggle owns.
TOGGLE_EFFECTS: dict[str, tuple[set[str], set[str], set[str]]] = {
    "cluster_metrics": ({"clusterMetrics", "hostMetrics"}, {"kube-state-metrics", "node-exporter"}, set()),
    "api_server_metrics": (set(), set(), set()),  # a switch inside clusterMetrics, on eks (test below)
    "cost_metrics": ({"costMetrics"}, {"opencost"}, set()),
    "cluster_events": ({"clusterEvents"}, set(), {"alloy-singleton"}),
    "pod_logs": ({"podLogsViaLoki"}, set(), {"alloy-logs"}),
    "annotation_autodiscovery": ({"annotationAutodiscovery"}, set(), set()),
    "application_observability": ({"applicationObservability"}, set(), {"alloy-receiver"}),
    "collector_self_metrics": ({"integrations"}, set(), set()),
    # Grafana-side features: nothing in the cluster changes (test below), except that the
    # dashboards' metrics are only kept while the dashboards are provisioned.
    "app_instrumentation": (set(), set(), set()),
    "alerting": (set(), set(), set()),
    "dashboards": (set(), set(), set()),
}
GRAFANA_SIDE = ("app_instrumentation", "alerting")


def test_every_toggle_is_covered() -> None:
    assert set(TOGGLE_EFFECTS) == {f.name for f in dataclasses.fields(FeatureToggles)}


@pytest.mark.parametrize("toggle", GRAFANA_SIDE)
def test_grafana_side_toggles_leave_the_helm_values_alone(toggle: str) -> None:
    base = make_spec("local")
    changed = make_spec("local", features=FeatureToggles(**{toggle: False}))
    assert build_values(changed) == build_values(base)


def test_api_server_metrics_only_on_eks_and_only_while_switched_on() -> None:
    on = FeatureToggles(api_server_metrics=True)
    assert build_values(make_spec("eks", features=on))["clusterMetrics"]["apiServer"] == {"enabled": True}
    assert build_values(make_spec("eks"))["clusterMetrics"]["apiServer"] == {"enabled": False}
    assert build_values(make_spec("local", features=on))["clusterMetrics"]["apiServer"] == {"enabled": False}


def test_dashboard_includes_only_while_the_dashboards_are_provisioned() -> None:
    on = build_values(make_spec())
    off = build_values(make_spec(features=FeatureToggles(dashboards=False)))
    for (feature, block), names in DASHBOARD_INCLUDES.items():
        tuning = on[feature][block]["metricsTuning"]
        assert tuning == {"includeMetrics": list(names)}
        assert "metricsTuning" not in off[feature].get(block, {})
    assert {**on, "clusterMetrics": None, "hostMetrics": None} == {
        **off,
        "clusterMetrics": None,
        "hostMetrics": None,
    }


@pytest.mark.parametrize("toggle", sorted(set(TOGGLE_EFFECTS) - {*GRAFANA_SIDE, "dashboards"}))
def test_toggle_off_removes_its_feature(toggle: str) -> None:
    blocks, services, collectors = TOGGLE_EFFECTS[toggle]
    on = build_values(make_spec())
    off = build_values(make_spec(features=dataclasses.replace(FeatureToggles(), **{toggle: False})))
    for values, present in ((on, True), (off, False)):
        assert all((key in values) is present for key in blocks), (toggle, present)
        assert all((s in values["telemetryServices"]) is present for s in services)
        assert all((c in values["collectors"]) is present for c in collectors)


@pytest.mark.parametrize("platform", ["local", "eks"])
def test_every_feature_block_switches_its_feature_on(platform: str) -> None:
    """The chart's features are off unless `enabled: true` (chart 4.4.0 values.yaml l.121, 147, …:
    each feature's `enabled: false`): a block present without it deploys nothing. `integrations`
    has no switch."""
    values = build_values(make_spec(platform))
    features = {block for blocks, _, _ in TOGGLE_EFFECTS.values() for block in blocks} - {"integrations"}
    assert features <= set(values)
    assert {key: values[key]["enabled"] for key in features} == dict.fromkeys(features, True)


def test_enabled_features_name_an_existing_collector() -> None:
    values = build_values(make_spec())
    for key, block in values.items():
        if isinstance(block, dict) and "collector" in block:
            assert block["collector"] in values["collectors"], key


def test_annotation_autodiscovery_uses_the_shared_annotation_names() -> None:
    annotations = build_values(make_spec())["annotationAutodiscovery"]["annotations"]
    assert annotations == {
        "scrape": scrape_annotations.SCRAPE,
        "metricsPortNumber": scrape_annotations.PORT,
        "metricsPath": scrape_annotations.PATH,
    }


def test_annotation_autodiscovery_only_in_the_services_namespace() -> None:
    assert build_values(make_spec(namespace="obs"))["annotationAutodiscovery"]["namespaces"] == ["obs"]


def test_pod_logs_only_from_the_services_namespace_unless_widened() -> None:
    assert build_values(make_spec(namespace="obs"))["podLogsViaLoki"]["namespaces"] == ["obs"]
    widened = make_spec(namespace="obs", pod_logs_namespaces=("obs", "payments"))
    assert build_values(widened)["podLogsViaLoki"]["namespaces"] == ["obs", "payments"]
    every = make_spec(pod_logs_namespaces=("*",))
    assert build_values(every)["podLogsViaLoki"]["namespaces"] == []  # the chart's "all namespaces"


def test_collector_self_metrics_scrape_our_collectors() -> None:
    values = build_values(make_spec(namespace="obs"))
    (instance,) = values["integrations"]["alloy"]["instances"]
    # `name` labels the instance's Alloy components (feature-integrations
    # templates/_integration_alloy.tpl l.268-290, `helper.alloy_name .name`): without it they have none.
    assert instance["name"] == "alloy"
    assert instance["namespaces"] == ["obs"]
    assert sorted(instance["labelSelectors"]["app.kubernetes.io/name"]) == sorted(values["collectors"])
    assert set(instance) == {"name", "namespaces", "labelSelectors"}


def test_the_receiver_drops_the_asgi_body_size_histograms() -> None:
    """About 1,440 series per cluster nothing reads (README "Series bill"): their OTel names as the
    semantic conventions give them (http.server.request.body.size, http.server.response.body.size)
    and the Prometheus names they would become (unit By -> _bytes), written out."""
    values = build_values(make_spec())
    assert values["applicationObservability"]["metrics"] == {
        "filters": {
            "metric": ['name == "http.server.request.body.size"', 'name == "http.server.response.body.size"']
        }
    }
    assert DROPPED_OTLP_METRICS == {
        "http.server.request.body.size": "http_server_request_body_size_bytes",
        "http.server.response.body.size": "http_server_response_body_size_bytes",
    }


def test_receiver_listens_on_otlp_ports() -> None:
    values = build_values(make_spec())
    app = values["applicationObservability"]
    assert app["collector"] == "alloy-receiver"
    assert app["receivers"]["otlp"]["grpc"] == {"enabled": True, "port": 4317}
    assert app["receivers"]["otlp"]["http"] == {"enabled": True, "port": 4318}


# --- collectors and profiles --------------------------------------------------------------


def test_collectors_and_presets() -> None:
    collectors = build_values(make_spec())["collectors"]
    assert {name: c["presets"] for name, c in collectors.items()} == {
        "alloy-metrics": ["clustered", "statefulset"],
        "alloy-logs": ["filesystem-log-reader", "daemonset"],
        "alloy-receiver": ["daemonset"],
        "alloy-singleton": ["singleton"],
    }


def test_plan_collector_resources() -> None:
    collectors = build_values(make_spec())["collectors"]
    plan = {
        "alloy-metrics": ("100m", "256Mi", "500m", "512Mi"),
        "alloy-logs": ("50m", "128Mi", "200m", "256Mi"),
        "alloy-receiver": ("100m", "256Mi", "500m", "512Mi"),
        "alloy-singleton": ("50m", "128Mi", "200m", "256Mi"),
    }
    for name, (rc, rm, lc, lm) in plan.items():
        assert collectors[name]["alloy"]["resources"] == {
            "requests": {"cpu": rc, "memory": rm},
            "limits": {"cpu": lc, "memory": lm},
        }


def test_every_other_containers_requests_and_limits() -> None:
    """Requests and limits of every container the release adds besides the collectors, written out
    (sized for a small cluster; the requests sum to the README's per-node budget)."""
    values = build_values(make_spec())

    def res(rc: str, rm: str, lc: str, lm: str) -> dict[str, dict[str, str]]:
        return {"requests": {"cpu": rc, "memory": rm}, "limits": {"cpu": lc, "memory": lm}}

    for name in ("alloy-metrics", "alloy-logs", "alloy-receiver", "alloy-singleton"):
        assert values["collectors"][name]["configReloader"]["resources"] == res("10m", "32Mi", "50m", "64Mi")
    assert values["alloy-operator"]["resources"] == res("10m", "64Mi", "200m", "256Mi")
    assert values["alloy-operator"]["waitForAlloyRemoval"]["resources"] == res("10m", "32Mi", "100m", "64Mi")
    services = values["telemetryServices"]
    assert services["kube-state-metrics"]["resources"] == res("10m", "64Mi", "100m", "256Mi")
    assert services["node-exporter"]["resources"] == res("10m", "32Mi", "100m", "64Mi")
    assert services["opencost"]["opencost"]["exporter"]["resources"] == res("10m", "64Mi", "200m", "512Mi")


def test_eks_profile() -> None:
    values = build_values(make_spec("eks"))
    collectors = values["collectors"]
    for daemonset in ("alloy-logs", "alloy-receiver"):
        assert collectors[daemonset]["controller"]["tolerations"] == [{"operator": "Exists"}]
    for other in ("alloy-metrics", "alloy-singleton"):
        assert "tolerations" not in collectors[other].get("controller", {})
    assert values["telemetryServices"]["node-exporter"]["tolerations"] == [{"operator": "Exists"}]
    cluster = values["clusterMetrics"]
    assert cluster["apiServer"] == {"enabled": False}  # on request only (apiServerMetrics)
    assert cluster["kubeControllerManager"] == {"enabled": False}
    assert cluster["kubeScheduler"] == {"enabled": False}


def test_local_profile_has_no_control_plane_or_extra_tolerations() -> None:
    values = build_values(make_spec("local"))
    assert values["clusterMetrics"]["apiServer"] == {"enabled": False}
    assert all("controller" not in c for c in values["collectors"].values())
    assert "tolerations" not in values["telemetryServices"]["node-exporter"]


def test_metrics_collector_hooks() -> None:
    annotations = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/alloy-metrics"}
    config = 'prometheus.exporter.cloudwatch "sqs" { }\n'
    values = build_values(
        make_spec("eks", metrics_service_account_annotations=annotations, metrics_extra_config=config)
    )
    metrics = values["collectors"]["alloy-metrics"]
    assert metrics["serviceAccount"] == {"annotations": annotations}
    assert metrics["extraConfig"] == config
    assert metrics["includeDestinations"] == [METRICS_DESTINATION]
    plain = build_values(make_spec("eks"))["collectors"]["alloy-metrics"]
    assert not {"serviceAccount", "extraConfig", "includeDestinations"} & set(plain)


def test_extra_config_keeps_metrics_collector_without_metrics_features() -> None:
    no_metrics = FeatureToggles(
        cluster_metrics=False,
        cost_metrics=False,
        annotation_autodiscovery=False,
        collector_self_metrics=False,
    )
    assert "alloy-metrics" not in build_values(make_spec(features=no_metrics))["collectors"]
    with_config = build_values(make_spec(features=no_metrics, metrics_extra_config="x {}"))
    assert "alloy-metrics" in with_config["collectors"]


def test_only_the_running_collectors_may_get_the_credentials_secret() -> None:
    """The Role the credentials Secret is read through binds the collectors that run, no others."""
    only_metrics = FeatureToggles(pod_logs=False, cluster_events=False, application_observability=False)
    values = build_values(make_spec(features=only_metrics))
    assert list(values["collectors"]) == ["alloy-metrics"]
    role, binding = values["extraObjects"]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": [SECRET_NAME], "verbs": ["get"]}
    ]
    names = monitoring_names("grafana-k8s-monitoring", "llm-judge")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": names.metrics_service_account, "namespace": "llm-judge"}
    ]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "llm-judge"
    assert all("rbac" in collector for collector in values["collectors"].values())


# --- workloads and footprint --------------------------------------------------------------


def test_every_workload_has_requests_and_limits(platform: str) -> None:
    found = list(workloads(build_values(make_spec(platform))))
    assert {w.name for w in found} >= {
        "alloy-metrics",
        "alloy-logs",
        "alloy-receiver",
        "alloy-singleton",
        "alloy-operator",
        "kube-state-metrics",
        "node-exporter",
        "opencost",
    }
    for workload in found:
        for container, resources in workload.containers.items():
            for kind in ("requests", "limits"):
                assert set(resources.get(kind) or {}) >= {"cpu", "memory"}, (workload.name, container, kind)


def test_config_reloader_is_counted_as_a_container() -> None:
    (metrics,) = [w for w in workloads(build_values(make_spec())) if w.name == "alloy-metrics"]
    assert set(metrics.containers) == {"alloy", "config-reloader"}


def test_local_stack_fits_one_cpu_and_two_gib() -> None:
    cpu, memory = node_requests(build_values(make_spec("local")))
    assert 0 < cpu <= 1000
    assert 0 < memory <= 2 * GiB


def test_node_requests_sums_one_pod_per_daemonset_and_all_replicas() -> None:
    def res(cpu: str, mem: str) -> dict[str, Any]:
        return {"requests": {"cpu": cpu, "memory": mem}}

    values = {
        "collectors": {
            "ds": {"presets": ["daemonset"], "alloy": {"resources": res("100m", "1Gi")}},
            "sts": {
                "presets": ["statefulset"],
                "controller": {"replicas": 3},
                "alloy": {"resources": res("0.5", "100Mi")},
                "configReloader": {"resources": res("10m", "10Mi")},
            },
            "off": {"enabled": False, "presets": ["singleton"], "alloy": {"resources": res("9", "9Gi")}},
        },
        "alloy-operator": {"deploy": False},
        "telemetryServices": {"node-exporter": {"deploy": True, "resources": res("1m", "1Mi")}},
    }
    assert node_requests(values) == (100 + 3 * 510 + 1, GiB + 3 * 110 * 2**20 + 2**20)


@pytest.mark.parametrize(("quantity", "millicores"), [("100m", 100), ("1", 1000), ("0.25", 250), (2, 2000)])
def test_cpu_millicores(quantity: Any, millicores: int) -> None:
    assert cpu_millicores(quantity) == millicores


# Kubernetes quantities: decimal k, M, G, T and binary Ki, Mi, Gi, Ti
# (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/).
@pytest.mark.parametrize(
    ("quantity", "count"),
    [
        ("256Mi", 256 * 2**20),
        ("1Gi", GiB),
        ("128M", 128 * 10**6),
        (1024, 1024),
        ("2k", 2000),
        ("3Ki", 3072),
        ("1G", 1_000_000_000),
        ("1T", 1_000_000_000_000),
        ("1Ti", 2**40),
        ("1.5Gi", 3 * 2**29),
    ],
)
def test_memory_bytes(quantity: Any, count: int) -> None:
    assert memory_bytes(quantity) == count


def test_quantity_parsing_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        cpu_millicores("lots")
    with pytest.raises(ValueError):
        memory_bytes("12 parsecs")


# --- names --------------------------------------------------------------------------------


def test_names_for_the_default_release() -> None:
    names = monitoring_names("grafana-k8s-monitoring", "llm-judge")
    assert names.receiver_host == "grafana-k8s-monitoring-alloy-receiver.llm-judge.svc.cluster.local"
    assert (names.otlp_grpc_port, names.otlp_http_port) == (4317, 4318)
    assert (
        names.otlp_http_endpoint
        == "http://grafana-k8s-monitoring-alloy-receiver.llm-judge.svc.cluster.local:4318"
    )
    assert names.metrics_service_account == "grafana-k8s-monitoring-alloy-metrics"
    assert names.collector("alloy-singleton") == "grafana-k8s-monitoring-alloy-singleton"


def test_names_follow_the_release_name() -> None:
    names = monitoring_names("obs", "monitoring")
    assert names.receiver_host == "obs-alloy-receiver.monitoring.svc.cluster.local"
    assert names.metrics_service_account == "obs-alloy-metrics"


def test_names_follow_the_charts_fullname_rule() -> None:
    # release already containing the collector's name is used as is; names stop at 63 characters
    assert monitoring_names("team-alloy-metrics", "ns").metrics_collector == "team-alloy-metrics"
    long = monitoring_names("r" * 60, "ns").metrics_collector
    assert len(long) == 63 and not long.endswith("-")


def test_builder_uses_the_names_module() -> None:
    names = monitoring_names("grafana-k8s-monitoring", "llm-judge")
    values = build_values(make_spec())
    receivers = values["applicationObservability"]["receivers"]["otlp"]
    assert (receivers["grpc"]["port"], receivers["http"]["port"]) == (
        names.otlp_grpc_port,
        names.otlp_http_port,
    )
    assert all(names.collector(c).endswith(c) for c in values["collectors"])


def test_a_rotated_opencost_token_rolls_the_opencost_pod() -> None:
    """OpenCost reads its token into its environment at start: a new token needs a new pod."""
    from builders.k8s_monitoring import OPENCOST_CREDENTIALS_ANNOTATION

    def opencost(version: str) -> dict:
        spec = MonitoringSpec(
            cluster_name="c1",
            namespace="llm-judge",
            release_name="grafana-k8s-monitoring",
            platform="local",
            prometheus_url="https://prometheus.example/api/prom/push",
            loki_url="https://logs.example/loki/api/v1/push",
            otlp_url="https://otlp.example/otlp",
            opencost_credentials_version=version,
        )
        return build_values(spec)["telemetryServices"]["opencost"]

    first, rotated = opencost("2026-04-01T00:00:00Z"), opencost("2026-06-30T00:00:00Z")
    assert first["podAnnotations"] == {OPENCOST_CREDENTIALS_ANNOTATION: "2026-04-01T00:00:00Z"}
    assert rotated["podAnnotations"] == {OPENCOST_CREDENTIALS_ANNOTATION: "2026-06-30T00:00:00Z"}


def test_node_exporter_mounts_the_host_root_privately_on_local_only() -> None:
    # Docker Desktop and k3d refuse HostToContainer propagation of / (prometheus-community/helm-charts
    # #467, #1726); an empty value drops the field from the DaemonSet (prometheus-node-exporter 4.56.1
    # templates/daemonset.yaml). EKS keeps the chart's default.
    local = build_values(make_spec("local"))["telemetryServices"]["node-exporter"]
    assert local["hostRootFsMount"] == {"enabled": True, "mountPropagation": ""}
    eks = build_values(make_spec("eks"))["telemetryServices"]["node-exporter"]
    assert "hostRootFsMount" not in eks


def test_autodiscovery_watches_the_prometheus_io_annotations() -> None:
    # The conventional names service teams already use (docs/service-teams.md); the same
    # names AppInstrumentation writes.
    assert (scrape_annotations.SCRAPE, scrape_annotations.PORT, scrape_annotations.PATH) == (
        "prometheus.io/scrape",
        "prometheus.io/port",
        "prometheus.io/path",
    )
