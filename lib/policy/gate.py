"""Run every rule over a synthesized stack and apply the reviewed suppressions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lib.policy import (
    deletion_protection,
    encryption_at_rest,
    internet_egress,
    log_retention,
    no_open_security_group,
    no_plaintext_secrets,
    no_public_access,
    no_wildcard_iam,
    source_ssl,
)
from lib.policy.model import Finding, Rule, SynthesizedStack
from lib.policy.suppressions import Suppression, SuppressionError
from lib.policy.suppressions import load_suppressions as _load

RULES: dict[str, Rule] = {
    encryption_at_rest.RULE: encryption_at_rest.check,
    no_public_access.RULE: no_public_access.check,
    source_ssl.RULE: source_ssl.check,
    no_plaintext_secrets.RULE: no_plaintext_secrets.check,
    no_wildcard_iam.RULE: no_wildcard_iam.check,
    log_retention.RULE: log_retention.check,
    deletion_protection.RULE: deletion_protection.check,
    no_open_security_group.RULE: no_open_security_group.check,
    internet_egress.RULE: internet_egress.check,
}
SUPPRESSIONS_FILE = Path(__file__).with_name("suppressions.toml")


PolicyError = SuppressionError


def load_suppressions(path: Path = SUPPRESSIONS_FILE) -> list[Suppression]:
    """The gate's reviewed exceptions: `[[suppress]]` entries naming a rule of RULES, a resource and why."""
    return _load(path, table="suppress", id_key="rule", known=RULES)


def evaluate(document: dict[str, Any], suppressions: list[Suppression] | None = None) -> list[Finding]:
    """Unsuppressed findings of every rule, in rule order."""
    stack = SynthesizedStack(document)
    active = load_suppressions() if suppressions is None else suppressions
    findings = [finding for rule in RULES.values() for finding in rule(stack)]
    return [f for f in findings if not any(s.matches(f.rule, f.resource) for s in active)]


def check_synth_output(outdir: Path) -> list[Finding]:
    findings: list[Finding] = []
    for stack_file in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        findings += evaluate(json.loads(stack_file.read_text(encoding="utf-8")))
    return findings
