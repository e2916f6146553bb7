"""Alert rules, contact points, routing and dashboards in the stack's Grafana, under mocks."""

from __future__ import annotations

import json

import pulumi
import pytest
from pulumi.runtime import settings

from builders.config import PROJECT, epoch_seconds
from builders.grafana_com import dashboards_for_platform
from tests.builders.test_alerts import EXPECTED_CONDITION, EXPECTED_IDENTITY, documented_uid
from tests.support import DELETE, EKS_WITH_SERVICES, by_type, config_for, named, prepared, settled
from tools.mocks import SECRET_SIG, SECRET_SIG_KEY, PlaceholderMocks, RecordingMonitor, computed_outputs
from tools.program import PLACEHOLDER_ALERT_EMAIL, ProgramRun, prepare

RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
FOLDER = "grafana:oss/folder:Folder"
TOKEN = "grafana:cloud/accessPolicyRotatingToken:AccessPolicyRotatingToken"
PROM_UID = "placeholder-prom"  # what the data-source lookup answers under mocks
CLUSTER = "llm-judge-local"  # Pulumi.local.yaml's clusterName
FOLDER_UID = "llm-judge-llm-judge-local"
EMAIL, SLACK, PAGERDUTY = (f"llm-judge-{CLUSTER}-{d}" for d in ("email", "slack", "pagerduty"))
GROUP_BY = ["alertname", "grafana_folder", "cluster", "job"]


def with_secrets(email: object = DELETE, **secrets: str):
    config, secret_keys = config_for("local", alertEmailAddresses=email)
    for key, value in secrets.items():
        config[f"llm-judge-observability:{key}"] = value
        secret_keys = [*secret_keys, f"llm-judge-observability:{key}"]
    return prepare("local", config, secret_keys).start()


def rules(run) -> list[dict]:
    return [rule for group in by_type(run, RULE_GROUP) for rule in group.inputs["rules"]]


def routes(run) -> dict[str, str]:
    """Severity -> the contact point its rules name (rule-level notification settings); every rule of
    one severity names the same one, grouped the same way."""
    found: dict[str, set[str]] = {}
    for rule in rules(run):
        settings = rule["notificationSettings"]
        assert settings["groupBies"] == GROUP_BY, rule["name"]
        found.setdefault(rule["labels"]["severity"], set()).add(settings["contactPoint"])
    assert all(len(points) == 1 for points in found.values()), found
    return {severity: points.pop() for severity, points in found.items()}


@pulumi.runtime.test
def test_rules_query_the_stacks_prometheus_through_a_threshold_condition():
    run = prepared("local").start()

    def check(run):
        groups = by_type(run, RULE_GROUP)
        assert {g.inputs["folderUid"] for g in groups} == {FOLDER_UID}
        assert rules(run)
        for rule in rules(run):
            assert rule["labels"]["cluster"] == CLUSTER
            assert rule["condition"] == "C"
            assert [d["refId"] for d in rule["datas"]] == ["A", "B", "C"]
            assert rule["datas"][0]["datasourceUid"] == PROM_UID
            assert rule["labels"]["severity"] in {"critical", "warning"}
            assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
            assert rule["noDataState"] and rule["execErrState"]
            json.loads(rule["datas"][0]["model"])  # the model is JSON text

    return settled(run, check)


@pulumi.runtime.test
def test_token_rule_is_built_from_the_real_token_expiry():
    run = prepared("local").start()

    def check(run):
        tokens = [named(run, TOKEN, f"grafana-cloud-{kind}-token") for kind in ("collectors", "opencost")]
        # The rule watches the first of the tokens in the cluster's Secret to expire (not the
        # verification token's: tools.verify's expiry stops no telemetry). The expiry is what the
        # (mock) provider computed for the tokens: clock + lifetime.
        expiry = min(
            epoch_seconds(computed_outputs(t.type, t.inputs, run.mocks.now)["expiresAt"]) for t in tokens
        )
        (token_rule,) = [r for r in rules(run) if "time()" in json.loads(r["datas"][0]["model"])["expr"]]
        assert f"vector({expiry})" in json.loads(token_rule["datas"][0]["model"])["expr"]

    return settled(run, check)


