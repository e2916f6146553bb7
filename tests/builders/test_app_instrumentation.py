"""Tests of the pure AppInstrumentation builders (no Pulumi)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builders import scrape_annotations as names
from builders.app_instrumentation import (
    DEFAULT_SERVICES,
    AppConfigError,
    ReceiverEndpoint,
    ServiceSpec,
    app_config_entries,
    deployment_patch_spec,
    merge_app_config,
    otel_env,
    scrape_annotations,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "appconfig.json"
SOURCE = "ConfigMap llm-judge/appconfig key appconfig.json"
HOST = "grafana-k8s-monitoring-alloy-receiver.llm-judge.svc.cluster.local"
OUR_KEYS = (
    "observability.traces.collector.endpoint",
    "observability.traces.sample_rate",
    "observability.logs.export_to_loki",
    "observability.metrics.enabled",
)


def receiver(host: str = HOST, http_port: int = 4318) -> ReceiverEndpoint:
    return ReceiverEndpoint(host=host, grpc_port=4317, http_port=http_port)


def entries(host: str = HOST) -> dict[str, Any]:
    return app_config_entries(
        receiver(host), sample_rate=0.5, export_logs_to_loki=True, send_otlp_metrics=False
    )


def pairs(text: str) -> list[tuple[str, Any]]:
    """Top-level (key, value) pairs in file order; nested objects keep their order too."""
    return json.loads(text, object_pairs_hook=list)


def canonical(value: Any) -> str:
    # JSON text of one value: tells false from 0 and 1 from 1.0, and keeps nested order.
    return json.dumps(value, ensure_ascii=False)


def env_map(env: list[dict[str, str]]) -> dict[str, str]:
    assert len({var["name"] for var in env}) == len(env), "duplicate env names"
    return {var["name"]: var["value"] for var in env}


# --- services and receiver ---------------------------------------------------------------


def test_default_services_are_the_five_llm_judge_services() -> None:
    assert [(s.name, s.port) for s in DEFAULT_SERVICES] == [
        ("gateway-service", 8000),
        ("redis-service", 8001),
        ("persistence-service", 8002),
        ("inference-service", 8003),
        ("judge-service", 8004),
    ]
    for service in DEFAULT_SERVICES:
        assert service.container == service.name
        assert service.metrics_path == "/metrics"


def test_container_defaults_to_name_and_can_be_overridden() -> None:
    assert ServiceSpec("judge-service", 8004).container == "judge-service"
    assert ServiceSpec("judge-service", 8004, container="app").container == "app"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "Gateway", "port": 8000},
        {"name": "gateway_service", "port": 8000},
        {"name": "gateway", "port": 0},
        {"name": "gateway", "port": 65536},
        {"name": "gateway", "port": 70000},
        {"name": "gateway", "port": True},
        {"name": "gateway", "port": 8000, "metrics_path": "metrics"},
        {"name": "gateway", "port": 8000, "metrics_path": "/me trics"},
        {"name": "gateway", "port": 8000, "container": "Bad Name"},
    ],
)
def test_service_spec_rejects_bad_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ServiceSpec(**kwargs)


@pytest.mark.parametrize("port", [1, 65535])
def test_every_tcp_port_is_valid(port: int) -> None:
    assert ServiceSpec("gateway", port).port == port
    endpoint = ReceiverEndpoint(host=HOST, grpc_port=port, http_port=port)
    assert (endpoint.grpc_port, endpoint.http_port) == (port, port)


@pytest.mark.parametrize(
    "ports", [(0, 4318), (4317, 0), (65536, 4318), (4317, 65536), (True, 4318), (4317, "4318")]
)
def test_receiver_rejects_ports_outside_tcps(ports: tuple[Any, Any]) -> None:
    with pytest.raises(ValueError, match="port"):
        ReceiverEndpoint(host=HOST, grpc_port=ports[0], http_port=ports[1])


def test_receiver_urls() -> None:
    r = receiver(http_port=4318)
    assert r.otlp_http_url == f"http://{HOST}:4318"
    assert r.traces_url == f"http://{HOST}:4318/v1/traces"
    assert receiver("other.example", 9999).traces_url == "http://other.example:9999/v1/traces"


@pytest.mark.parametrize("host", ["", "http://alloy", "alloy:4318", "alloy/v1", " alloy"])
def test_receiver_rejects_host_with_scheme_port_or_path(host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        ReceiverEndpoint(host=host, grpc_port=4317, http_port=4318)


# --- env ---------------------------------------------------------------------------------


@pytest.mark.parametrize("service", DEFAULT_SERVICES, ids=lambda s: s.name)
def test_env_of_each_service(service: ServiceSpec) -> None:
    env = env_map(otel_env(service, receiver(), "production", "llm-judge-local", "llm-judge"))
    assert env["OTEL_SERVICE_NAME"] == service.name
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://{HOST}:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    # Parse the way the Python SDK's OTELResourceDetector does.
    attributes = dict(item.split("=", 1) for item in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert attributes == {
        "deployment.environment": "production",
        "service.namespace": "llm-judge",
        "k8s.cluster.name": "llm-judge-local",
    }
    # contrib's rule: "http/dup" anywhere wins over "http"; we want stable-only.
    opt_in = [token.strip() for token in env["OTEL_SEMCONV_STABILITY_OPT_IN"].split(",")]
    assert "http" in opt_in and "http/dup" not in opt_in
    assert all(set(var) == {"name", "value"} for var in otel_env(service, receiver(), "p", "c", "n"))


def test_env_endpoint_follows_receiver_host_and_port() -> None:
    service = DEFAULT_SERVICES[0]
    a = env_map(otel_env(service, receiver("alloy-a.ns.svc"), "dev", "c", "llm-judge"))
    b = env_map(otel_env(service, receiver("alloy-b.ns.svc", 14318), "dev", "c", "llm-judge"))
    assert a["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://alloy-a.ns.svc:4318"
    assert b["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://alloy-b.ns.svc:14318"


@pytest.mark.parametrize(
    ("environment", "cluster", "namespace", "label"),
    [
        ("prod,service.name=x", "c", "llm-judge", "deployment environment"),
        ("prod", "a=b", "llm-judge", "cluster name"),
        ("prod", "c", "llm judge", "namespace"),
        ("", "c", "llm-judge", "deployment environment"),
        ("prod", "c%2C", "llm-judge", "cluster name"),
    ],
)
def test_env_rejects_values_that_break_resource_attributes(
    environment: str, cluster: str, namespace: str, label: str
) -> None:
    with pytest.raises(ValueError, match=label):
        otel_env(DEFAULT_SERVICES[0], receiver(), environment, cluster, namespace)


# --- app config entries ------------------------------------------------------------------


def test_app_config_entries() -> None:
    got = app_config_entries(
        receiver("alloy.ns.svc"),
        sample_rate=1,
        export_logs_to_loki=False,
        send_otlp_metrics=True,
    )
    assert list(got) == list(OUR_KEYS)
    assert got["observability.traces.collector.endpoint"] == "http://alloy.ns.svc:4318/v1/traces"
    assert canonical(got["observability.traces.sample_rate"]) == "1.0"
    assert got["observability.logs.export_to_loki"] is False
    assert got["observability.metrics.enabled"] is True


@pytest.mark.parametrize("rate", [0, 0.0, 1, 1.0])
def test_app_config_entries_take_both_ends_of_the_sample_rate(rate: float) -> None:
    """traceSampleRate 0 (no traces) and 1 (every trace) are valid settings (README config table)."""
    got = app_config_entries(receiver(), sample_rate=rate, export_logs_to_loki=True, send_otlp_metrics=True)
    assert got["observability.traces.sample_rate"] == float(rate)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sample_rate": 1.5},
        {"sample_rate": 1.0001},
        {"sample_rate": -0.1},
        {"sample_rate": -0.0001},
        {"sample_rate": True},
        {"sample_rate": "1.0"},
        {"export_logs_to_loki": "yes"},
        {"send_otlp_metrics": 1},
    ],
)
def test_app_config_entries_validate(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "sample_rate": 1.0,
        "export_logs_to_loki": True,
        "send_otlp_metrics": True,
        **kwargs,
    }
    with pytest.raises(ValueError):
        app_config_entries(receiver(), **args)


# --- merge -------------------------------------------------------------------------------


def test_merge_keeps_every_other_entry_in_value_and_order() -> None:
    original = FIXTURE.read_text(encoding="utf-8")
    merged = merge_app_config(original, entries(), SOURCE)

    before = [(k, canonical(v)) for k, v in pairs(original) if k not in OUR_KEYS]
    after = [(k, canonical(v)) for k, v in pairs(merged) if k not in OUR_KEYS]
    assert len(before) > 20  # the fixture is the realistic one, not an empty stub
    assert after == before


def test_merge_updates_existing_endpoint_in_place_and_appends_the_rest() -> None:
    original = FIXTURE.read_text(encoding="utf-8")
    want = entries("alloy.llm-judge.svc")
    merged = merge_app_config(original, want, SOURCE)
    before_keys = [k for k, _ in pairs(original)]
    after = pairs(merged)
    after_keys = [k for k, _ in after]

    endpoint = "observability.traces.collector.endpoint"
    assert "jaeger" in dict(pairs(original))[endpoint]
    assert after_keys.index(endpoint) == before_keys.index(endpoint)
    new_keys = [k for k in want if k not in before_keys]
    assert after_keys == before_keys + new_keys
    assert {k: canonical(v) for k, v in after if k in want} == {k: canonical(v) for k, v in want.items()}
    assert "jaeger" not in merged


def test_merge_endpoint_follows_receiver_host() -> None:
    original = FIXTURE.read_text(encoding="utf-8")
    first = json.loads(merge_app_config(original, entries("alloy-one.ns.svc"), SOURCE))
    second = json.loads(merge_app_config(original, entries("alloy-two.ns.svc"), SOURCE))
    key = "observability.traces.collector.endpoint"
    assert first[key] == "http://alloy-one.ns.svc:4318/v1/traces"
    assert second[key] == "http://alloy-two.ns.svc:4318/v1/traces"


def test_merge_is_stable_and_idempotent() -> None:
    original = FIXTURE.read_text(encoding="utf-8")
    once = merge_app_config(original, entries(), SOURCE)
    assert merge_app_config(once, entries(), SOURCE) == once
    assert once.endswith("}\n") and '\n  "app.name": "llm-judge",\n' in once
    assert "Ton courtois, pas de jargon — FR/EN" in once  # not \u-escaped


def test_merge_into_nested_observability_object() -> None:
    existing = json.dumps(
        {
            "redis.host": "redis",
            "observability": {
                "service": "keep-me",
                "traces": {
                    "collector": {"endpoint": "http://jaeger:14268/api/traces"},
                    "sample_rate": 0.1,
                },
            },
            "logging.level": "INFO",
        }
    )
    merged = merge_app_config(existing, entries("alloy.ns.svc"), SOURCE)
    doc = json.loads(merged)
    assert list(doc) == [
        "redis.host",
        "observability",
        "logging.level",
    ]  # no flat keys added
    assert doc["observability"] == {
        "service": "keep-me",
        "traces": {
            "collector": {"endpoint": "http://alloy.ns.svc:4318/v1/traces"},
            "sample_rate": 0.5,
        },
        "logs": {"export_to_loki": True},
        "metrics": {"enabled": False},
    }


def test_merge_mixed_spellings_updates_every_copy() -> None:
    existing = json.dumps(
        {
            "observability.traces.collector.endpoint": "http://old-flat:4318/v1/traces",
            "observability": {"traces.collector.endpoint": "http://old-nested:4318/v1/traces"},
        }
    )
    doc = json.loads(merge_app_config(existing, entries("alloy.ns.svc"), SOURCE))
    url = "http://alloy.ns.svc:4318/v1/traces"
    assert doc["observability.traces.collector.endpoint"] == url
    assert doc["observability"]["traces.collector.endpoint"] == url
    assert "old-" not in json.dumps(doc)


def test_merge_creates_the_missing_levels_in_the_files_nested_style() -> None:
    existing = json.dumps({"observability": {"service": "keep-me"}})
    doc = json.loads(merge_app_config(existing, entries("alloy.ns.svc"), SOURCE))
    assert doc == {
        "observability": {
            "service": "keep-me",
            "traces": {"collector": {"endpoint": "http://alloy.ns.svc:4318/v1/traces"}, "sample_rate": 0.5},
            "logs": {"export_to_loki": True},
            "metrics": {"enabled": False},
        }
    }


def test_merge_continues_below_a_flat_dotted_prefix() -> None:
    """A file that spells `observability.traces` as one key: the endpoint goes inside that object,
    the keys it has no part of are the plan's flat keys."""
    existing = json.dumps({"observability.traces": {"sample_rate": 0.1}})
    doc = json.loads(merge_app_config(existing, entries("alloy.ns.svc"), SOURCE))
    assert doc == {
        "observability.traces": {
            "sample_rate": 0.5,
            "collector": {"endpoint": "http://alloy.ns.svc:4318/v1/traces"},
        },
        "observability.logs.export_to_loki": True,
        "observability.metrics.enabled": False,
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"a": 1,}', "not valid JSON"),
        ("[1, 2]", "list"),
        ('"just a string"', "str"),
        ("null", "NoneType"),
        ('{"a": 1, "a": 2}', "'a' appears more than once"),
        ('{"a": NaN}', "NaN"),
        ('{"observability": false}', "'observability' is a bool"),
        ('{"observability": {"traces": "off"}}', "'observability.traces' is a str"),
    ],
)
def test_merge_errors_name_the_source_and_the_problem(text: str, reason: str) -> None:
    with pytest.raises(AppConfigError) as err:
        merge_app_config(text, entries(), SOURCE)
    assert SOURCE in str(err.value)
    assert reason in str(err.value)


