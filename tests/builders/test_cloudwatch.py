"""CloudWatch SQS metrics: YACE names, input validation, and the Alloy config text (pure)."""

from __future__ import annotations

import re

import pytest

from builders import cloudwatch, k8s_monitoring
from builders.cloudwatch import (
    QUEUE_LABEL,
    SQS_METRICS,
    alloy_config,
    metric_names,
    prometheus_metric_name,
    validate_queue_name,
    validate_region,
)
from builders.k8s_monitoring import METRICS_DESTINATION, METRICS_RECEIVER, remote_write_receiver

QUEUES = ["inference_queue", "judge-queue", "results.fifo"]


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "metric", "statistic", "expected"),
    [
        # Documented YACE names (DESIGN.md, YACE README / examples).
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            "aws_sqs_approximate_number_of_messages_visible_maximum",
        ),
        ("AWS/SQS", "NumberOfMessagesSent", "Sum", "aws_sqs_number_of_messages_sent_sum"),
        ("AWS/EC2", "CPUUtilization", "Average", "aws_ec2_cpuutilization_average"),
        # Leading '/' of a namespace dropped, no second aws_ prefix.
        ("/aws/sagemaker/Endpoints", "Invocations", "Sum", "aws_sagemaker_endpoints_invocations_sum"),
        # A metric prefix repeating the namespace is trimmed.
        ("Glue", "glue.driver.aggregate.bytesRead", "Sum", "aws_glue_driver_aggregate_bytes_read_sum"),
        # A digit before an upper-case letter splits too ("5XX" -> "5_xx"), as in YACE's PromString.
        (
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            "Sum",
            "aws_applicationelb_httpcode_target_5_xx_count_sum",
        ),
    ],
)
def test_prometheus_metric_name_follows_yace(
    namespace: str, metric: str, statistic: str, expected: str
) -> None:
    assert prometheus_metric_name(metric, statistic, namespace) == expected


def test_metric_names_cover_the_queue_health_panel_and_alerts() -> None:
    names = metric_names()
    for expected in (
        "aws_sqs_approximate_number_of_messages_visible_maximum",
        "aws_sqs_approximate_age_of_oldest_message_maximum",
        "aws_sqs_approximate_number_of_messages_not_visible_maximum",
        "aws_sqs_number_of_messages_sent_sum",
        "aws_sqs_number_of_messages_deleted_sum",
    ):
        assert expected in names
    # The plan's name has no statistic suffix: YACE never produces it.
    assert "aws_sqs_approximate_number_of_messages_visible" not in names


def test_metric_names_are_one_per_metric_and_statistic() -> None:
    assert len(metric_names()) == sum(len(m.statistics) for m in SQS_METRICS)
    assert len({m.name for m in SQS_METRICS}) == len(SQS_METRICS)


def test_not_visible_is_documented_as_the_visibility_extension_proxy() -> None:
    in_flight = next(m for m in SQS_METRICS if m.name == "ApproximateNumberOfMessagesNotVisible")
    assert "visibility" in in_flight.purpose


def test_empty_metric_or_statistic_is_rejected() -> None:
    with pytest.raises(ValueError, match="statistic"):
        prometheus_metric_name("NumberOfMessagesSent", "")


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["a", "inference_queue", "judge-queue", "x" * 80, "orders.fifo", "A-1_b.fifo"]
)
def test_valid_queue_names(name: str) -> None:
    assert validate_queue_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * 81, "x" * 76 + ".fifo", "has space", "dot.name", "q.fifo.fifo", "ü"]
)
def test_invalid_queue_names_name_the_value(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(name))):
        validate_queue_name(name)


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1", "cn-north-1"]
)
def test_valid_regions(region: str) -> None:
    assert validate_region(region) == region


@pytest.mark.parametrize("region", ["", "us-east", "US-EAST-1", "useast1", "us-east-1a", "eu_west_1"])
def test_invalid_regions_name_the_value(region: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(region))):
        validate_region(region)


# --- receiver -------------------------------------------------------------------------------


def test_receiver_is_the_charts_remote_write_component_for_the_metrics_destination() -> None:
    # helper.alloy_name: lower-case, '-' and ' ' to '_'.
    assert METRICS_DESTINATION == "grafana-cloud-metrics"
    assert METRICS_RECEIVER == "prometheus.remote_write.grafana_cloud_metrics.receiver"
    assert remote_write_receiver("My Dest-2") == "prometheus.remote_write.my_dest_2.receiver"


# --- Alloy config ---------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_STRING = r'"(?:[^"\\]|\\.)*"'
_BLOCK_OPEN = re.compile(rf"^{_IDENT}(\.{_IDENT})*( {_STRING})? \{{$")
_ATTRIBUTE = re.compile(rf"^{_IDENT} *= *(.+)$")
_VALUE = re.compile(
    rf"^({_STRING}|true|false|[0-9]+"
    rf"|\[(({_STRING}|{_IDENT}(\.{_IDENT})+)(, )?)*\]"
    rf"|\{{ {_STRING} = {_STRING} \}}"
    rf"|{_IDENT}(\.{_IDENT})+)$"
)


