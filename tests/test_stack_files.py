"""The stack files themselves: what a `pulumi up` on a user's machine starts from."""

from __future__ import annotations

import pytest
import yaml

from builders.config import PROJECT, parse_config
from tools.program import ROOT, stack_file_config


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
