"""Shipped examples deployed to the emulator, each with an empty plan after apply, and the cutover adapters run
against what was deployed.

Issue 26 item 5 (a MariaDB → Aurora MySQL cutover with reverse replication), issue 28 items 7 (a source reached
over the internet: public subnets, NAT, verify-full) and 8 (DMS Serverless). Each example gets an emulator of
its own (its own state directory, never the worktree's `./tap up` one; every stack creates the account-wide
DMS service roles, so they cannot share one), and the three deploy side by side. Each is synthesized by
main.py as a user would (TAP_CONFIG, TAP_TARGET=emulator) into a temporary directory, and its Terraform state
lives there too (`-backend-config=path=…`), so nothing of the checkout's own deployment is touched.

The cutover Lambda cannot run in the emulator (no Docker), so its handler runs in-process with its clients
pointed at the emulator and its settings read from the deployed function's own environment, as
tests/integration/test_cutover_rehearsal.py does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from tap_cutover import handler
from tap_cutover.aws import DmsServerlessReplication, DmsTask, build_adapters
from tap_cutover.settings import Settings

from lib.config import PROJECT_ROOT
from lib.constants import STACK_NAME, Output
from tools import emulator
from tools.deploy import deployment_env, flatten_outputs
from tools.terraform_cli import prepare_workdir, terraform_binary

pytestmark = pytest.mark.terraform
APPLY_TIMEOUT_S = 900
MYSQL_CUTOVER = "006-mariadb-to-aurora-mysql-cutover"
SERVERLESS = "007-dms-serverless-cutover"
INTERNET_SOURCE = "000-postgres-s3-lakehouse"
DEPLOYED = (MYSQL_CUTOVER, SERVERLESS, INTERNET_SOURCE)


@dataclass(frozen=True)
class Deployed:
    name: str
    outputs: dict[str, Any]
    endpoint: str
    apply_seconds: float

    def client(self, service: str) -> Any:
        session = boto3.session.Session(
            region_name=self.outputs[Output.REGION], aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        # moto's server mis-reads botocore's gzip-compressed PutMetricData bodies (tests/integration/conftest.py).
        return session.client(service, endpoint_url=self.endpoint, config=Config(disable_request_compression=True))


def _run(args: list[str], cwd: Path, env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=APPLY_TIMEOUT_S, check=False)
    assert result.returncode == 0, f"{what} failed (exit {result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    return result


def deploy_example(name: str, endpoint: str, workdir: Path) -> Deployed:
    """synth (main.py) → init (state in `workdir`) → apply → outputs → plan -detailed-exitcode must say 0."""
    config = PROJECT_ROOT / "examples" / name / "tap-migrate.toml"
    env = deployment_env("emulator", endpoint, {**_base_env(), "TAP_CONFIG": str(config), "CDKTF_OUTDIR": str(workdir)})
    _run([sys.executable, "main.py"], PROJECT_ROOT, env, f"synth of {name}")
    stack_dir = workdir / "stacks" / STACK_NAME
    prepare_workdir(stack_dir)
    terraform = terraform_binary(env)
    state = workdir / "terraform.tfstate"
    _run([terraform, "init", "-input=false", "-no-color", f"-backend-config=path={state}"], stack_dir, env, "terraform init")
    started = time.perf_counter()
    _run([terraform, "apply", "-auto-approve", "-input=false", "-no-color"], stack_dir, env, f"terraform apply of {name}")
    apply_seconds = time.perf_counter() - started
    print(f"{name}: apply {apply_seconds:.0f} s")  # shown with -rP: the figure the README's test time rests on
    plan = subprocess.run(
        [terraform, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"],
        cwd=stack_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=APPLY_TIMEOUT_S,
        check=False,
    )
    assert plan.returncode == 0, f"{name}: the plan after apply is not empty (exit {plan.returncode}):\n{plan.stdout[-8000:]}"
    outputs = flatten_outputs(json.loads(_run([terraform, "output", "-json"], stack_dir, env, "terraform output").stdout))
    assert state.is_file() and outputs[Output.DEPLOYMENT_TARGET] == "emulator"
    return Deployed(name, outputs, endpoint, apply_seconds)


def _base_env() -> dict[str, str]:
    # The worktree's own emulator and deployment variables must not leak into these deploys.
    leaking = {"TAP_EMULATOR_ENDPOINT", "AWS_ENDPOINT_URL", "TAP_AWS_ENDPOINT_URL", "TAP_STATE_BACKEND", "ENVIRONMENT_SUFFIX"}
    return {key: value for key, value in os.environ.items() if key not in leaking and not key.startswith("TAP_STATE_")}


def run_status(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, dict[str, Any]]:
    """The deployed Lambda's settings, and `status` through the real handler with adapters on the emulator."""
    region = deployed.outputs[Output.REGION]
    for key, value in {
        "AWS_ENDPOINT_URL": deployed.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }.items():
        monkeypatch.setenv(key, value)
    function = deployed.client("lambda").get_function_configuration(FunctionName=deployed.outputs[Output.CUTOVER_FUNCTION_NAME])
    settings = Settings.from_env(function["Environment"]["Variables"])
    handler.set_engine(None)
    monkeypatch.setattr(handler, "get_settings", lambda: settings)
    try:
        result: dict[str, Any] = handler.handler({"action": "status"}, None)
    finally:
        handler.set_engine(None)
    return settings, result


