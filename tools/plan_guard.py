"""The plan guard: no replace or destroy of what a live migration stands on.

A change that replaces a DMS task, replication config, endpoint or replication instance restarts
replication with a full reload or breaks a running CDC; replacing the Aurora cluster or an instance
loses the target; replacing the weighted records moves clients; replacing the way to the source (the
VPN connection and its routes, a route through the transit gateway) or what DMS writes to and reads
with (the Kinesis stream, Firehose, the lake bucket, the secrets, the KMS key) cuts the replication
off (`PROTECTED`, each with why). While the cutover is between
`reads_shifting` and `completed` (or paused from there), or while a replication runs, `./tap up`
and `./tap plan` refuse such a plan and name each resource and the attributes that force it.

`guard` is a pure function over `terraform show -json` output and what is live; `read_live` asks AWS
(the outputs file names the state parameter and the replications). `--allow-replace ADDRESS`
overrides one resource; the caller records the reason in the cutover state's history.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lib.constants import Output

# Each resource type whose replacement or destruction cuts a live migration off, and how.
PROTECTED: dict[str, str] = {
    "aws_dms_replication_task": "the task restarts with a full reload (or breaks a running CDC)",
    "aws_dms_replication_config": "the replication restarts with a full reload",
    "aws_dms_endpoint": "the task loses its source or target",
    "aws_dms_s3_endpoint": "the task loses its lake target",
    "aws_dms_replication_instance": "every task on it stops",
    "aws_rds_cluster": "the target database is lost",
    "aws_rds_cluster_instance": "a writer or reader goes away under the clients",
    "aws_route53_record": "clients are moved",
    "aws_vpn_connection": "new tunnels with new pre-shared keys: the on-premises device must be reconfigured before "
    "DMS reaches the source again",
    "aws_vpn_connection_route": "DMS loses its route to that on-premises CIDR until the route is back",
    "aws_customer_gateway": "the VPN connection that uses it is replaced (new tunnels and keys)",
    "aws_vpn_gateway": "the VPN connection that uses it is replaced (new tunnels and keys)",
    "aws_route": "traffic to that CIDR (the source, or its replies) is dropped until the route is back",
    "aws_ec2_transit_gateway_vpc_attachment": "every route through the transit gateway is cut until it is attached again",
    "aws_kinesis_stream": "the stream's records not yet delivered are lost and DMS writes to a new, empty stream",
    "aws_kinesis_firehose_delivery_stream": "records buffered in Firehose are lost and delivery stops meanwhile",
    "aws_s3_bucket": "the lake bucket holds the migrated data; a new bucket starts empty",
    "aws_secretsmanager_secret": "the new secret is empty: DMS and the operator lose the credentials",
    "aws_kms_key": "the old key is scheduled for deletion: data encrypted with it becomes unreadable",
    # network.source_access = "internet": the source's firewall admits the NAT gateways' public addresses only.
    "aws_nat_gateway": "DMS loses its way to the internet-reachable source until a new NAT gateway is up",
    "aws_eip": "the NAT gateway's public address changes: the source's firewall refuses DMS until it admits the new one",
    "aws_internet_gateway": "the NAT gateways lose the internet: DMS cannot reach the internet-reachable source",
}
PROTECTED_TYPES = frozenset(PROTECTED)
# The cutover phases in which clients depend on both databases and the records.
LIVE_PHASES = frozenset({"reads_shifting", "write_fence", "writer_flipped"})
RUNNING_STATUSES = frozenset({"running", "starting", "resuming"})
# Replacing a task restarts it with a full load unless it is created at a recorded position.
CDC_RESUME_STEPS = (
    "  A replaced DMS task reloads every table unless it resumes: stop the task, run `./cutover cdc-position --task KEY`, "
    'put the printed `migration_type = "cdc"` and `cdc_start_position` into dms.tasks.KEY, and plan again; the new '
    "task then starts CDC at the recorded checkpoint (DMS Serverless: the command prints the start-replication call)."
)
TASK_TYPES = frozenset({"aws_dms_replication_task", "aws_dms_replication_config"})
# What DMS does with an in-place change of these while a migration is live (said, not refused).
IN_PLACE_NOTES = {
    "table_mappings": "DMS modifies only a stopped task: stop it, apply, resume; a table added to the mapping is "
    "fully loaded on resume (full-load-and-cdc), a removed one stops replicating and keeps its rows on the target",
    "replication_task_settings": "DMS modifies only a stopped task: stop it, apply, resume from its checkpoint (no reload)",
    "replication_settings": "DMS modifies only a stopped replication: stop it, apply, resume from its checkpoint",
}


@dataclass(frozen=True)
class LiveMigration:
    """What the deployed stack is doing now (from the cutover state and the replications)."""

    phase: str | None = None  # None: no cutover in this stack, or no state yet
    paused_from: str | None = None
    running: tuple[str, ...] = ()  # replications that run (task or config identifiers)

    @property
    def reasons(self) -> list[str]:
        why = []
        if self.phase in LIVE_PHASES or (self.phase == "paused" and self.paused_from in LIVE_PHASES):
            paused = f" (paused from {self.paused_from})" if self.phase == "paused" else ""
            why.append(f"the cutover is in {self.phase}{paused}")
        if self.running:
            why.append(f"replication runs: {', '.join(self.running)}")
        return why


@dataclass(frozen=True)
class Refusal:
    address: str
    action: str  # "replace" or "destroy"
    attributes: tuple[str, ...]  # what forces the replacement (empty for a destroy, or when Terraform does not say)

    def __str__(self) -> str:
        forced = f", forced by {', '.join(self.attributes)}" if self.attributes else ""
        why = PROTECTED.get(self.address.split(".", 1)[0])
        return f"{self.address}: {self.action}{forced}" + (f" ({why})" if why else "")


@dataclass
class PlanChanges:
    """What a `terraform show -json` plan changes, counted as Terraform's own summary counts them."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    outputs: int = 0
    text: str = ""  # the changes as `terraform show` words them (empty when there are none)

    @classmethod
    def of(cls, plan: Mapping[str, Any]) -> PlanChanges:
        counted = cls()
        for resource in plan.get("resource_changes", []):
            actions = set(resource.get("change", {}).get("actions", []))
            counted.add += "create" in actions
            counted.destroy += "delete" in actions
            counted.change += "update" in actions
        counted.outputs = sum(
            1 for change in plan.get("output_changes", {}).values() if set(change.get("actions", [])) - {"no-op"}
        )
        return counted

    @property
    def none(self) -> bool:
        return not (self.add or self.change or self.destroy or self.outputs)

    def sentence(self) -> str:
        if self.none:
            return "no changes"
        outputs = f" ({self.outputs} output(s) change)" if self.outputs else ""
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy{outputs}"


