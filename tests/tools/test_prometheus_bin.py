"""Finding promtool and Prometheus for the tests: a missing binary is an error that says how to get it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support import prometheus_binary
from tools import prometheus_bin


def test_a_configured_path_that_is_not_a_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMTOOL", str(tmp_path / "nope"))
    with pytest.raises(
        prometheus_bin.MissingBinaryError, match=r"PROMTOOL=.*nope is not a file.*apt-get download"
    ):
        prometheus_bin.require("promtool")


def test_the_configured_path_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "promtool"
    fake.write_text("")
    monkeypatch.setenv("PROMTOOL", str(fake))
    assert prometheus_bin.require("promtool") == fake


@pytest.mark.parametrize("name", ["promtool", "prometheus"])
def test_the_test_environment_has_a_working_binary(name: str) -> None:
    result = subprocess.run(
        [str(prometheus_binary(name)), "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert f"{name}, version 2." in result.stdout + result.stderr
