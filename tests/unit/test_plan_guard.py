"""The plan guard (tools/plan_guard.py): a pure function over `terraform show -json` plans.

Recorded plans (tests/unit/fixtures/plans/, from the emulator deployment of the base stack, bodies
trimmed) and small hand-made ones: a live migration refuses each protected replace or destroy with the
attributes that force it; an update in place, an unprotected replacement, a migration that is not
live and an address the operator allowed pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lib.constants import Output
from tools.plan_guard import PROTECTED, LiveMigration, PlanChanges, Refusal, guard, protected_changes, read_live

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
LIVE = LiveMigration("reads_shifting", None, ("main",))


def change(address: str, actions: list[str], replace_paths: list[list[Any]] | None = None) -> dict[str, Any]:
    resource_type = address.split(".", 1)[0]
    body: dict[str, Any] = {"actions": actions}
    if replace_paths is not None:
        body["replace_paths"] = replace_paths
    return {"address": address, "mode": "managed", "type": resource_type, "change": body}


PLAN = {
    "resource_changes": [
        change("aws_dms_replication_task.dms_task_main_1", ["delete", "create"], [["replication_task_id"]]),
        change("aws_dms_endpoint.dms_source_onprem_2", ["create", "delete"], [["endpoint_id"], ["engine_name"]]),
        change("aws_rds_cluster.aurora_cluster_3", ["update"]),
        change("aws_route53_record.cutover_writer_aurora_4", ["delete"]),
        change("aws_cloudwatch_metric_alarm.lag_5", ["delete", "create"], [["alarm_name"]]),
        change("aws_rds_cluster_instance.aurora_reader_6", ["no-op"]),
    ]
}


def test_a_live_migration_refuses_each_protected_replace_and_destroy_naming_the_attributes() -> None:
    verdict = guard(PLAN, LIVE)
    assert not verdict.ok
    assert verdict.refused == [
        Refusal("aws_dms_replication_task.dms_task_main_1", "replace", ("replication_task_id",)),
        Refusal("aws_dms_endpoint.dms_source_onprem_2", "replace", ("endpoint_id", "engine_name")),
        Refusal("aws_route53_record.cutover_writer_aurora_4", "destroy", ()),
    ]
    message = verdict.message()
    assert "REFUSED while the cutover is in reads_shifting and replication runs: main" in message
    assert "aws_dms_replication_task.dms_task_main_1: replace, forced by replication_task_id" in message
    assert "--allow-replace ADDRESS --reason TEXT" in message
    # A replaced task is told how to resume instead of reloading; a plan refusing no task is not.
    assert "./cutover cdc-position --task KEY" in message and 'migration_type = "cdc"' in message
    records_only = {"resource_changes": [c for c in PLAN["resource_changes"] if c["type"] == "aws_route53_record"]}
    assert "cdc-position" not in guard(records_only, LIVE).message()


@pytest.mark.parametrize(
    "live",
    [
        LiveMigration("write_fence"),
        LiveMigration("writer_flipped"),
        LiveMigration("paused", "reads_shifting"),
        LiveMigration("replicating", None, ("main",)),
        LiveMigration(None, None, ("reverse",)),
    ],
)
def test_every_live_situation_counts(live: LiveMigration) -> None:
    assert not guard(PLAN, live).ok


@pytest.mark.parametrize(
    "live", [LiveMigration(), LiveMigration("replicating"), LiveMigration("completed"), LiveMigration("rolled_back")]
)
def test_nothing_is_refused_when_nothing_is_live(live: LiveMigration) -> None:
    verdict = guard(PLAN, live)
    assert verdict.ok and verdict.refused == [] and "nothing a live migration stands on" in verdict.message()


def test_an_allowed_address_passes_and_is_reported() -> None:
    allowed = {
        "aws_dms_replication_task.dms_task_main_1",
        "aws_dms_endpoint.dms_source_onprem_2",
        "aws_route53_record.cutover_writer_aurora_4",
    }
    verdict = guard(PLAN, LIVE, allowed)
    assert verdict.ok and len(verdict.allowed) == 3 and "allowed by the operator" in verdict.message()
    partly = guard(PLAN, LIVE, {"aws_dms_endpoint.dms_source_onprem_2"})
    assert not partly.ok and len(partly.refused) == 2


def test_recorded_replacing_plan_is_refused() -> None:
    plan = json.loads((FIXTURES / "replace.json").read_text())
    changes = protected_changes(plan)
    assert changes, "the recorded plan replaces protected resources"
    assert {c.address.split(".")[0] for c in changes} >= {"aws_rds_cluster", "aws_rds_cluster_instance", "aws_route53_record"}
    # In-place updates of protected resources (the endpoints here) pass: only replace and destroy are refused.
    assert not any(c.address.startswith("aws_dms_endpoint.") for c in changes)
    verdict = guard(plan, LIVE)
    assert not verdict.ok and len(verdict.refused) == len(changes)
    assert any(c.attributes for c in changes), "Terraform names the attributes that force replacement"


def test_recorded_dms_replacement_is_refused_also_when_terraform_names_no_attribute() -> None:
    """`terraform plan -replace=...` of an endpoint and the instance: replace_by_request carries no replace_paths."""
    plan = json.loads((FIXTURES / "dms-replace.json").read_text())
    refused = {c.address: c for c in guard(plan, LIVE).refused}
    kinds = {address.split(".")[0] for address in refused}
    assert kinds == {"aws_dms_endpoint", "aws_dms_replication_instance", "aws_dms_replication_task"}
    task = next(c for a, c in refused.items() if a.startswith("aws_dms_replication_task."))
    assert task.action == "replace" and task.attributes == ("source_endpoint_arn",)
    endpoint = next(c for a, c in refused.items() if a.startswith("aws_dms_endpoint."))
    assert endpoint.attributes == ()
    assert "aws_dms_endpoint" in str(endpoint) and ": replace" in str(endpoint)


def test_recorded_plans_without_protected_replacements_pass_even_when_live() -> None:
    for name in ("update.json", "noop.json"):
        plan = json.loads((FIXTURES / name).read_text())
        assert protected_changes(plan) == [], name
        assert guard(plan, LIVE).ok, name


def test_recorded_in_place_update_passes_even_when_live() -> None:
    plan = json.loads((FIXTURES / "update.json").read_text())
    assert protected_changes(plan) == []
    assert guard(plan, LIVE).ok


class _Client:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def get_parameter(self, **_: Any) -> Any:
        return {"Parameter": {"Value": self.answers["state"]}}

    def describe_replication_tasks(self, **_: Any) -> Any:
        return {"ReplicationTasks": [{"Status": self.answers["task"]}]}


class _Session:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def client(self, _service: str) -> _Client:
        return _Client(self.answers)


def test_read_live_takes_the_phase_and_the_running_replications_from_the_deployment() -> None:
    outputs = {
        Output.CUTOVER_STATE_PARAMETER: "/tap-migrate/dev/cutover/state",
        Output.DMS_TASK_ARNS: {"main": "arn:aws:dms:us-east-1:123456789012:task:ABC"},
    }
    session = _Session({"state": '{"version": 3, "phase": "paused", "paused_from": "write_fence"}', "task": "running"})
    assert read_live(session, outputs) == LiveMigration("paused", "write_fence", ("main",))
    quiet = _Session({"state": '{"version": 1, "phase": "replicating"}', "task": "stopped"})
    assert read_live(quiet, outputs).reasons == []


def test_a_task_changed_in_place_passes_and_is_told_what_dms_does() -> None:
    """A settings change is allowed mid-cutover; a mapping change too, with what DMS does on resume."""

    def updated(attribute: str) -> dict[str, Any]:
        task = change("aws_dms_replication_task.dms_task-main_1", ["update"])
        task["change"] |= {"before": {attribute: '{"a":1}'}, "after": {attribute: '{"a":2}'}}
        return {"resource_changes": [task]}

    settings = guard(updated("replication_task_settings"), LIVE)
    assert settings.ok and "replication_task_settings changes in place; DMS modifies only a stopped task" in settings.message()
    mappings = guard(updated("table_mappings"), LIVE)
    assert mappings.ok and "a table added to the mapping is fully loaded on resume" in mappings.message()
    assert guard(updated("table_mappings"), LiveMigration()).notes == []  # nothing live: nothing to say


def test_plan_changes_count_as_terraform_does() -> None:
    from tools.plan_guard import PlanChanges

    counted = PlanChanges.of(PLAN)
    # a replace counts once to add and once to destroy; a no-op counts nowhere
    assert (counted.add, counted.change, counted.destroy) == (3, 1, 4)
    assert counted.sentence() == "3 to add, 1 to change, 4 to destroy"
    assert PlanChanges.of(json.loads((FIXTURES / "noop.json").read_text())).sentence() == "no changes"
    outputs_only = PlanChanges.of({"output_changes": {"a": {"actions": ["update"]}, "b": {"actions": ["no-op"]}}})
    assert not outputs_only.none and outputs_only.sentence() == "0 to add, 0 to change, 0 to destroy (1 output(s) change)"


def test_the_guard_says_why_it_lets_a_plan_through() -> None:
    assert "nothing is live" in guard(PLAN, LiveMigration(), set()).reason()
    allowed = guard(PLAN, LIVE, {r.address for r in protected_changes(PLAN)})
    assert allowed.ok and allowed.reason().startswith("the operator allowed aws_dms_replication_task.dms_task_main_1")


def _recorded(name: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return plan


def _refused_kinds(plan: dict[str, Any]) -> dict[str, str]:
    """resource type -> action, for each refusal of a live migration's guard."""
    return {refusal.address.split(".", 1)[0]: refusal.action for refusal in guard(plan, LIVE).refused}