@pulumi.runtime.test
def test_no_queue_rules_without_sqs_on_local():
    run = prepared("local").start()
    return settled(run, lambda run: _none_about_queues(run))


def _none_about_queues(run) -> None:
    assert all("aws_sqs" not in json.loads(r["datas"][0]["model"])["expr"] for r in rules(run))


@pulumi.runtime.test
def test_eks_has_the_queue_backlog_rule():
    run = prepared("eks").start()

    def check(run):
        exprs = [json.loads(r["datas"][0]["model"])["expr"] for r in rules(run)]
        assert any('dimension_QueueName="inference_queue"' in e for e in exprs)

    return settled(run, check)


@pulumi.runtime.test
def test_an_email_list_alone_receives_every_alert_as_plain_config():
    run = prepared("local", alertEmailAddresses='["oncall@llm-judge.dev", "sre@llm-judge.dev"]').start()

    def check(run):
        (point,) = by_type(run, CONTACT_POINT)
        assert point.inputs["name"] == EMAIL
        # Email addresses are plain config: not hidden, nothing else in the block.
        assert point.inputs["emails"] == [{"addresses": ["oncall@llm-judge.dev", "sre@llm-judge.dev"]}]
        assert routes(run) == {"critical": EMAIL, "warning": EMAIL}
        # Routing is on the rules: the organisation's policy tree is nobody's to declare.
        assert by_type(run, POLICY) == []

    return settled(run, check)


@pulumi.runtime.test
def test_the_stack_files_placeholder_destination_is_what_synth_routes_to():
    run = prepared("local").start()  # Pulumi.local.yaml names no destination: synth supplies one

    def check(run):
        (point,) = by_type(run, CONTACT_POINT)
        assert point.inputs["emails"] == [{"addresses": [PLACEHOLDER_ALERT_EMAIL]}]
        assert routes(run) == {"critical": EMAIL, "warning": EMAIL}

    return settled(run, check)


@pulumi.runtime.test
def test_critical_to_pagerduty_warning_to_slack_with_secrets_kept_secret():
    run = with_secrets(slackWebhookUrl="https://hooks.example/T0/B0/x", pagerdutyIntegrationKey="pd-key-123")

    def check(run):
        points = {p.inputs["name"]: p for p in by_type(run, CONTACT_POINT)}
        assert set(points) == {SLACK, PAGERDUTY}
        # A list holding a secret travels as one secret: the whole block is hidden.
        slacks = points[SLACK].inputs["slacks"]
        pagerduties = points[PAGERDUTY].inputs["pagerduties"]
        for block in (slacks, pagerduties):
            assert isinstance(block, dict) and block.get(SECRET_SIG_KEY) == SECRET_SIG
        assert slacks["value"][0]["url"] == "https://hooks.example/T0/B0/x"
        assert pagerduties["value"][0]["integrationKey"] == "pd-key-123"
        assert routes(run) == {"critical": PAGERDUTY, "warning": SLACK}

    return settled(run, check)


@pulumi.runtime.test
def test_all_three_destinations_pagerduty_and_slack_with_email_unused():
    run = with_secrets(
        email='["oncall@llm-judge.dev"]',
        slackWebhookUrl="https://hooks.example/T0/B0/x",
        pagerdutyIntegrationKey="k",
    )

    def check(run):
        # Every configured destination is a contact point (a person may route to it by hand); with
        # PagerDuty and Slack both set, no rule names the email one.
        assert {p.inputs["name"] for p in by_type(run, CONTACT_POINT)} == {EMAIL, SLACK, PAGERDUTY}
        assert routes(run) == {"critical": PAGERDUTY, "warning": SLACK}

    return settled(run, check)


@pulumi.runtime.test
def test_pagerduty_alone_gets_the_warnings_too():
    run = with_secrets(pagerdutyIntegrationKey="k")

    def check(run):
        assert routes(run) == {"critical": PAGERDUTY, "warning": PAGERDUTY}

    return settled(run, check)


