"""AlertRules: one cluster's Grafana-managed rules, contact points and routing, in its own folder.

Every object is this cluster's own (builders.grafana_objects): the rules' uids and the contact
points' names carry the cluster, and each rule names its contact point itself (rule-level
notification settings, builders.notification_routing), so no stack owns Grafana's one
notification-policy tree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from builders.alerts import (
    CONDITION_REF_ID,
    EVALUATION_INTERVAL_SECONDS,
    AlertRule,
    AlertSpec,
    alert_catalog,
    grafana_rule_data,
)
from builders.cloudwatch import DEFAULT_INFERENCE_QUEUE
from builders.features import FeatureToggles
from builders.grafana_objects import contact_point_name
from builders.notification_routing import Routing, routing
from components.alloy_monitoring import RELEASE_NAME


@dataclass
class AlertRulesArgs:
    folder_uid: pulumi.Input[str]  # this cluster's folder (StackGrafana)
    namespace: str
    cluster_name: str
    features: FeatureToggles
    services: Sequence[str]
    sqs_queues: Sequence[str]
    runbook_base_url: str
    earliest_token_expiry_epoch: pulumi.Input[int]  # the first of the collectors' and OpenCost's tokens
    prometheus_uid: pulumi.Input[str]
    email_addresses: Sequence[str]  # plain config; empty: no email contact point
    slack_webhook_url: pulumi.Input[str] | None
    pagerduty_integration_key: pulumi.Input[str] | None
    grafana_provider: grafana.Provider  # the stack's Grafana
    release_name: str = RELEASE_NAME  # the k8s-monitoring release whose collectors the rules watch
    inference_queue: str = DEFAULT_INFERENCE_QUEUE  # config `inferenceQueue`: the backlog rule's queue


class AlertRules(pulumi.ComponentResource):
    rule_groups: pulumi.Output[list[str]]
    contact_points: pulumi.Output[list[str]]

    def __init__(self, name: str, args: AlertRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmjudge:observability:AlertRules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.grafana_provider)

        def spec(earliest_token_expiry_epoch: int) -> AlertSpec:
            return AlertSpec(
                namespace=args.namespace,
                services=args.services,
                sqs_queues=args.sqs_queues,
                earliest_token_expiry_epoch=earliest_token_expiry_epoch,
                runbook_base_url=args.runbook_base_url,
                cluster=args.cluster_name,
                release_name=args.release_name,
                features=args.features,
                inference_queue=args.inference_queue,
            )

        # Which groups exist does not depend on the token's expiry (any epoch will do); the
        # token rule's expression does, so the rules are built once the expiry is known.
        groups = sorted({rule.group for rule in alert_catalog(spec(1))})
        resolved = pulumi.Output.all(args.earliest_token_expiry_epoch, args.prometheus_uid)

        plan = routing(
            cluster=args.cluster_name,
            has_email=bool(args.email_addresses),
            has_slack=args.slack_webhook_url is not None,
            has_pagerduty=args.pagerduty_integration_key is not None,
        )
        contact_points = []
        if args.email_addresses:
            contact_points.append(
                grafana.alerting.ContactPoint(
                    f"{name}-email",
                    name=contact_point_name(args.cluster_name, "email"),
                    # Grafana Cloud sends the mail itself, no SMTP settings needed:
                    # https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/configure-email/
                    emails=[grafana.alerting.ContactPointEmailArgs(addresses=list(args.email_addresses))],
                    opts=child,
                )
            )
        if args.slack_webhook_url is not None:
            contact_points.append(
                grafana.alerting.ContactPoint(
                    f"{name}-slack",
                    name=contact_point_name(args.cluster_name, "slack"),
                    slacks=[grafana.alerting.ContactPointSlackArgs(url=args.slack_webhook_url)],
                    opts=child,
                )
            )
        if args.pagerduty_integration_key is not None:
            contact_points.append(
                grafana.alerting.ContactPoint(
                    f"{name}-pagerduty",
                    name=contact_point_name(args.cluster_name, "pagerduty"),
                    pagerduties=[
                        grafana.alerting.ContactPointPagerdutyArgs(
                            integration_key=args.pagerduty_integration_key
                        )
                    ],
                    opts=child,
                )
            )

        def rules_of(group: str) -> pulumi.Output[list[grafana.alerting.RuleGroupRuleArgs]]:
            return resolved.apply(
                lambda r: [
                    _rule_args(rule, r[1], plan) for rule in alert_catalog(spec(r[0])) if rule.group == group
                ],
            )

        # Grafana checks a rule's contact point exists (notification settings validator,
        # pkg/services/ngalert/notifier/validation.go) and refuses to delete one in use ("Receiver is
        # used by notification policies or alert rules", notifier/receiver_svc.go): the rules come
        # after their contact points, and go before them on destroy.
        for group in groups:
            grafana.alerting.RuleGroup(
                f"{name}-{group}",
                name=group,
                folder_uid=args.folder_uid,
                interval_seconds=EVALUATION_INTERVAL_SECONDS,
                rules=rules_of(group),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=contact_points)),
            )

        self.rule_groups = pulumi.Output.from_input(groups)
        self.contact_points = pulumi.Output.from_input(list(plan.contact_points))
        self.register_outputs(
            {
                "rule_groups": self.rule_groups,
                "contact_points": self.contact_points,
            }
        )


def _rule_args(rule: AlertRule, prometheus_uid: str, plan: Routing) -> grafana.alerting.RuleGroupRuleArgs:
    return grafana.alerting.RuleGroupRuleArgs(
        uid=rule.uid,
        name=rule.title,
        condition=CONDITION_REF_ID,
        for_=rule.for_,
        labels=rule.all_labels,
        annotations=rule.annotations,
        no_data_state=rule.no_data_state,
        exec_err_state=rule.exec_err_state,
        # Rule-level routing: this rule's alerts, its DatasourceNoData and DatasourceError alerts
        # too, go to this contact point, never through the organisation's policy tree.
        notification_settings=grafana.alerting.RuleGroupRuleNotificationSettingsArgs(
            contact_point=plan.contact_point_for(rule.severity),
            group_bies=list(plan.group_by),
        ),
        datas=[
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id=step["refId"],
                query_type=step["queryType"],
                datasource_uid=step["datasourceUid"],
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                    from_=step["relativeTimeRange"]["from"], to=step["relativeTimeRange"]["to"]
                ),
                model=json.dumps(step["model"]),
            )
            for step in grafana_rule_data(rule, prometheus_uid)
        ],
    )
