"""Entry point of the policy pack: `pulumi preview --policy-pack policy` runs this file.

Constructing `PolicyPack` starts the analyzer's gRPC server and blocks, so nothing imports this
module: the rules live in `policy/rules.py` (pure, tested), this file only wraps them.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The pack runs with policy/ as its working directory; the rules import the project's builders.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

from policy.rules import RULES, policy_validation

PolicyPack(
    name="llm-judge-observability",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=policy_validation(rule),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for rule in RULES
    ],
)