@pulumi.runtime.test
def test_dashboards_use_the_stacks_data_source_uids_and_the_folder():
    run = prepared("local").start()

    def check(run):
        dashboards = {d.name: d for d in by_type(run, DASHBOARD)}
        custom = json.loads(dashboards["dashboards-llm-judge"].inputs["configJson"])
        # This cluster's copy: its uid is not the folder's (they share Grafana's uid space).
        assert custom["uid"] == f"llm-judge-overview-{CLUSTER}"
        (cluster_variable,) = [v for v in custom["templating"]["list"] if v["name"] == "cluster"]
        assert cluster_variable["current"]["value"] == CLUSTER
        assert PROM_UID in json.dumps(custom) and "placeholder-logs" in json.dumps(custom)
        for pinned in dashboards_for_platform("local"):
            model = dashboards[f"dashboards-{pinned.gnet_id}"].inputs["configJson"]
            assert "${DS_PROMETHEUS}" not in model and PROM_UID in model
            assert "__inputs" not in json.loads(model)
            # The downloaded model's own uid (placeholder-gnet-<id> under mocks) is replaced, and its
            # `cluster` variable opens on this stack's cluster.
            assert json.loads(model)["uid"] == f"grafana-com-{pinned.gnet_id}-{CLUSTER}"
            (variable,) = json.loads(model)["templating"]["list"]
            assert variable["current"] == {"selected": True, "text": CLUSTER, "value": CLUSTER}
        assert all(d.inputs["folder"] == FOLDER_UID for d in dashboards.values())
        (folder,) = by_type(run, FOLDER)
        assert (folder.inputs["uid"], folder.inputs["title"]) == (FOLDER_UID, f"LLM Judge ({CLUSTER})")

    return settled(run, check)


@pulumi.runtime.test
def test_features_turn_grafana_content_off():
    run = prepared("local", features='{"alerting": false, "dashboards": false}').start()

    def check(run):
        assert by_type(run, RULE_GROUP) == [] and by_type(run, DASHBOARD) == []
        assert by_type(run, "grafana:cloud/stackServiceAccount:StackServiceAccount") == []

    return settled(run, check)


class FirstPreviewMocks(PlaceholderMocks):
    """A first preview: the stack's service-account token does not exist yet (its id is unknown)."""

    def new_resource(self, args):
        resource_id, state = super().new_resource(args)
        if args.typ == "grafana:cloud/stackServiceAccountRotatingToken:StackServiceAccountRotatingToken":
            return "", {}
        return resource_id, state


@pulumi.runtime.test
def test_first_preview_does_not_look_up_data_sources_before_the_token_exists():
    config, secret_keys = config_for("local")
    mocks = FirstPreviewMocks()
    monitor = RecordingMonitor(mocks)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="local", preview=True, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys)
    run = ProgramRun(stack="local", mocks=mocks, monitor=monitor).start()

    def check(run):
        # An unconfigured provider would answer the lookup with nothing and the run would fail.
        assert "grafana:oss/getDataSource:getDataSource" not in run.mocks.invoked
        assert by_type(run, RULE_GROUP)  # still declared, with unknown rules, as the preview shows

    return settled(run, check)


@pytest.mark.parametrize(
    ("stack", "cluster"), [("local", "llm-judge-local"), ("eks", "llm-judge-eks-prod")], ids=["local", "eks"]
)
@pulumi.runtime.test
def test_each_stacks_rules_route_to_its_own_contact_point_which_they_wait_for(stack: str, cluster: str):
    run = prepared(stack).start()

    def check(run):
        (point,) = by_type(run, CONTACT_POINT)
        own = f"llm-judge-{cluster}-email"
        assert point.inputs["name"] == own
        assert routes(run) == {"critical": own, "warning": own}
        # Grafana refuses a rule naming a contact point that does not exist, and deleting one in use.
        for group in by_type(run, RULE_GROUP):
            assert point.urn in group.dependencies, group.name

    return settled(run, check)


