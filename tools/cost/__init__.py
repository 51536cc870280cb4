"""`./tap cost`: what the config deploys, priced per month from a committed price table.

`estimate` is a pure function over the synthesized Terraform JSON (what `cdktf synth` writes for the config),
so it prices exactly what would be deployed: the DMS instance class and storage (or the Serverless DCU
range), each Aurora Serverless v2 instance's ACU range, the VPN connection, a transit gateway attachment,
NAT gateways, interface endpoints per zone, Resolver endpoint addresses, the hosted zone, KMS keys,
secrets, alarms, dashboards, log groups, the Aurora backup, a Kinesis stream, Firehose and the lake bucket.
Nothing asks AWS. Prices are in `prices-us-east-1.json` (region, date, source pages, list prices);
usage-priced items use the table's stated assumptions, and what is not estimated is listed with the result.

Ranges: Aurora Serverless v2 and DMS Serverless bill the capacity they scale to, so the low figure is every
instance at its minimum all month and the high one at its maximum. Everything else is the same in both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices-us-east-1.json")
# The logical id of the reverse (Aurora -> source) replication starts so: its construct is "reverse-replication"
# in lib/tap_stack.py (a forward task's id starts "dms_", whatever its key).
REVERSE_CONSTRUCT = "reverse-replication_"


class CostError(ValueError):
    """The stack holds something the price table cannot price; the text names it and the fix."""


@dataclass(frozen=True)
class LineItem:
    item: str
    quantity: str  # what is counted, for a person
    low: float  # USD per month
    high: float
    basis: str  # the arithmetic, e.g. "1 × 730 h × $0.05"


@dataclass
class Estimate:
    region: str  # the stack's region
    price_region: str
    taken: str
    items: list[LineItem] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)
    not_estimated: list[str] = field(default_factory=list)

    @property
    def low(self) -> float:
        return round(sum(item.low for item in self.items), 2)

    @property
    def high(self) -> float:
        return round(sum(item.high for item in self.items), 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "price_region": self.price_region,
            "prices_taken": self.taken,
            "currency": "USD",
            "monthly_low": self.low,
            "monthly_high": self.high,
            "items": [asdict(item) for item in self.items],
            "assumptions": self.assumptions,
            "not_estimated": self.not_estimated,
        }


def load_prices(path: Path = PRICES_FILE) -> dict[str, Any]:
    table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return table


def _resources(stack: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return list(stack.get("resource", {}).get(kind, {}).values())


def _block(value: Any) -> Mapping[str, Any]:
    """A nested block as synthesized: an object, or a one-element list of one."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value if isinstance(value, Mapping) else {}


def _money(value: float) -> float:
    return round(value, 2)