@dataclass(frozen=True)
class Verdict:
    live: list[str]  # why the migration counts as live (empty: nothing is refused)
    refused: list[Refusal] = field(default_factory=list)
    allowed: list[Refusal] = field(default_factory=list)  # protected changes the operator allowed by address
    notes: list[str] = field(default_factory=list)  # in-place task changes: what DMS will do with them

    @property
    def ok(self) -> bool:
        return not self.refused

    def reason(self) -> str:
        """Why the guard lets the plan through, in a few words (only meaningful when `ok`)."""
        if not self.live:
            return "nothing is live: no cutover phase that clients depend on, no replication running"
        if self.allowed:
            return f"the operator allowed {', '.join(change.address for change in self.allowed)}"
        return "nothing a live migration stands on is replaced or destroyed"

    def message(self) -> str:
        notes = "".join(f"\n  note: {note}" for note in self.notes)
        if self.ok:
            allowed = f"; allowed by the operator: {'; '.join(map(str, self.allowed))}" if self.allowed else ""
            return f"plan guard: nothing a live migration stands on is replaced or destroyed{allowed}{notes}"
        lines = [f"plan guard: REFUSED while {' and '.join(self.live)}:"]
        lines += [f"  - {refusal}" for refusal in self.refused]
        lines.append(
            "  Either change the config so these are updated in place, wait until the cutover completed or rolled back "
            "and the replication is stopped, or rerun with --allow-replace ADDRESS --reason TEXT for each (the reason is "
            "recorded in the cutover state's history)."
        )
        if any(refusal.address.split(".", 1)[0] in TASK_TYPES for refusal in self.refused):
            lines.append(CDC_RESUME_STEPS)
        return "\n".join(lines) + notes


