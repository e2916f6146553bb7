"""The stack files themselves: what a `pulumi up` on a user's machine starts from."""

from __future__ import annotations

import pytest
import yaml

from builders.config import PROJECT, ConfigError, parse_config
from tools.program import PLACEHOLDER_ALERT_EMAIL, ROOT, stack_file_config


def stack_file(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.mark.parametrize(
    ("stack", "providers"), [("local", {"kubernetes", "grafana"}), ("eks", {"kubernetes", "grafana", "aws"})]
)
def test_default_providers_are_disabled_so_nothing_lands_in_the_wrong_place(stack, providers):
    assert providers <= set(stack_file(stack)["pulumi:disable-default-providers"])


@pytest.mark.parametrize("stack", ["local", "eks"])
def test_stack_files_parse_and_hold_no_secret(stack):
    config, secret_keys = stack_file_config(stack)
    parsed = parse_config(config, set(secret_keys), stack)
    assert parsed.platform == stack
    assert f"{PROJECT}:grafanaCloudApiToken" not in stack_file(stack)  # set with --secret, never here


def test_project_file_names_the_project_and_a_virtualenv():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"


@pytest.mark.parametrize("stack", ["local", "eks"])
def test_a_user_must_name_an_alert_destination_before_pulumi_up(stack):
    """The stack files turn alerting on and name no destination: `pulumi up` stops with the one message
    saying what to set. Synth supplies a placeholder address (reserved .invalid domain) instead."""
    config, secret_keys = stack_file_config(stack)
    assert config.pop(f"{PROJECT}:alertEmailAddresses") == f'["{PLACEHOLDER_ALERT_EMAIL}"]'
    assert PLACEHOLDER_ALERT_EMAIL.endswith(".invalid")
    with pytest.raises(ConfigError, match="no alert destination is set") as raised:
        parse_config(config, set(secret_keys), stack)
    assert "pulumi config set --path 'alertEmailAddresses[0]' <address>" in str(raised.value)


def test_synth_supplies_no_placeholder_destination_where_the_stack_file_names_one(tmp_path):
    stack_file = tmp_path / "Pulumi.local.yaml"
    original = (ROOT / "Pulumi.local.yaml").read_text()
    stack_file.write_text(
        original + "  llm-judge-observability:alertEmailAddresses:\n    - oncall@llm-judge.dev\n"
    )
    config, _ = stack_file_config("local", stack_file)
    assert config[f"{PROJECT}:alertEmailAddresses"] == '["oncall@llm-judge.dev"]'
    off = tmp_path / "off.yaml"
    off.write_text(original.replace("    alerting: true", "    alerting: false"))
    assert f"{PROJECT}:alertEmailAddresses" not in stack_file_config("local", off)[0]


def test_a_malformed_features_value_is_left_to_the_config_check(tmp_path):
    broken = tmp_path / "Pulumi.local.yaml"
    text = (ROOT / "Pulumi.local.yaml").read_text()
    start = text.index("  llm-judge-observability:features:")
    broken.write_text(text[:start] + '  llm-judge-observability:features: "{alerting"\n')
    config, secret_keys = stack_file_config("local", broken)  # no traceback here
    with pytest.raises(ConfigError, match="features"):
        parse_config(config, set(secret_keys), "local")


def test_the_api_servers_metrics_are_off_unless_asked_for():
    # About 20,000 series nothing here reads, against the free tier's 10,000 for every cluster of the
    # Grafana Cloud stack together (README "Series bill"): off by default and in the eks stack file.
    config, secret_keys = stack_file_config("eks")
    assert parse_config(config, set(secret_keys), "eks").features.api_server_metrics is False
    assert stack_file("eks")[f"{PROJECT}:features"]["apiServerMetrics"] is False
    del config[f"{PROJECT}:features"]
    assert parse_config(config, set(secret_keys), "eks").features.api_server_metrics is False