class _Pricer:
    def __init__(self, stack: Mapping[str, Any], table: Mapping[str, Any]) -> None:
        self.stack, self.table = stack, table
        self.prices: Mapping[str, Any] = table["prices"]
        self.assume: Mapping[str, Any] = table["assumptions"]
        self.hours = float(table["hours_per_month"])
        self.items: list[LineItem] = []

    def add(self, item: str, quantity: str, low: float, basis: str, high: float | None = None) -> None:
        self.items.append(LineItem(item, quantity, _money(low), _money(low if high is None else high), basis))

    def hourly(self, item: str, count: int, unit: str, price_key: str) -> None:
        if count:
            price = float(self.prices[price_key])
            self.add(item, f"{count} {unit}", count * self.hours * price, f"{count} × {self.hours:g} h × ${price:g}")

    def monthly(self, item: str, count: int, unit: str, price_key: str) -> None:
        if count:
            price = float(self.prices[price_key])
            self.add(item, f"{count} {unit}", count * price, f"{count} × ${price:g}")

    def dms(self) -> None:
        for instance in _resources(self.stack, "aws_dms_replication_instance"):
            cls = str(instance.get("replication_instance_class"))
            rates = self.prices["dms_instance_hour"]
            if cls not in rates:
                raise CostError(
                    f"dms.instance_class {cls!r} has no price in {PRICES_FILE.name}; add its us-east-1 hourly list price "
                    f"to prices.dms_instance_hour (priced: {', '.join(sorted(rates))})"
                )
            multi = bool(instance.get("multi_az"))
            factor = float(self.prices["dms_multi_az_factor"]) if multi else 1.0
            az = "Multi-AZ" if multi else "single-AZ"
            hourly = float(rates[cls]) * factor
            self.add("DMS replication instance", f"{cls}, {az}", self.hours * hourly, f"{self.hours:g} h × ${hourly:g}")
            included = self.prices["dms_included_storage_gb"]
            free = int(included["dms.t3"] if cls.startswith("dms.t3.") else included["other"])
            extra = max(0, int(instance.get("allocated_storage", 0)) - free)
            if extra:
                per_gb = float(self.prices["dms_storage_gb_month"]) * factor
                self.add(
                    "DMS instance storage",
                    f"{extra} GB above the {free} GB included",
                    extra * per_gb,
                    f"{extra} GB × ${per_gb:g}",
                )
        for name, config in self.stack.get("resource", {}).get("aws_dms_replication_config", {}).items():
            compute = _block(config.get("compute_config"))
            low, high = int(compute.get("min_capacity_units", 1)), int(compute.get("max_capacity_units", 1))
            factor = float(self.prices["dms_multi_az_factor"]) if compute.get("multi_az") else 1.0
            rate = float(self.prices["dms_serverless_dcu_hour"]) * factor
            ident = str(config.get("replication_config_identifier", "replication"))
            # The reverse replication is created stopped and runs only after the writer flip: none of it at the low end.
            floor = 0 if name.startswith(REVERSE_CONSTRUCT) else low
            self.add(
                f"DMS Serverless ({ident})",
                f"{low}-{high} DCU" + (", runs after the writer flip" if floor == 0 else ""),
                floor * self.hours * rate,
                f"{floor}..{high} DCU × {self.hours:g} h × ${rate:g}",
                high * self.hours * rate,
            )

    def aurora(self) -> None:
        clusters = _resources(self.stack, "aws_rds_cluster")
        if not clusters:
            return
        scaling = _block(clusters[0].get("serverlessv2_scaling_configuration"))
        low, high = float(scaling.get("min_capacity", 0)), float(scaling.get("max_capacity", 0))
        instances = len(_resources(self.stack, "aws_rds_cluster_instance"))
        rate = float(self.prices["aurora_acu_hour"])
        self.add(
            "Aurora Serverless v2",
            f"{instances} instance(s) × {low:g}-{high:g} ACU",
            instances * low * self.hours * rate,
            f"{instances} × {low:g}..{high:g} ACU × {self.hours:g} h × ${rate:g}",
            instances * high * self.hours * rate,
        )
        gb = float(self.assume["aurora_storage_gb"])
        storage = float(self.prices["aurora_storage_gb_month"])
        self.add("Aurora storage (assumed size)", f"{gb:g} GB", gb * storage, f"{gb:g} GB × ${storage:g}")

    def network(self) -> None:
        self.hourly(
            "Site-to-site VPN connection",
            len(_resources(self.stack, "aws_vpn_connection")),
            "connection(s)",
            "vpn_connection_hour",
        )
        attachments = len(_resources(self.stack, "aws_ec2_transit_gateway_vpc_attachment"))
        self.hourly("Transit gateway attachment", attachments, "attachment(s)", "transit_gateway_attachment_hour")
        self.hourly("NAT gateway", len(_resources(self.stack, "aws_nat_gateway")), "gateway(s)", "nat_gateway_hour")
        zones = sum(
            len(endpoint.get("subnet_ids") or [])
            for endpoint in _resources(self.stack, "aws_vpc_endpoint")
            if endpoint.get("vpc_endpoint_type") == "Interface"
        )
        self.hourly("Interface VPC endpoints", zones, "endpoint-zone(s)", "interface_endpoint_az_hour")
        addresses = sum(len(e.get("ip_address") or []) for e in _resources(self.stack, "aws_route53_resolver_endpoint"))
        self.hourly("Route 53 Resolver inbound endpoint", addresses, "IP address(es)", "resolver_endpoint_ip_hour")
        self.monthly(
            "Route 53 private hosted zone", len(_resources(self.stack, "aws_route53_zone")), "zone(s)", "hosted_zone_month"
        )

    def security_and_monitoring(self) -> None:
        self.monthly("KMS customer managed keys", len(_resources(self.stack, "aws_kms_key")), "key(s)", "kms_key_month")
        self.monthly(
            "Secrets Manager secrets", len(_resources(self.stack, "aws_secretsmanager_secret")), "secret(s)", "secret_month"
        )
        self.monthly("CloudWatch alarms", len(_resources(self.stack, "aws_cloudwatch_metric_alarm")), "alarm(s)", "alarm_month")
        self.monthly(
            "CloudWatch dashboards", len(_resources(self.stack, "aws_cloudwatch_dashboard")), "dashboard(s)", "dashboard_month"
        )
        groups = len(_resources(self.stack, "aws_cloudwatch_log_group"))
        if groups:
            gb = float(self.assume["log_ingest_gb_per_group"])
            ingest, store = float(self.prices["logs_ingest_gb"]), float(self.prices["logs_storage_gb_month"])
            self.add(
                "CloudWatch Logs (assumed volume)",
                f"{groups} group(s) × {gb:g} GB/month",
                groups * gb * (ingest + store),
                f"{groups} × {gb:g} GB × (${ingest:g} ingest + ${store:g} stored)",
            )
        if _resources(self.stack, "aws_backup_plan") and _resources(self.stack, "aws_rds_cluster"):
            gb = float(self.assume["aurora_storage_gb"]) * float(self.assume["backup_full_copies"])
            price = float(self.prices["backup_aurora_gb_month"])
            self.add("AWS Backup of Aurora (assumed size)", f"{gb:g} GB", gb * price, f"{gb:g} GB × ${price:g}")

    def lake(self) -> None:
        for stream in _resources(self.stack, "aws_kinesis_stream"):
            mode = str(_block(stream.get("stream_mode_details")).get("stream_mode", "PROVISIONED"))
            if mode == "ON_DEMAND":
                self.hourly("Kinesis stream (on-demand)", 1, "stream", "kinesis_on_demand_stream_hour")
            else:
                self.hourly("Kinesis stream shards", int(stream.get("shard_count", 1)), "shard(s)", "kinesis_shard_hour")
        firehoses = len(_resources(self.stack, "aws_kinesis_firehose_delivery_stream"))
        if firehoses:
            gb, price = float(self.assume["stream_ingest_gb"]), float(self.prices["firehose_ingest_gb"])
            self.add(
                "Firehose delivery (assumed volume)",
                f"{firehoses} × {gb:g} GB",
                firehoses * gb * price,
                f"{firehoses} × {gb:g} GB × ${price:g}",
            )
        buckets = len(_resources(self.stack, "aws_s3_bucket"))
        if buckets:
            gb, price = float(self.assume["lake_stored_gb"]), float(self.prices["s3_standard_gb_month"])
            self.add(
                "S3 lake storage (assumed size)",
                f"{buckets} bucket(s) × {gb:g} GB",
                buckets * gb * price,
                f"{buckets} × {gb:g} GB × ${price:g}",
            )