def _attribute_path(path: Sequence[Any]) -> str:
    return ".".join(str(part) for part in path)


def protected_changes(plan: Mapping[str, Any]) -> list[Refusal]:
    """Every replace or destroy of a protected resource in a `terraform show -json` plan."""
    changes: list[Refusal] = []
    for change in plan.get("resource_changes", []):
        if change.get("mode", "managed") != "managed" or change.get("type") not in PROTECTED_TYPES:
            continue
        actions = list(change.get("change", {}).get("actions", []))
        if "delete" not in actions:
            continue
        action = "replace" if "create" in actions else "destroy"
        paths = change.get("change", {}).get("replace_paths") or []
        changes.append(Refusal(str(change.get("address")), action, tuple(_attribute_path(p) for p in paths)))
    return changes


def in_place_task_notes(plan: Mapping[str, Any]) -> list[str]:
    """For each DMS task (or replication config) updated in place: which attributes change and what DMS does."""
    notes: list[str] = []
    for change in plan.get("resource_changes", []):
        body = change.get("change", {})
        if change.get("type") not in TASK_TYPES or list(body.get("actions", [])) != ["update"]:
            continue
        before, after = body.get("before") or {}, body.get("after") or {}
        for attribute, what in IN_PLACE_NOTES.items():
            if attribute in after and before.get(attribute) != after.get(attribute):
                notes.append(f"{change.get('address')}: {attribute} changes in place; {what}")
    return notes


def guard(plan: Mapping[str, Any], live: LiveMigration, allow: Collection[str] = ()) -> Verdict:
    """Refuse each protected replace/destroy while the migration is live, unless its address is allowed; say what
    DMS does with a task changed in place."""
    reasons = live.reasons
    if not reasons:
        return Verdict([])
    refused: list[Refusal] = []
    allowed: list[Refusal] = []
    for change in protected_changes(plan):
        (allowed if change.address in allow else refused).append(change)
    return Verdict(reasons, refused, allowed, in_place_task_notes(plan))


def _replication_ids(outputs: Mapping[str, Any]) -> dict[str, str]:
    arns = outputs.get(Output.DMS_TASK_ARNS) or {}
    if isinstance(arns, str):
        arns = json.loads(arns)
    reverse = outputs.get(Output.REVERSE_TASK_ARN)
    found = {str(arn): str(key) for key, arn in dict(arns).items()}
    if isinstance(reverse, str):
        found[reverse] = "reverse"
    return found


def read_live(session: Any, outputs: Mapping[str, Any]) -> LiveMigration:
    """The cutover phase (SSM state parameter) and the replications that run (DMS), for the deployed stack."""
    phase = paused_from = None
    parameter = outputs.get(Output.CUTOVER_STATE_PARAMETER)
    if isinstance(parameter, str):
        value = session.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        state = json.loads(value)
        phase, paused_from = state.get("phase"), state.get("paused_from")
    dms = session.client("dms")
    running: list[str] = []
    for arn, key in _replication_ids(outputs).items():
        if ":replication-config:" in arn:
            answer = dms.describe_replications(Filters=[{"Name": "replication-config-arn", "Values": [arn]}])
            statuses = [r.get("Status", "") for r in answer.get("Replications", [])]
        else:
            answer = dms.describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WithoutSettings=True
            )
            statuses = [t.get("Status", "") for t in answer.get("ReplicationTasks", [])]
        if any(str(status).lower() in RUNNING_STATUSES for status in statuses):
            running.append(key)
    return LiveMigration(phase, paused_from, tuple(sorted(running)))
