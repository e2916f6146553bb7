"""SQS metrics from CloudWatch, collected by Alloy's `prometheus.exporter.cloudwatch` (YACE inside).

One declarative list (`SQS_METRICS`) says which AWS/SQS metrics and statistics we collect; the
Prometheus names alerts and panels may use (`metric_names()`) and the Alloy config appended to the
metrics collector (`alloy_config()`) are both derived from it, so they cannot drift apart.
Pure: no Pulumi, no AWS calls.

Component reference:
https://grafana.com/docs/alloy/latest/reference/components/prometheus/prometheus.exporter.cloudwatch/
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from builders.k8s_monitoring import METRICS_RECEIVER

SQS_NAMESPACE = "AWS/SQS"

# YACE labels every series with `dimension_<CloudWatch dimension name>`, keeping the dimension's case
# unless `labels_to_snake_case` is set (we leave it off), plus `name`, `region` and `account_id`.
# https://github.com/prometheus-community/yet-another-cloudwatch-exporter/blob/master/pkg/promutil/migrate.go
QUEUE_LABEL = "dimension_QueueName"

# CloudWatch's SQS metrics have one-minute resolution but arrive late; a 5-minute period always
# holds a datapoint, so `nil_to_zero` never turns "not published yet" into a false 0.
PERIOD = "5m"
# Each scrape of the exporter calls GetMetricStatistics once per metric and queue (paid per call);
# 2m halves the calls of Alloy's 1m default and still lands well inside Prometheus' 5m lookback,
# so instant queries never see a gap.
SCRAPE_INTERVAL = "2m"


@dataclass(frozen=True)
class SqsMetric:
    """One AWS/SQS CloudWatch metric, the statistics we collect, and what we use it for."""

    name: str
    statistics: tuple[str, ...]
    purpose: str


# Statistics as AWS recommends for each metric:
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
SQS_METRICS: tuple[SqsMetric, ...] = (
    SqsMetric("ApproximateNumberOfMessagesVisible", ("Maximum",), "queue depth (backlog alert, panel)"),
    SqsMetric("ApproximateAgeOfOldestMessage", ("Maximum",), "age of the oldest message, seconds"),
    # Messages received but neither deleted nor back on the queue: the in-flight ones. CloudWatch has
    # no count of ChangeMessageVisibility calls, so this is our proxy for the plan's "visibility
    # extensions" panel: a worker that keeps extending keeps its message in flight.
    SqsMetric(
        "ApproximateNumberOfMessagesNotVisible", ("Maximum",), "in flight (visibility-extension proxy)"
    ),
    SqsMetric("NumberOfMessagesSent", ("Sum",), "producer throughput"),
    SqsMetric("NumberOfMessagesReceived", ("Sum",), "consumer receives, including redeliveries"),
    SqsMetric("NumberOfMessagesDeleted", ("Sum",), "messages fully processed"),
)

# The platform's inference queue: config `sqsQueues`' default and `inferenceQueue`'s.
DEFAULT_INFERENCE_QUEUE = "inference_queue"
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
# "up to 80 characters ... alphanumeric characters, hyphens (-), and underscores (_)"; a FIFO
# queue's name ends in `.fifo`, counted in the 80.
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.fifo)?$")
_QUEUE_NAME_MAX = 80
# us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1, ...
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")
# A receiver reference such as prometheus.remote_write.grafana_cloud_metrics.receiver.
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_RECEIVER = re.compile(rf"^{_IDENT}(\.{_IDENT})+\.receiver$")


def _prom_string(text: str) -> str:
    """YACE's PromString: snake_case at lower→upper and digit→upper boundaries, separators to '_'."""
    out: list[str] = []
    prev = ""
    for char in text:
        if char in " ,\t/\\.-:=@<>()":
            out.append("_")
        elif char == "%":
            out.append("_percent")
        else:
            if char.isupper() and (prev.islower() or prev.isdigit()):
                out.append("_")
            out.append(char.lower())
        prev = char
    return "".join(out)


def prometheus_metric_name(metric: str, statistic: str, namespace: str = SQS_NAMESPACE) -> str:
    """The Prometheus name YACE gives one CloudWatch metric and statistic.

    Mirrors YACE's `BuildMetricName` (pkg/promutil/migrate.go): `aws_` + namespace + metric +
    statistic, each snake_cased; a metric-name prefix repeating a namespace part is trimmed.
    ("ApproximateNumberOfMessagesVisible", "Maximum")
    -> aws_sqs_approximate_number_of_messages_visible_maximum
    """
    if not metric or not statistic:
        raise ValueError(f"metric {metric!r} and statistic {statistic!r} must both be non-empty")
    prom_ns = _prom_string(namespace.lower()).lstrip("_")
    prefix = "" if prom_ns.startswith("aws") else "aws_"
    name = _prom_string(metric)
    for part in prom_ns.split("_"):
        name = name.removeprefix(part)
    name = name.removeprefix("_")
    return f"{prefix}{prom_ns}_{name}_{_prom_string(statistic)}"


