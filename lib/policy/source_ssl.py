"""DMS connects to every database endpoint over TLS."""

from __future__ import annotations

from lib.policy.model import Finding, SynthesizedStack

RULE = "ssl-to-database-endpoints"
DATABASE_ENGINES = {"postgres", "aurora-postgresql", "mysql", "aurora", "mariadb", "oracle", "sqlserver"}


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for address, body in stack.resources("aws_dms_endpoint"):
        if body.get("engine_name") in DATABASE_ENGINES and body.get("ssl_mode", "none") == "none":
            findings.append(Finding(RULE, address, f"ssl_mode is {body.get('ssl_mode', 'unset')!r}: use require or verify-full"))
    return findings