@pytest.fixture(scope="module")
def deployments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Deployed]]:
    """The examples deployed at once, each to an emulator of its own: a deploy mostly waits on the provider's
    polling, so three side by side take little longer than the slowest one. A failed deploy fails its test."""
    emulators = {name: tmp_path_factory.mktemp(f"emulator-{name[:3]}") for name in DEPLOYED}
    results: dict[str, Deployed | BaseException] = {}
    try:
        endpoints = {name: emulator.start(directory) for name, directory in emulators.items()}
        with ThreadPoolExecutor(max_workers=len(DEPLOYED)) as pool:
            futures = {
                name: pool.submit(deploy_example, name, endpoints[name], tmp_path_factory.mktemp(name)) for name in DEPLOYED
            }
        for name, future in futures.items():
            error = future.exception()
            results[name] = error if error is not None else future.result()

        def get(name: str) -> Deployed:
            result = results[name]
            if isinstance(result, BaseException):
                raise result
            return result

        yield get
    finally:
        for directory in emulators.values():
            emulator.stop(directory)


def gate(status: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [entry for entry in status["gates"] if entry["name"] == name]
    return dict(found)


def test_mariadb_cutover_example_deploys_and_its_cutover_answers_status(
    deployments: Callable[[str], Deployed], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = deployments(MYSQL_CUTOVER)
    outputs = deployed.outputs
    dms = deployed.client("dms")
    # The forward task and the reverse (Aurora -> MariaDB) task exist; the reverse one waits, stopped, for the CLI.
    forward_arn = outputs[Output.DMS_TASK_ARNS]["main"]
    tasks = {task["ReplicationTaskArn"]: task for task in dms.describe_replication_tasks()["ReplicationTasks"]}
    assert forward_arn in tasks and len(tasks) == 2
    (reverse,) = [task for arn, task in tasks.items() if arn != forward_arn]
    assert reverse["ReplicationTaskIdentifier"].endswith("-reverse") and reverse["Status"] != "running"
    endpoints = {e["EndpointArn"]: e for e in dms.describe_endpoints()["Endpoints"]}
    engines = {(e["EndpointType"].upper(), e["EngineName"]) for e in endpoints.values()}
    assert {("SOURCE", "mariadb"), ("TARGET", "aurora"), ("SOURCE", "aurora"), ("TARGET", "mariadb")} <= engines
    settings, status = run_status(deployed, monkeypatch)
    assert settings.dms_replication_arn == forward_arn
    assert settings.dms_reverse_replication_arn == reverse["ReplicationTaskArn"]
    assert isinstance(build_adapters(settings).task, DmsTask)
    assert status["ok"] is True, status
    assert status["phase"] == "replicating" and status["weights"] == {"reader": 0, "writer": 0}, status
    # Nothing was started: the DMS gate reads the stopped task and is red; status changed nothing.
    assert gate(status, "dms_task")["green"] is False and status["version"] == 1 and status["transitions"] == [], status
    # The adapter reads the forward task's state as DMS reports it, and the reverse task's beside it.
    adapters = build_adapters(settings)
    before, reverse_seen = adapters.task.describe_all()
    assert before.found and before.status != "running" and reverse_seen is not None and reverse_seen.found
    dms.start_replication_task(ReplicationTaskArn=forward_arn, StartReplicationTaskType="start-replication")
    after, _ = adapters.task.describe_all()
    assert after.status == "running" and after.migration_type == "full-load-and-cdc", after


def test_dms_serverless_example_deploys_and_the_adapters_read_its_replication_config(
    deployments: Callable[[str], Deployed], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = deployments(SERVERLESS)
    dms = deployed.client("dms")
    assert dms.describe_replication_instances()["ReplicationInstances"] == []
    (config,) = dms.describe_replication_configs()["ReplicationConfigs"]
    assert config["ComputeConfig"]["MinCapacityUnits"] == 2 and config["ComputeConfig"]["MaxCapacityUnits"] == 16
    settings, status = run_status(deployed, monkeypatch)
    assert settings.dms_replication_arn == config["ReplicationConfigArn"]
    adapters = build_adapters(settings)
    assert isinstance(adapters.task, DmsServerlessReplication)
    forward, reverse = adapters.task.describe_all()
    assert reverse is None and forward.status != "running"
    assert status["ok"] is True and status["phase"] == "replicating", status
    assert gate(status, "dms_task")["green"] is False, status


def test_internet_source_example_deploys_with_nat_egress_to_the_source_address_only(
    deployments: Callable[[str], Deployed],
) -> None:
    """Seed 000: the source is reachable only over the internet. DMS stays private and reaches out through NAT."""
    deployed = deployments(INTERNET_SOURCE)
    outputs, ec2 = deployed.outputs, deployed.client("ec2")
    vpc_id = outputs[Output.VPC_ID]
    (gateway,) = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    (nat,) = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    public_ip = nat["NatGatewayAddresses"][0]["PublicIp"]
    assert outputs[Output.NAT_PUBLIC_IPS] == [public_ip] and outputs[Output.INTERNET_SOURCE_CIDRS] == ["203.0.113.25/32"]
    # The NAT gateway sits in a public subnet (routed to the internet gateway), never in a private one.
    assert nat["SubnetId"] not in outputs[Output.PRIVATE_SUBNET_IDS]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    by_subnet = {a["SubnetId"]: t for t in tables for a in t.get("Associations", []) if a.get("SubnetId")}
    public_routes = {r.get("DestinationCidrBlock"): r.get("GatewayId") for r in by_subnet[nat["SubnetId"]]["Routes"]}
    assert public_routes["0.0.0.0/0"] == gateway["InternetGatewayId"]
    # The private subnets reach the internet for the source's address only, through the NAT gateway.
    for subnet in outputs[Output.PRIVATE_SUBNET_IDS]:
        routes = by_subnet[subnet]["Routes"]
        assert [r["DestinationCidrBlock"] for r in routes if r.get("NatGatewayId")] == ["203.0.113.25/32"]
        assert all(r.get("NatGatewayId") == nat["NatGatewayId"] for r in routes if r.get("NatGatewayId"))
        assert not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in routes)
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert len(subnets) == 6 and not any(subnet["MapPublicIpOnLaunch"] for subnet in subnets)
    # DMS: egress to the source's /32 on its port (plus HTTPS to the endpoints), not publicly accessible, verify-full.
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [outputs[Output.DMS_SECURITY_GROUP_ID]]}])[
        "SecurityGroupRules"
    ]
    to_addresses = {(r["CidrIpv4"], r["FromPort"]) for r in rules if r["IsEgress"] and r.get("CidrIpv4")}
    assert to_addresses == {("203.0.113.25/32", 5432)}
    dms = deployed.client("dms")
    (instance,) = dms.describe_replication_instances()["ReplicationInstances"]
    assert instance["PubliclyAccessible"] is False
    (endpoint,) = [e for e in dms.describe_endpoints()["Endpoints"] if e["EndpointType"].upper() == "SOURCE"]
    assert endpoint["SslMode"] == "verify-full" and endpoint.get("CertificateArn")