def metric_names() -> frozenset[str]:
    """Every Prometheus metric name the SQS exporter produces from `SQS_METRICS`."""
    return frozenset(prometheus_metric_name(m.name, s) for m in SQS_METRICS for s in m.statistics)


def validate_queue_name(name: str) -> str:
    if not isinstance(name, str) or len(name) > _QUEUE_NAME_MAX or not _QUEUE_NAME.fullmatch(name):
        raise ValueError(
            f"SQS queue name {name!r} is invalid: 1-80 characters of letters, digits, '-' and '_', "
            "optionally ending in '.fifo'"
        )
    return name


def validate_region(region: str) -> str:
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise ValueError(f"AWS region {region!r} is invalid: expected a region code such as 'us-east-1'")
    return region


def _quote(text: str) -> str:
    # A JSON string of printable ASCII is a valid Alloy string literal (same escapes as Go's).
    return json.dumps(text, ensure_ascii=True)


def _block_label(queue: str) -> str:
    # Labels are identifiers in Alloy's syntax; queue names may hold '-' and '.'.
    # YACE puts a static job's label into the `name` label; queries use `dimension_QueueName`.
    return "queue_" + re.sub(r"[^A-Za-z0-9_]", "_", queue)


def _metric_block(metric: SqsMetric, indent: str) -> list[str]:
    stats = ", ".join(_quote(s) for s in metric.statistics)
    return [
        f"{indent}metric {{",
        f"{indent}  name       = {_quote(metric.name)}",
        f"{indent}  statistics = [{stats}]",
        f"{indent}  period     = {_quote(PERIOD)}",
        f"{indent}}}",
    ]


def _static_job(region: str, queue: str) -> list[str]:
    lines = [
        f"  static {_quote(_block_label(queue))} {{",
        f"    regions     = [{_quote(region)}]",
        f"    namespace   = {_quote(SQS_NAMESPACE)}",
        f"    dimensions  = {{ {_quote('QueueName')} = {_quote(queue)} }}",
        # An idle SQS queue stops publishing; for counts and depth "nothing published" means 0.
        "    nil_to_zero = true",
    ]
    for metric in SQS_METRICS:
        lines += ["", *_metric_block(metric, "    ")]
    return [*lines, "  }"]


def checked_queues(queues: Sequence[str]) -> list[str]:
    """The queues, each a valid name, none repeating or clashing once made an Alloy label."""
    if isinstance(queues, str) or not queues:
        raise ValueError(f"queues {queues!r} must be a non-empty list of SQS queue names")
    seen: dict[str, str] = {}
    for queue in queues:
        label = _block_label(validate_queue_name(queue))
        if label in seen:
            raise ValueError(f"SQS queues {seen[label]!r} and {queue!r} repeat or clash as {label!r}")
        seen[label] = queue
    return list(queues)


def alloy_config(region: str, queues: Sequence[str], forward_to: str) -> str:
    """Alloy config that collects `SQS_METRICS` for `queues` and forwards them to `forward_to`.

    One `static` job per queue rather than a `discovery` job: a static job names its dimensions, so
    YACE calls only cloudwatch:GetMetricStatistics (and, per scrape, iam:ListAccountAliases);
    discovery first lists resources by tag (tag:GetResources) and metrics (cloudwatch:ListMetrics),
    then calls GetMetricData. The IAM policy grants exactly the static calls
    (builders/iam.py CLOUDWATCH_EXPORTER_ACTIONS): a discovery job here needs that list changed.

    The scrape uses clustering so that, should the metrics StatefulSet run several replicas, only
    one of them calls CloudWatch per interval (every replica exports the same target).
    """
    validate_region(region)
    checked = checked_queues(queues)
    if not isinstance(forward_to, str) or not _RECEIVER.fullmatch(forward_to):
        raise ValueError(
            f"forward_to {forward_to!r} must be a receiver reference such as {METRICS_RECEIVER!r}"
        )
    lines = [
        "// SQS metrics from CloudWatch (builders/cloudwatch.py).",
        'prometheus.exporter.cloudwatch "sqs" {',
        f"  sts_region = {_quote(region)}",
    ]
    for queue in checked:
        lines += ["", *_static_job(region, queue)]
    lines += [
        "}",
        "",
        'prometheus.scrape "cloudwatch_sqs" {',
        "  targets         = prometheus.exporter.cloudwatch.sqs.targets",
        f"  forward_to      = [{forward_to}]",
        f"  scrape_interval = {_quote(SCRAPE_INTERVAL)}",
        # CloudWatch calls for many queues can take a while; stay below the interval.
        '  scrape_timeout  = "90s"',
        "",
        "  clustering {",
        "    enabled = true",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"
