"""tools.rendered_pipeline on small hand-written Alloy configs (the real render: test_dashboard_delivery)."""

from __future__ import annotations

import pytest

from tools.rendered_pipeline import ANY_SCRAPE, OTLP, NameFilter, RenderedPipeline, parse_alloy, producers_of

CONFIG = r"""
// a comment with a brace {
declare "feature" {
  argument "metrics_destinations" { comment = "a { brace in a string" }

  prometheus.scrape "kept" {
    targets  = []
    job_name = "integrations/kept"
    forward_to = [prometheus.relabel.first.receiver]
  } // prometheus.scrape "kept"

  prometheus.relabel "first" {
    rule {
      source_labels = ["__name__"]
      regex = "up|a_.*|b_total"
      action = "keep"
    }
    rule {
      source_labels = ["__name__", "container"]
      separator = "@"
      regex = "a_.*@"
      action = "drop"
    }
    forward_to = [prometheus.relabel.second.receiver]
  }

  prometheus.relabel "second" {
    /* block comment } */
    rule {
      source_labels = [
        "__name__",
      ]
      regex = "a_dropped"
      action = "drop"
    }
    forward_to = argument.metrics_destinations.value
  }

  prometheus.scrape "unfiltered" {
    targets = []
    forward_to = argument.metrics_destinations.value
  }

  declare "module" {
    prometheus.scrape "via_argument" {
      forward_to = [prometheus.relabel.via_argument.receiver]
    }
    prometheus.relabel "via_argument" {
      rule {
        source_labels = ["__name__"]
        regex = coalesce(argument.keep_metrics.value, ".*")
        action = "keep"
      }
      forward_to = argument.forward_to.value
    }
  }
  module "instance" {
    keep_metrics = "c_\\d+"
  }
}
"""

RECEIVER = """
otelcol.receiver.otlp "receiver" {
  output { metrics = [otelcol.exporter.prometheus.out.input] }
}
otelcol.exporter.prometheus "out" { forward_to = [] }
"""


def test_blocks_attributes_and_comments() -> None:
    root = parse_alloy(CONFIG)
    kinds = [(b.kind, b.label) for b in root.walk()]
    assert ("prometheus.scrape", "kept") in kinds and ("module", "instance") in kinds
    (argument,) = [b for b in root.walk() if b.kind == "argument"]
    assert argument.attributes["comment"] == '"a { brace in a string"'


def test_filters_follow_the_relabel_chain_and_name_only_rules() -> None:
    pipeline = RenderedPipeline.parse(CONFIG)
    kept = pipeline.scrapes["kept"]
    assert kept.job == "integrations/kept"
    assert kept.filter == NameFilter(keep=("up|a_.*|b_total",), drop=("a_dropped",))  # not the a_.*@ rule
    assert kept.filter.passes("a_x") and kept.filter.passes("b_total")
    assert not kept.filter.passes("a_dropped") and not kept.filter.passes("xb_total")  # anchored
    assert not pipeline.scrapes["unfiltered"].filtered
    assert pipeline.scrapes["via_argument"].filter == NameFilter(keep=(r"c_\d+",))


def test_delivers_asks_the_producing_scrapes() -> None:
    pipeline = RenderedPipeline.parse(CONFIG, RECEIVER)
    assert pipeline.delivers("a_x", ("kept",))
    assert not pipeline.delivers("a_dropped", ("kept",))
    assert pipeline.delivers("anything", ("unfiltered",))
    assert not pipeline.delivers("a_x", ("absent",))
    assert pipeline.delivers("up", (ANY_SCRAPE,))
    assert pipeline.delivers("http_x", (OTLP,)) and not RenderedPipeline.parse(CONFIG).delivers(
        "http_x", (OTLP,)
    )


FILTER = """
otelcol.processor.filter "default" {
  error_mode = "ignore"
  metrics {
    metric = [
      "name == \\"http.server.request.body.size\\"",
    ]
  }
  output { metrics = [otelcol.exporter.prometheus.out.input] }
}
"""


def test_the_receivers_filter_drops_otlp_metrics_by_their_otel_name() -> None:
    pipeline = RenderedPipeline.parse(CONFIG, RECEIVER + FILTER)
    assert pipeline.otlp_dropped == {"http.server.request.body.size"}
    for series in ("_bucket", "_count", "_sum"):
        assert not pipeline.delivers(f"http_server_request_body_size_bytes{series}", (OTLP,))
        assert pipeline.delivers(f"http_server_response_body_size_bytes{series}", (OTLP,))
        assert pipeline.delivers(f"http_server_request_duration_seconds{series}", (OTLP,))


@pytest.mark.parametrize(
    "filter_block",
    [
        'metrics { datapoint = ["attributes[\\"x\\"] == \\"y\\""] }',
        'metrics { metric = ["IsMatch(name, \\"http.*\\")"] }',
        'traces { span = ["name == \\"x\\""] }',
    ],
)
def test_a_filter_the_model_cannot_read_is_refused(filter_block: str) -> None:
    with pytest.raises(ValueError, match="modelled"):
        RenderedPipeline.parse(CONFIG, RECEIVER + f'otelcol.processor.filter "f" {{\n  {filter_block}\n}}\n')


def test_a_missing_relabel_is_an_error() -> None:
    broken = 'prometheus.scrape "s" {\n  forward_to = [prometheus.relabel.nowhere.receiver]\n}\n'
    with pytest.raises(ValueError, match="nowhere"):
        RenderedPipeline.parse(broken)


@pytest.mark.parametrize(
    ("name", "producers"),
    [
        ("node_uname_info", ("node_exporter",)),
        ("node_cpu_usage_seconds_total", ("kubelet_resources",)),
        ("node_cpu_hourly_cost", ("opencost",)),
        ("container_cpu_usage_seconds_total", ("cadvisor", "kubelet_resources")),
        ("container_oom_events_total", ("cadvisor",)),
        ("machine_cpu_cores", ("cadvisor",)),
        ("kube_pod_info", ("kube_state_metrics",)),
        ("kubelet_volume_stats_used_bytes", ("kubelet",)),
        ("prometheus_remote_storage_samples_failed_total", ("alloy",)),
        ("up", (ANY_SCRAPE,)),
    ],
)
def test_producers(name: str, producers: tuple[str, ...]) -> None:
    assert producers_of(name) == producers


def test_otel_names_come_over_otlp_and_unknown_names_are_refused() -> None:
    assert producers_of(
        "http_server_request_duration_seconds_count", {"http_server_request_duration_seconds_count"}
    ) == (OTLP,)
    with pytest.raises(ValueError, match="no source"):
        producers_of("made_up_metric")