def test_recorded_vpn_key_and_secret_replacements_are_refused_each_with_why() -> None:
    """Recorded against the emulator deployment of the default config: `[network.vpn] static_routes_only` turned off
    (the connection is replaced, so the tunnels get new pre-shared keys, and its static route goes), plus
    `-replace` of the KMS key and the source secret."""
    plan = _recorded("vpn-kms-secret-replace.json")
    refused = _refused_kinds(plan)
    assert refused["aws_vpn_connection"] == "replace"
    assert refused["aws_vpn_connection_route"] == "destroy"
    assert refused["aws_kms_key"] == "replace" and refused["aws_secretsmanager_secret"] == "replace"
    message = guard(plan, LIVE).message()
    assert "forced by static_routes_only (new tunnels with new pre-shared keys" in message
    assert "(the new secret is empty" in message and "data encrypted with it becomes unreadable" in message
    # Secrets only updated in place (a new KMS key id) are not refused.
    secrets = [r for r in guard(plan, LIVE).refused if r.address.startswith("aws_secretsmanager_secret.")]
    assert [r.address for r in secrets] == ["aws_secretsmanager_secret.secrets_source-secret-onprem_A6E78658"]


def test_recorded_customer_gateway_replacement_is_refused_and_the_connection_updated_in_place_is_not() -> None:
    """A new VPN device address: the customer gateway is replaced (the tunnels go down until the device is set up)."""
    plan = _recorded("customer-gateway-replace.json")
    assert _refused_kinds(plan) == {"aws_customer_gateway": "replace"}
    assert guard(plan, LiveMigration()).ok