def _lint_alloy(text: str) -> list[str]:
    """A line-level check of the subset of Alloy syntax the builder writes (blocks, attributes)."""
    problems: list[str] = []
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line == "}":
            depth -= 1
            if depth < 0:
                problems.append(f"{number}: unbalanced '}}'")
        elif _BLOCK_OPEN.match(line):
            depth += 1
        elif (match := _ATTRIBUTE.match(line)) and _VALUE.match(match.group(1)):
            if depth == 0:
                problems.append(f"{number}: attribute outside a block: {line}")
        else:
            problems.append(f"{number}: not valid here: {line}")
    if depth != 0:
        problems.append(f"unclosed blocks: {depth}")
    return problems


def test_config_is_well_formed_alloy() -> None:
    text = alloy_config("eu-west-1", QUEUES, METRICS_RECEIVER)
    assert _lint_alloy(text) == []


def test_lint_catches_broken_config() -> None:
    # The check above must be able to fail.
    assert _lint_alloy('prometheus.scrape "x" {\n  targets = [\n}\n')
    assert _lint_alloy('prometheus.scrape "x" {\n  a = "b"\n')
    assert _lint_alloy("prometheus.scrape x {\n}\n")


def test_config_has_one_static_job_per_queue_with_its_dimension() -> None:
    text = alloy_config("eu-west-1", QUEUES, METRICS_RECEIVER)
    assert text.count("  static ") == len(QUEUES)
    for queue in QUEUES:
        assert f'dimensions  = {{ "QueueName" = "{queue}" }}' in text
    labels = re.findall(r'static "([^"]+)"', text)
    assert len(set(labels)) == len(QUEUES)
    assert all(re.fullmatch(_IDENT, label) for label in labels)


def test_config_collects_every_declared_metric_and_statistic() -> None:
    text = alloy_config("eu-west-1", ["q"], METRICS_RECEIVER)
    for metric in SQS_METRICS:
        assert f'name       = "{metric.name}"' in text
        stats = ", ".join(f'"{s}"' for s in metric.statistics)
        assert f"statistics = [{stats}]" in text


def test_config_scrapes_the_exporter_and_forwards_to_the_receiver() -> None:
    forward = "prometheus.relabel.custom.receiver"
    text = alloy_config("us-east-1", ["q"], forward)
    exporter = re.search(r'^prometheus\.exporter\.cloudwatch "(\w+)" \{', text, re.M)
    assert exporter is not None
    assert f"targets         = prometheus.exporter.cloudwatch.{exporter.group(1)}.targets" in text
    assert f"forward_to      = [{forward}]" in text
    assert 'sts_region = "us-east-1"' in text
    assert 'regions     = ["us-east-1"]' in text


def test_static_job_label_becomes_the_name_label_and_the_queue_stays_in_the_dimension_label() -> None:
    assert QUEUE_LABEL == "dimension_QueueName"


@pytest.mark.parametrize(
    ("region", "queues", "forward_to", "culprit"),
    [
        ("us-east-1", [], METRICS_RECEIVER, "[]"),
        ("us-east-1", "inference_queue", METRICS_RECEIVER, "'inference_queue'"),
        ("us-east-1", ["ok", "bad name"], METRICS_RECEIVER, "'bad name'"),
        ("us-east-1", ["q", "q"], METRICS_RECEIVER, "'q'"),
        ("us-east-1", ["a-b", "a_b"], METRICS_RECEIVER, "'a_b'"),
        ("mars-1", ["q"], METRICS_RECEIVER, "'mars-1'"),
        ("us-east-1", ["q"], "grafana-cloud-metrics", "'grafana-cloud-metrics'"),
        ("us-east-1", ["q"], 'x.receiver"] } evil {', "evil"),
    ],
)
def test_bad_input_is_a_value_error_naming_it(
    region: str, queues: list[str], forward_to: str, culprit: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(culprit)):
        alloy_config(region, queues, forward_to)


def test_module_stays_pure() -> None:
    assert "pulumi" not in vars(cloudwatch)


def test_receiver_agrees_with_the_values_builder_if_it_names_one() -> None:
    # builders.k8s_monitoring may define its own constant; both must name the same component.
    assert getattr(k8s_monitoring, "METRICS_RECEIVER", METRICS_RECEIVER) == METRICS_RECEIVER


def test_statistics_period_and_scrape_interval_are_the_documented_ones() -> None:
    # A 5-minute CloudWatch period always holds a datapoint (SQS metrics arrive late); a 2-minute
    # scrape halves the paid GetMetricStatistics calls of Alloy's 1m default.
    text = alloy_config("us-east-1", ["q"], "prometheus.relabel.custom.receiver")
    assert text.count('period     = "5m"') == len(cloudwatch.SQS_METRICS)
    assert 'scrape_interval = "2m"' in text


def test_the_collected_sqs_metrics_and_statistics_are_the_documented_ones() -> None:
    # AWS's recommended statistic per SQS metric (Maximum for the approximate gauges, Sum for the
    # counters): https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
    assert [(m.name, m.statistics) for m in cloudwatch.SQS_METRICS] == [
        ("ApproximateNumberOfMessagesVisible", ("Maximum",)),
        ("ApproximateAgeOfOldestMessage", ("Maximum",)),
        ("ApproximateNumberOfMessagesNotVisible", ("Maximum",)),
        ("NumberOfMessagesSent", ("Sum",)),
        ("NumberOfMessagesReceived", ("Sum",)),
        ("NumberOfMessagesDeleted", ("Sum",)),
    ]
