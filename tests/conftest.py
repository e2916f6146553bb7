from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest


@pytest.fixture(autouse=True)
def reset_pulumi_config() -> Iterator[None]:
    """No test sees another's config."""
    pulumi.runtime.set_all_config({}, [])
    yield
    pulumi.runtime.set_all_config({}, [])