def test_recorded_move_to_cidr_keys_replaces_nothing() -> None:
    """The first plan of a stack deployed with index-keyed rules and routes, after they became CIDR-keyed: the
    `moved` blocks move five resources in the state; nothing is added, changed or destroyed."""
    plan = _recorded("moved-keys.json")
    moved = [r for r in plan["resource_changes"] if "previous_address" in r]
    assert len(moved) == 5 and all(r["change"]["actions"] == ["no-op"] for r in moved)
    assert all(r["previous_address"].split("_")[-2].endswith("-0") for r in moved)
    assert PlanChanges.of(plan).none and guard(plan, LIVE).ok


def test_the_guard_covers_the_way_to_the_source_and_what_dms_reads_and_writes_with() -> None:
    """Issue 28: the VPN connection and its routes, transit gateway routes, the Kinesis stream, Firehose, the lake
    bucket, the secrets and the KMS key — each said why in the refusal."""
    wanted = {
        "aws_vpn_connection",
        "aws_vpn_connection_route",
        "aws_route",
        "aws_kinesis_stream",
        "aws_kinesis_firehose_delivery_stream",
        "aws_s3_bucket",
        "aws_secretsmanager_secret",
        "aws_kms_key",
    }
    assert wanted <= set(PROTECTED) and all(PROTECTED[kind].strip() for kind in PROTECTED)


def test_recorded_stream_firehose_and_lake_bucket_replacements_are_refused() -> None:
    """Recorded against the emulator deployment of example 003 with `-replace` of the stream, Firehose and the
    bucket: the bucket's own settings follow it (unguarded), the DMS Kinesis endpoint is only updated."""
    plan = _recorded("lake-replace.json")
    refused = _refused_kinds(plan)
    assert refused == {
        "aws_kinesis_stream": "replace",
        "aws_kinesis_firehose_delivery_stream": "replace",
        "aws_s3_bucket": "replace",
    }
    message = guard(plan, LIVE).message()
    assert "forced by kinesis_source_configuration.0.kinesis_stream_arn" in message
    assert "records not yet delivered are lost" in message and "the lake bucket holds the migrated data" in message


def test_recorded_transit_gateway_route_removal_is_refused_while_live_and_passes_otherwise() -> None:
    """Recorded against the emulator deployment of example 004 with three source CIDRs, planned with the middle one
    removed: its route through the transit gateway (and its DMS egress rule) go, nothing else."""
    plan = _recorded("tgw-route-remove.json")
    (refusal,) = guard(plan, LIVE).refused
    assert refusal.address == "aws_route.on-premises_to-172-16-0-0-16_796077A6" and refusal.action == "destroy"
    assert "traffic to that CIDR (the source, or its replies) is dropped" in str(refusal)
    assert guard(plan, LiveMigration("completed")).ok


def test_the_way_out_to_an_internet_reachable_source_is_guarded() -> None:
    """network.source_access = "internet": replacing the NAT gateway, its Elastic IP (the address the source's
    firewall admits) or the internet gateway cuts DMS off from the source."""
    plan = {
        "resource_changes": [
            change("aws_nat_gateway.internet-egress_nat-a_1", ["delete", "create"]),
            change("aws_eip.internet-egress_nat-ip-a_2", ["delete", "create"]),
            change("aws_internet_gateway.internet-egress_igw_3", ["delete"]),
        ]
    }
    refused = _refused_kinds(plan)
    assert refused == {"aws_nat_gateway": "replace", "aws_eip": "replace", "aws_internet_gateway": "destroy"}
    assert "the source's firewall refuses DMS" in guard(plan, LIVE).message()
    assert guard(plan, LiveMigration("completed")).ok
