"""Run every rule over a synthesized stack and apply the reviewed suppressions."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.policy import (
    deletion_protection,
    encryption_at_rest,
    log_retention,
    no_plaintext_secrets,
    no_public_access,
    no_wildcard_iam,
    source_ssl,
)
from lib.policy.model import Finding, Rule, SynthesizedStack

RULES: dict[str, Rule] = {
    encryption_at_rest.RULE: encryption_at_rest.check,
    no_public_access.RULE: no_public_access.check,
    source_ssl.RULE: source_ssl.check,
    no_plaintext_secrets.RULE: no_plaintext_secrets.check,
    no_wildcard_iam.RULE: no_wildcard_iam.check,
    log_retention.RULE: log_retention.check,
    deletion_protection.RULE: deletion_protection.check,
}
SUPPRESSIONS_FILE = Path(__file__).with_name("suppressions.toml")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Suppression:
    rule: str
    resource: str  # a Terraform address, glob allowed
    reason: str

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and fnmatch.fnmatchcase(finding.resource, self.resource)


def load_suppressions(path: Path = SUPPRESSIONS_FILE) -> list[Suppression]:
    raw = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    suppressions = []
    for index, entry in enumerate(raw.get("suppress", [])):
        rule, resource, reason = entry.get("rule", ""), entry.get("resource", ""), entry.get("reason", "").strip()
        if rule not in RULES:
            raise PolicyError(f"{path.name}: suppress[{index}].rule {rule!r} is not a rule; use one of {sorted(RULES)}")
        if not resource or not reason:
            raise PolicyError(f"{path.name}: suppress[{index}] needs a resource and a reason")
        suppressions.append(Suppression(rule, resource, reason))
    return suppressions


def evaluate(document: dict[str, Any], suppressions: list[Suppression] | None = None) -> list[Finding]:
    """Unsuppressed findings of every rule, in rule order."""
    stack = SynthesizedStack(document)
    active = load_suppressions() if suppressions is None else suppressions
    findings = [finding for rule in RULES.values() for finding in rule(stack)]
    return [f for f in findings if not any(s.matches(f) for s in active)]


def check_synth_output(outdir: Path) -> list[Finding]:
    findings: list[Finding] = []
    for stack_file in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        findings += evaluate(json.loads(stack_file.read_text(encoding="utf-8")))
    return findings
