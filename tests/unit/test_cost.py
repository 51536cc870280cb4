"""`./tap cost` (tools/cost): the monthly estimate of what a config deploys, from the committed price table.

The estimate reads synthesized Terraform JSON; the committed snapshots (tests/snapshots, kept equal to a fresh
synth by test_synth_snapshots.py) are the default config and each example as synthesized, so most tests
price those. One test runs the command itself on the default config.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from lib.config import PROJECT_ROOT
from tools.cost import PRICES_FILE, CostError, Estimate, estimate, figure, load_prices, render

SNAPSHOTS = PROJECT_ROOT / "tests" / "snapshots"
PRICES = load_prices()
HOURS = PRICES["hours_per_month"]
P = PRICES["prices"]


def snapshot(name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    return parsed


def items(result: Estimate) -> dict[str, Any]:
    return {item.item: item for item in result.items}


def test_the_price_table_states_its_region_date_kind_and_sources() -> None:
    assert PRICES["region"] == "us-east-1" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICES["taken"])
    assert "list prices" in PRICES["kind"] and HOURS == 730
    assert all(url.startswith("https://aws.amazon.com/") for url in PRICES["sources"].values())
    assert PRICES["not_estimated"] and PRICES["assumptions"]


def test_the_default_config_is_priced_item_by_item() -> None:
    result = estimate(snapshot("base"))
    found = items(result)
    assert set(found) >= {
        "DMS replication instance",
        "DMS instance storage",
        "Aurora Serverless v2",
        "Site-to-site VPN connection",
        "Route 53 Resolver inbound endpoint",
        "Interface VPC endpoints",
        "KMS customer managed keys",
        "Secrets Manager secrets",
        "CloudWatch alarms",
        "CloudWatch dashboards",
        "CloudWatch Logs (assumed volume)",
        "AWS Backup of Aurora (assumed size)",
    }
    # dms.t3.medium, single-AZ, all month; 100 GB allocated of which 50 are included
    assert found["DMS replication instance"].low == round(HOURS * P["dms_instance_hour"]["dms.t3.medium"], 2) == 56.94
    assert found["DMS instance storage"].low == round(50 * P["dms_storage_gb_month"], 2)
    # a writer and two readers, each 0.5..4 ACU
    aurora = found["Aurora Serverless v2"]
    assert (aurora.low, aurora.high) == (
        round(3 * 0.5 * HOURS * P["aurora_acu_hour"], 2),
        round(3 * 4 * HOURS * P["aurora_acu_hour"], 2),
    )
    assert found["Route 53 Resolver inbound endpoint"].low == round(3 * HOURS * P["resolver_endpoint_ip_hour"], 2)
    assert found["Site-to-site VPN connection"].low == round(HOURS * P["vpn_connection_hour"], 2)
    # two interface endpoints (Secrets Manager, KMS) in three zones
    assert found["Interface VPC endpoints"].quantity == "6 endpoint-zone(s)"
    assert found["Secrets Manager secrets"].low == round(3 * P["secret_month"], 2)
    assert found["CloudWatch alarms"].low == round(9 * P["alarm_month"], 2)
    assert result.low == round(sum(i.low for i in result.items), 2) and result.high == round(sum(i.high for i in result.items), 2)
    assert result.low < result.high


def test_serverless_dms_is_a_dcu_range_and_the_reverse_replication_costs_nothing_until_it_runs() -> None:
    found = items(estimate(snapshot("base-serverless")))
    assert "DMS replication instance" not in found
    forward, reverse = found["DMS Serverless (tap-migrate-dev-main)"], found["DMS Serverless (tap-migrate-dev-main-reverse)"]
    rate = P["dms_serverless_dcu_hour"]
    assert (forward.low, forward.high) == (round(1 * HOURS * rate, 2), round(4 * HOURS * rate, 2))
    assert (reverse.low, reverse.high) == (0, forward.high) and "after the writer flip" in reverse.quantity


def test_multi_az_doubles_the_instance_and_the_lake_stream_and_transit_gateway_are_priced() -> None:
    vendor = items(estimate(snapshot("001-vendor-mysql-to-aurora-mysql")))
    assert vendor["DMS replication instance"].low == round(HOURS * P["dms_instance_hour"]["dms.r6i.xlarge"] * 2, 2)
    assert "DMS instance storage" not in vendor  # 100 GB are included with an r6i
    stream = items(estimate(snapshot("003-postgres-kinesis-streaming-lake")))
    assert stream["Kinesis stream shards"].low == round(2 * HOURS * P["kinesis_shard_hour"], 2)
    assert {"Firehose delivery (assumed volume)", "S3 lake storage (assumed size)"} <= set(stream)
    assert "Aurora Serverless v2" not in stream and "AWS Backup of Aurora (assumed size)" not in stream
    tgw = items(estimate(snapshot("004-onprem-postgres-to-aurora")))
    assert tgw["Transit gateway attachment"].low == round(HOURS * P["transit_gateway_attachment_hour"], 2)
    assert "Site-to-site VPN connection" not in tgw


def test_nat_gateways_and_on_demand_streams_are_priced_when_a_stack_has_them() -> None:
    stack = copy.deepcopy(snapshot("003-postgres-kinesis-streaming-lake"))
    stack["resource"]["aws_nat_gateway"] = {"a": {}, "b": {}}
    (stream,) = stack["resource"]["aws_kinesis_stream"].values()
    stream["stream_mode_details"] = {"stream_mode": "ON_DEMAND"}
    found = items(estimate(stack))
    assert found["NAT gateway"].low == round(2 * HOURS * P["nat_gateway_hour"], 2)
    assert found["Kinesis stream (on-demand)"].low == round(HOURS * P["kinesis_on_demand_stream_hour"], 2)


def test_an_instance_class_without_a_price_is_an_error_naming_the_field_and_the_table() -> None:
    stack = copy.deepcopy(snapshot("base"))
    (instance,) = stack["resource"]["aws_dms_replication_instance"].values()
    instance["replication_instance_class"] = "dms.x9.huge"
    with pytest.raises(CostError, match=r"dms.instance_class 'dms.x9.huge' has no price in prices-us-east-1.json"):
        estimate(stack)


def test_the_table_names_the_region_when_the_stack_is_elsewhere_and_lists_what_is_not_estimated() -> None:
    text = render(estimate(snapshot("001-vendor-mysql-to-aurora-mysql")), "title")
    assert "the stack is in ap-northeast-1; these are us-east-1 prices" in text
    assert "not estimated: data transfer" in text and text.splitlines()[0] == "title"
    assert "note: the stack is in" not in render(estimate(snapshot("base")), "t")


def test_the_command_prices_the_default_config_as_its_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    from tools.cost.__main__ import main

    assert main(["--json"], env={}) == 0
    shown = json.loads(capsys.readouterr().out)
    expected = estimate(snapshot("base"))
    assert (shown["monthly_low"], shown["monthly_high"]) == (expected.low, expected.high)
    assert shown["prices"] == PRICES_FILE.name and len(shown["items"]) == len(expected.items)
    assert main(["--config", str(PROJECT_ROOT / "nope.toml")], env={}) == 2


# README rows: | `name` | $low – $high |
_ROW = re.compile(r"^\| (?:`([^`]+)`|default config[^|]*) \| (\$[0-9,.]+(?: – \$[0-9,.]+)?) \|", re.MULTILINE)


def test_the_readme_quotes_the_tools_figures_for_the_default_config_and_every_example() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What it costs", 1)[1].split("\n## ", 1)[0]
    quoted = {(name or "base"): value for name, value in _ROW.findall(section)}
    examples = sorted(path.parent.name for path in (PROJECT_ROOT / "examples").glob("*/tap-migrate.toml"))
    assert set(quoted) == {"base", *examples}
    for name, value in quoted.items():
        assert value == figure(estimate(snapshot(name))), f"README quotes {value} for {name}; ./tap cost says otherwise"