def stack_region(stack: Mapping[str, Any]) -> str:
    providers = stack.get("provider", {}).get("aws", [])
    first = providers[0] if isinstance(providers, list) and providers else providers
    return str(first.get("region", "")) if isinstance(first, Mapping) else ""


def estimate(stack: Mapping[str, Any], table: Mapping[str, Any] | None = None) -> Estimate:
    """The monthly cost of a synthesized stack (`cdktf synth` JSON), priced from `table` (the committed one)."""
    table = load_prices() if table is None else table
    pricer = _Pricer(stack, table)
    pricer.dms()
    pricer.aurora()
    pricer.network()
    pricer.security_and_monitoring()
    pricer.lake()
    return Estimate(
        region=stack_region(stack),
        price_region=str(table["region"]),
        taken=str(table["taken"]),
        items=pricer.items,
        assumptions=dict(table["assumptions"]),
        not_estimated=list(table["not_estimated"]),
    )


def figure(estimate_: Estimate) -> str:
    """`$123.45` or `$123.45 – $456.78`: how the total reads in the table and the README."""
    if estimate_.low == estimate_.high:
        return f"${estimate_.low:,.2f}"
    return f"${estimate_.low:,.2f} – ${estimate_.high:,.2f}"


def render(estimate_: Estimate, title: str) -> str:
    """The estimate as a table for a person."""

    def amount(item: LineItem) -> str:
        return f"{item.low:,.2f}" if item.low == item.high else f"{item.low:,.2f} – {item.high:,.2f}"

    width = max([len(item.item) for item in estimate_.items] + [4])
    qwidth = max([len(item.quantity) for item in estimate_.items] + [8])
    lines = [title, f"{'item':<{width}}  {'quantity':<{qwidth}}  USD/month"]
    lines += [f"{item.item:<{width}}  {item.quantity:<{qwidth}}  {amount(item):>9}" for item in estimate_.items]
    lines.append(f"{'total':<{width}}  {'':<{qwidth}}  {figure(estimate_).replace('$', '')}")
    if estimate_.region and estimate_.region != estimate_.price_region:
        lines.append(
            f"note: the stack is in {estimate_.region}; these are {estimate_.price_region} prices (other regions differ)"
        )
    assumed = ", ".join(f"{key} = {value}" for key, value in estimate_.assumptions.items())
    lines.append(f"assumed (usage-priced items): {assumed}")
    lines.append("not estimated: " + "; ".join(estimate_.not_estimated))
    return "\n".join(lines)