# --- annotations and patch ---------------------------------------------------------------


def test_scrape_annotations_when_metrics_path_set() -> None:
    service = ServiceSpec("judge-service", 8004, metrics_path="/internal/metrics")
    assert scrape_annotations(service) == {
        names.SCRAPE: "true",
        names.PORT: "8004",
        names.PATH: "/internal/metrics",
    }


def test_no_scrape_annotations_without_metrics_path() -> None:
    assert scrape_annotations(ServiceSpec("redis-service", 8001, metrics_path=None)) == {}


def test_deployment_patch_spec_holds_only_our_fields() -> None:
    service = ServiceSpec("gateway-service", 8000, container="api")
    env = otel_env(service, receiver(), "production", "c", "llm-judge")
    annotations = scrape_annotations(service)
    spec = deployment_patch_spec(service, env, annotations)

    assert list(spec) == ["template"]
    assert set(spec["template"]) == {"metadata", "spec"}
    assert spec["template"]["metadata"] == {"annotations": annotations}
    assert spec["template"]["spec"] == {"containers": [{"name": "api", "env": env}]}


def test_deployment_patch_spec_omits_metadata_without_annotations() -> None:
    service = ServiceSpec("redis-service", 8001, metrics_path=None)
    spec = deployment_patch_spec(
        service,
        otel_env(service, receiver(), "p", "c", "n"),
        scrape_annotations(service),
    )
    assert set(spec["template"]) == {"spec"}
    assert spec["template"]["spec"]["containers"][0]["name"] == "redis-service"


def test_deployment_patch_spec_rejects_duplicate_or_malformed_env() -> None:
    service = DEFAULT_SERVICES[0]
    with pytest.raises(ValueError, match="twice"):
        deployment_patch_spec(service, [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}], {})
    with pytest.raises(ValueError, match="must be"):
        deployment_patch_spec(service, [{"name": "A", "valueFrom": {}}], {})  # type: ignore[list-item]