@pytest.mark.parametrize("stack", ["local", "eks"])
@pulumi.runtime.test
def test_every_rule_reaches_grafana_with_its_documented_condition(stack: str):
    """The RuleGroup arguments as the provider gets them, through the real program: pending period,
    no-data and error states, severity, condition and the three-stage data model, against the
    README's table (EXPECTED_CONDITION, written out) — not against the builder's own values.
    The eks stack runs with its services instrumented, so that its per-service rules exist too
    (Pulumi.eks.yaml starts without them: test_alert_rules covers that default)."""
    run = (prepared(stack, features=EKS_WITH_SERVICES) if stack == "eks" else prepared(stack)).start()

    def check(run):
        groups = {g.inputs["name"]: g for g in by_type(run, RULE_GROUP)}
        queues = {"llm-judge-queues"} if stack == "eks" else set()
        assert set(groups) == {"llm-judge-services", "llm-judge-pipeline", *queues}
        # Grafana evaluates each group every minute (the `for` periods are whole minutes of it).
        assert {g.inputs["intervalSeconds"] for g in groups.values()} == {60}
        got = {rule["name"]: rule for rule in rules(run)}
        expected = {t for t in EXPECTED_CONDITION if stack == "eks" or t != "InferenceQueueBacklog"}
        assert set(got) == expected
        for title, (comparison, threshold, pending, no_data, exec_err) in EXPECTED_CONDITION.items():
            if title not in got:
                continue
            rule = got[title]
            key = EXPECTED_IDENTITY[title][0]
            assert rule["uid"] == documented_uid(key, CLUSTER if stack == "local" else "llm-judge-eks-prod")
            assert (rule["for"], rule["noDataState"], rule["execErrState"]) == (pending, no_data, exec_err)
            assert rule["labels"]["severity"] == EXPECTED_IDENTITY[title][1]["severity"], title
            assert rule["condition"] == "C", title
            query, reduce, condition = rule["datas"]
            assert (query["refId"], query["datasourceUid"], query["queryType"]) == ("A", PROM_UID, "")
            assert query["relativeTimeRange"] == {"from": 600, "to": 0}
            model = json.loads(query["model"])
            assert (model["refId"], model["instant"], model["range"]) == ("A", True, False), title
            assert model["datasource"] == {"type": "prometheus", "uid": PROM_UID}
            if title != "CollectorTokenExpiring":  # vector(<expiry>) - time(): no series to select
                cluster = CLUSTER if stack == "local" else "llm-judge-eks-prod"
                assert f'cluster="{cluster}"' in model["expr"], title
            for stage, ref in ((reduce, "B"), (condition, "C")):
                assert (stage["refId"], stage["datasourceUid"]) == (ref, "__expr__"), title
                assert stage["relativeTimeRange"] == {"from": 0, "to": 0}
            assert json.loads(reduce["model"]) == {
                "refId": "B",
                "datasource": {"type": "__expr__", "uid": "__expr__"},
                "type": "reduce",
                "expression": "A",
                "reducer": "last",
            }
            assert json.loads(condition["model"]) == {
                "refId": "C",
                "datasource": {"type": "__expr__", "uid": "__expr__"},
                "type": "threshold",
                "expression": "B",
                "conditions": [{"evaluator": {"type": comparison, "params": [threshold]}}],
            }, title

    return settled(run, check)


@pytest.mark.parametrize("stack", ["local", "eks"])
@pulumi.runtime.test
def test_no_dashboard_replaces_one_it_did_not_make(stack: str):
    """`overwrite: false` (written out, though it is the provider's default): a dashboard of the
    same uid in the Grafana stack fails the create loudly instead of being replaced."""
    run = prepared(stack).start()

    def check(run):
        dashboards = by_type(run, "grafana:oss/dashboard:Dashboard")
        assert len(dashboards) == 5  # LLM Judge and the four pinned grafana.com dashboards
        assert {d.name: d.inputs["overwrite"] for d in dashboards} == {d.name: False for d in dashboards}

    return settled(run, check)
