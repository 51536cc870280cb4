"""Each policy rule: the real stack passes it, and a minimal bad document fails it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lib.policy import (
    deletion_protection,
    encryption_at_rest,
    log_retention,
    no_open_security_group,
    no_plaintext_secrets,
    no_public_access,
    no_wildcard_iam,
    source_ssl,
)
from lib.policy.gate import RULES, PolicyError, Suppression, evaluate, load_suppressions
from lib.policy.model import SynthesizedStack


def doc(resource_type: str, body: dict[str, Any], name: str = "bad", profile: str = "dev") -> SynthesizedStack:
    return SynthesizedStack(
        {
            "provider": {"aws": [{"default_tags": [{"tags": {"Profile": profile}}]}]},
            "resource": {resource_type: {name: body}},
        }
    )


def _policy(action: Any, resource: Any) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "s", "Effect": "Allow", "Action": action, "Resource": resource}]}
    )


FAILING = [
    (encryption_at_rest.check, doc("aws_sns_topic", {"name": "t"}), "kms_master_key_id is not set"),
    (encryption_at_rest.check, doc("aws_rds_cluster", {"kms_key_id": "${k}", "storage_encrypted": False}), "storage_encrypted"),
    (encryption_at_rest.check, doc("aws_kinesis_stream", {"kms_key_id": "${k}", "encryption_type": "NONE"}), "encryption_type"),
    (encryption_at_rest.check, doc("aws_s3_bucket", {"bucket": "b"}), "server_side_encryption_configuration"),
    (encryption_at_rest.check, doc("aws_dms_endpoint", {"engine_name": "postgres"}), "kms_key_arn"),
    (encryption_at_rest.check, doc("aws_backup_vault", {"name": "v"}), "kms_key_arn"),
    (encryption_at_rest.check, doc("aws_kinesis_firehose_delivery_stream", {"destination": "extended_s3"}), "server_side"),
    (
        encryption_at_rest.check,
        doc(
            "aws_kinesis_firehose_delivery_stream",
            {"kinesis_source_configuration": {"kinesis_stream_arn": "${s}"}, "extended_s3_configuration": {"bucket_arn": "b"}},
        ),
        "extended_s3_configuration.kms_key_arn",
    ),
    (no_public_access.check, doc("aws_dms_replication_instance", {"publicly_accessible": True}), "publicly_accessible"),
    (no_public_access.check, doc("aws_rds_cluster_instance", {}), "publicly_accessible"),
    (no_public_access.check, doc("aws_s3_bucket", {"bucket": "b"}), "public_access_block"),
    (source_ssl.check, doc("aws_dms_endpoint", {"engine_name": "postgres", "ssl_mode": "none"}), "'none'"),
    (source_ssl.check, doc("aws_dms_endpoint", {"engine_name": "postgres"}), "'unset'"),
    (no_plaintext_secrets.check, doc("aws_dms_endpoint", {"password": "hunter2"}), "password holds a literal"),
    (no_plaintext_secrets.check, doc("aws_db_instance", {"nested": [{"auth_token": "abc"}]}), "nested.auth_token"),
    (no_wildcard_iam.check, doc("aws_iam_role_policy", {"policy": _policy("*", "*")}), "Action * on Resource *"),
    (no_wildcard_iam.check, doc("aws_iam_policy", {"policy": _policy(["s3:GetObject", "*"], ["*"])}), "Action * on Resource *"),
    (no_wildcard_iam.check, doc("aws_iam_role_policy", {"policy": "${jsonencode(local.policy)}"}), "cannot be checked"),
    # A jsonencode document is read like JSON (the trust policies are built that way): a wildcard in it is found.
    (
        no_wildcard_iam.check,
        doc(
            "aws_iam_role_policy",
            {"policy": '${jsonencode({"Statement" = [{"Effect" = "Allow", "Action" = "*", "Resource" = "*"}]})}'},
        ),
        "Action * on Resource *",
    ),
    (log_retention.check, doc("aws_cloudwatch_log_group", {"name": "g"}), "retention_in_days"),
    (no_open_security_group.check, doc("aws_vpc_security_group_ingress_rule", {"cidr_ipv4": "0.0.0.0/0"}), "0.0.0.0/0 opens"),
    (no_open_security_group.check, doc("aws_vpc_security_group_egress_rule", {"cidr_ipv6": "::/0"}), "::/0 opens"),
    (no_open_security_group.check, doc("aws_security_group_rule", {"cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"]}), "cidr_blocks"),
    (
        no_open_security_group.check,
        doc("aws_security_group", {"egress": [{"from_port": 0, "ipv6_cidr_blocks": ["::/0"]}]}),
        "egress[0].ipv6_cidr_blocks",
    ),
    (no_open_security_group.check, doc("aws_vpc_security_group_ingress_rule", {"cidr_ipv4": "${var.cidr}"}), "cannot be checked"),
    (deletion_protection.check, doc("aws_rds_cluster", {"deletion_protection": False}, profile="prod"), "deletion_protection"),
    (
        deletion_protection.check,
        doc("aws_rds_cluster", {"deletion_protection": True, "skip_final_snapshot": True}, profile="prod"),
        "final",
    ),
]


@pytest.mark.parametrize(
    ("rule", "stack", "expected"), FAILING, ids=[f"{r.__module__.rsplit('.', 1)[-1]}-{e}" for r, _, e in FAILING]
)
def test_rule_fails_a_bad_document_naming_resource_and_rule(rule: Any, stack: SynthesizedStack, expected: str) -> None:
    findings = rule(stack)
    assert findings, "the rule let a bad document through"
    assert any(expected in f.message or expected in f.resource for f in findings), findings
    assert all(f.resource.endswith(".bad") and f.rule in RULES for f in findings)
    assert str(findings[0]).startswith(f"[{findings[0].rule}] ")


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_passes_the_real_stack(rule_id: str, stack_json: dict[str, Any], variant_json: dict[str, Any]) -> None:
    assert RULES[rule_id](SynthesizedStack(stack_json)) == []
    assert RULES[rule_id](SynthesizedStack(variant_json)) == []


def test_rules_accept_good_documents() -> None:
    bucket = {"aws_s3_bucket": {"b": {"bucket": "b"}}}
    good = SynthesizedStack(
        {
            "resource": {
                **bucket,
                "aws_s3_bucket_server_side_encryption_configuration": {
                    "e": {
                        "bucket": "${aws_s3_bucket.b.id}",
                        "rule": [{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
                    }
                },
                "aws_s3_bucket_public_access_block": {
                    "p": {
                        "bucket": "${aws_s3_bucket.b.id}",
                        **{flag: True for flag in no_public_access.PUBLIC_ACCESS_BLOCK_FLAGS},
                    }
                },
                "aws_iam_role_policy": {"p": {"policy": _policy(["kms:*"], ["arn:aws:kms:us-east-1:1:key/x"])}},
                "aws_vpc_security_group_egress_rule": {
                    "e": {"cidr_ipv4": "192.168.0.0/16"},
                    "vpc": {"cidr_ipv4": "${data.aws_vpc.network_existing-vpc_1.cidr_block}"},
                },
                "aws_security_group": {"g": {"ingress": [{"cidr_blocks": ["10.1.0.0/16"], "ipv6_cidr_blocks": ["fd00::/8"]}]}},
                "aws_dms_endpoint": {
                    "s": {"engine_name": "postgres", "ssl_mode": "require", "kms_key_arn": "${k}", "password": ""}
                },
                # Behind a Kinesis stream AWS refuses server-side encryption: the stream and the objects carry the key.
                "aws_kinesis_firehose_delivery_stream": {
                    "f": {
                        "kinesis_source_configuration": {"kinesis_stream_arn": "${s}"},
                        "extended_s3_configuration": {"bucket_arn": "b", "kms_key_arn": "${k}"},
                    }
                },
            }
        }
    )
    for rule in RULES.values():
        assert rule(good) == [], rule
    assert deletion_protection.check(doc("aws_rds_cluster", {"deletion_protection": False}, profile="dev")) == []


def test_suppressions_need_a_known_rule_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[[suppress]]\nrule = "log-retention"\nresource = "aws_cloudwatch_log_group.*"\nreason = ""\n')
    with pytest.raises(PolicyError, match="needs a resource and a reason"):
        load_suppressions(path)
    path.write_text('[[suppress]]\nrule = "nope"\nresource = "x"\nreason = "y"\n')
    with pytest.raises(PolicyError, match="'nope' is not a rule"):
        load_suppressions(path)


def test_a_suppression_removes_only_its_finding() -> None:
    document = {
        "resource": {
            "aws_cloudwatch_log_group": {"a": {"name": "a"}, "b": {"name": "b"}},
        }
    }
    remaining = evaluate(document, [Suppression("log-retention", "aws_cloudwatch_log_group.a", "reviewed")])
    assert [f.resource for f in remaining if f.rule == "log-retention"] == ["aws_cloudwatch_log_group.b"]


def test_the_reviewed_suppressions_file_loads() -> None:
    assert all(s.reason for s in load_suppressions())


def test_the_gate_fails_main_on_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import main
    from lib.policy.model import Finding

    monkeypatch.setitem(RULES, "log-retention", lambda stack: [Finding("log-retention", "aws_x.y", "boom")])
    assert main.main(outdir=str(tmp_path)) == 1
    assert (tmp_path / "stacks").is_dir()
    err = capsys.readouterr().err
    assert "policy: [log-retention] aws_x.y: boom" in err and "suppressions.toml" in err
