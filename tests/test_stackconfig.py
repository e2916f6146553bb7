"""The one read of the SDK's runtime config (it leans on pulumi.runtime.config internals)."""

from __future__ import annotations

import json

import pulumi

from stackconfig import raw_config


def test_reads_every_key_and_which_are_secret_from_the_runtime():
    pulumi.runtime.set_all_config({"p:a": "1", "p:token": "t", "other:b": "2"}, ["p:token"])
    values, secret = raw_config()
    assert values == {"p:a": "1", "p:token": "t", "other:b": "2"}
    assert secret == {"p:token"}


def test_falls_back_to_the_environment_of_older_language_hosts(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"p:from-env": "x"}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["p:from-env"]))
    values, secret = raw_config()
    assert values["p:from-env"] == "x"
    assert "p:from-env" in secret
