"""DMS connects to every database endpoint over TLS, unless the config opted out explicitly for that source.

The opt-out (`sources.<key>.allow_unencrypted`, MySQL/MariaDB only) is written onto the endpoint as the
tag ALLOW_UNENCRYPTED_TAG, naming the config field, so the exception is visible in the synthesized JSON.
"""

from __future__ import annotations

from lib.constants import ALLOW_UNENCRYPTED_TAG
from lib.policy.model import Finding, SynthesizedStack

RULE = "ssl-to-database-endpoints"
DATABASE_ENGINES = {"postgres", "aurora-postgresql", "mysql", "aurora", "mariadb", "oracle", "sqlserver"}
# The config allows the opt-out for MySQL-family sources only; a tag on anything else is not honoured.
OPT_OUT_ENGINES = {"mysql", "mariadb"}


def check(stack: SynthesizedStack) -> list[Finding]:
    findings: list[Finding] = []
    for address, body in stack.resources("aws_dms_endpoint"):
        opted_out = ALLOW_UNENCRYPTED_TAG in (body.get("tags") or {}) and body.get("engine_name") in OPT_OUT_ENGINES
        if body.get("engine_name") in DATABASE_ENGINES and body.get("ssl_mode", "none") == "none" and not opted_out:
            findings.append(Finding(RULE, address, f"ssl_mode is {body.get('ssl_mode', 'unset')!r}: use require or verify-full"))
    return findings
