"""The checks that span fields, run as the models' validators (each model's `_check` calls one here).

A check records every problem in `Found` as (field path relative to the model, text); the loader
turns them into `<toml.path>: <text>` lines. Text may name the model's own path as `<here>`
(a map entry does not know its key while it validates). Checks that need the whole file (task
references, the cutover's pair, files the tasks name) are in `check_app`, which runs once every
section validated.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lib import defaults
from lib.config import hazards
from lib.config.rule_context import HERE, Context, FileReadError, Found, network_or_none, register
from lib.config.schema import (
    AppConfig,
    Aurora,
    Backup,
    Cutover,
    DataLake,
    Deployment,
    Dms,
    KinesisTarget,
    Network,
    Observability,
    Project,
    S3Target,
    Source,
    State,
    TargetConfig,
    Task,
)
from lib.constants import IAM_ROLE_NAME_MAX, MARKER_TABLE, marker_schema_for, target_role_names
from lib.dms_mappings import selected, selections

# AWS limits the config checks before anything is created (AWS would refuse them at apply, halfway through).
VPC_PREFIX_RANGE = (16, 28)
# Cutover bounds (docs/cutover.md, "Bounds"): beyond MAX is refused, beyond USUAL needs cutover.risk_accepted.
LATENCY_THRESHOLD_USUAL, LATENCY_THRESHOLD_MAX = 300, 3600
# The cutover error alarm's period.
CUTOVER_ERRORS_PERIOD_SECONDS = 300
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
DMS_CAPACITY_UNITS = (1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384)
# DMS table-mapping rule types (object-mapping: e.g. Kinesis partition keys).
MAPPING_RULE_TYPES = ("selection", "transformation", "table-settings", "object-mapping")
CRON = r"cron\(\S+ \S+ \S+ \S+ \S+ \S+\)"


# --------------------------------------------------------------------------------------
# One section at a time


def check_project(project: Project, found: Found) -> None:
    name, suffix, region = project.name, project.environment_suffix, project.region
    found.check(
        bool(re.fullmatch(r"[a-z][a-z0-9-]{1,20}", name)) and _clean_hyphens(name),
        "name",
        f"{name!r} must be 2-21 chars of lowercase letters, digits and single '-', starting with a letter and not ending "
        "with '-' (it prefixes every resource name; AWS refuses '--' and a trailing '-' in several of them)",
    )
    found.check(
        bool(re.fullmatch(r"[a-z0-9]{1,12}", suffix)),
        "environment_suffix",
        f"{suffix!r} must be 1-12 lowercase letters or digits, e.g. 'dev' or 'pr123'",
    )
    known = known_regions()
    found.check(
        region in known if known else bool(re.fullmatch(r"[a-z]{2,4}(-[a-z]+)+-\d", region)),
        "region",
        f"{region!r} is not an AWS region; use one of the regions your AWS SDK knows, e.g. 'us-east-1' or 'eu-west-1'",
    )
    for key, value in project.tags.items():
        if key.lower().startswith("aws:"):
            found.add(f"tags.{key}", "the 'aws:' prefix is reserved for AWS; rename the tag")
        elif not 1 <= len(key) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
            found.add(f"tags.{key}", f"tag keys are 1-{TAG_KEY_MAX} characters and values at most {TAG_VALUE_MAX}")


def check_deployment(deployment: Deployment, found: Found) -> None:
    endpoint = deployment.emulator_endpoint
    if deployment.target == "emulator":
        found.check(
            bool(re.fullmatch(r"http://(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d{1,5}", endpoint)),
            "emulator_endpoint",
            f"{endpoint!r} must be a loopback URL like http://127.0.0.1:5000 (scripts/emulator.py sets "
            "TAP_EMULATOR_ENDPOINT when it starts the emulator)",
        )


KMS_KEY_PATTERN = r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+|alias/[A-Za-z0-9/_-]+)"


def check_state(state: State, found: Found) -> None:
    """An S3 backend needs its bucket and a KMS key: the state holds the VPN's pre-shared keys in plain text."""
    if state.backend != "s3":
        unused = [name for name in ("bucket", "key", "region", "kms_key_id") if getattr(state, name)]
        found.check(not unused, "backend", f'"local" uses no {unused}; set backend = "s3" or remove them')
        return
    found.check(bool(state.bucket), "bucket", "name the state bucket (bootstrap one: python -m tools.state_bucket --help)")
    for problem in bucket_name_problems(state.bucket) if state.bucket else []:
        found.add("bucket", f"{state.bucket!r} {problem}")
    found.check(
        bool(
            re.fullmatch(
                r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+|alias/[A-Za-z0-9/_-]+)", state.kms_key_id
            )
        ),
        "kms_key_id",
        f"{state.kms_key_id!r} must be a KMS key ARN or alias/…: the state holds the VPN tunnels' pre-shared keys and "
        "must be encrypted with a key whose policy limits who can read it",
    )
    found.check(
        not state.region or state.region in known_regions(),
        "region",
        f"{state.region!r} is not an AWS region; give the bucket's region (or leave it empty for project.region)",
    )
    found.check(
        not state.key or (not state.key.startswith("/") and state.key.endswith(".tfstate")),
        "key",
        f"{state.key!r} must be a relative object key ending in .tfstate, e.g. 'tap-migrate/prod.tfstate'",
    )


AWS_ID_PATTERNS = {
    "vpc": r"vpc-[0-9a-f]{8}([0-9a-f]{9})?",
    "subnet": r"subnet-[0-9a-f]{8}([0-9a-f]{9})?",
    "sg": r"sg-[0-9a-f]{8}([0-9a-f]{9})?",
    "rtb": r"rtb-[0-9a-f]{8}([0-9a-f]{9})?",
    "tgw": r"tgw-[0-9a-f]{8}([0-9a-f]{9})?",
}
NEW_ONLY_FIELDS = ("vpc_cidr", "private_subnet_cidrs", "availability_zones", "transit_gateway_id", "vpn")
EXISTING_ONLY_FIELDS = ("vpc_id", "subnets", "route_table_ids", "security_group_ids")
RFC1918 = tuple(ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598): not internet-routed
IPV4_HOST_PREFIX = 32


def _aws_id(found: Found, where: str, value: str, kind: str) -> None:
    found.check(
        bool(re.fullmatch(AWS_ID_PATTERNS[kind], value)),
        where,
        f"{value!r} is not a {kind} id; it looks like '{kind}-0123456789abcdef0'",
    )


def check_network(network: Network, found: Found) -> None:
    """The mode's own fields, the connection's and the resolver's; the routes are judged with the sources (check_app)."""
    if network.is_existing:
        _check_existing_network(network, found)
    else:
        for name in EXISTING_ONLY_FIELDS:
            found.check(
                name not in network.model_fields_set,
                name,
                'only for mode = "existing" (an existing VPC); the stack builds its own VPC in mode "new"',
            )
        _check_new_network(network, found)
        found.check(
            network.create_vpc_endpoints,
            "create_vpc_endpoints",
            "false, but the stack's own VPC has no NAT and no other endpoints: DMS could not read its secrets; keep it "
            'true (false is for mode = "existing" when the VPC has its own)',
        )
    _check_connection(network, found)
    _check_internet_access(network, found)
    for index, group in enumerate(network.application_security_group_ids):
        _aws_id(found, f"application_security_group_ids[{index}]", group, "sg")
    for index, cidr in enumerate(network.application_cidrs):
        net = _ipv4_block(found, f"application_cidrs[{index}]", cidr, example="192.168.20.0/24")
        if net is not None and net.prefixlen == 0:
            found.add(f"application_cidrs[{index}]", f"{cidr} would open Aurora to every address; name the application networks")
    if network.resolver is not None:
        cidrs = network.resolver.allowed_cidrs
        found.check(
            bool(cidrs),
            "resolver.allowed_cidrs",
            "give the on-premises DNS servers that forward the cutover's domain, e.g. ['192.168.10.0/24'] (or remove "
            "[network.resolver])",
        )
        for index, cidr in enumerate(cidrs):
            net = _ipv4_block(found, f"resolver.allowed_cidrs[{index}]", cidr, example="192.168.10.0/24")
            if net is not None and net.prefixlen == 0:
                found.add(f"resolver.allowed_cidrs[{index}]", f"{cidr} opens DNS to every address; name your DNS servers")


def _check_internet_access(network: Network, found: Found) -> None:
    """`source_access = "internet"`: public subnets for the NAT gateways, in a VPC this stack builds."""
    if network.source_access != "internet":
        found.check(
            not network.public_subnet_cidrs,
            "public_subnet_cidrs",
            'only for source_access = "internet" (the NAT gateways\' subnets); remove it, or set source_access',
        )
        return
    if network.is_existing:
        found.add(
            "source_access",
            "\"internet\" builds public subnets and NAT gateways, but an existing VPC's internet egress is its owner's; "
            'remove it (route to the source through the VPC\'s own NAT) or use mode = "new"',
        )
        return
    _internet_subnets(network, found)
    if network.nat_gateways == "per_zone" and network.connection in ("transit_gateway", "vpn"):
        found.add(
            "nat_gateways",
            f'"per_zone" gives each zone its own private route table, but the {network.connection.replace("_", " ")} '
            'routes are kept in one shared table; set nat_gateways = "single", or connectivity = "external"',
        )


def _internet_subnets(network: Network, found: Found) -> None:
    cidrs, count = network.public_subnet_cidrs, len(network.private_subnet_cidrs)
    example = '["10.20.48.0/24", "10.20.49.0/24", "10.20.50.0/24"]'
    found.check(
        len(cidrs) == count,
        "public_subnet_cidrs",
        f'{len(cidrs)} given; source_access = "internet" needs {count} blocks inside network.vpc_cidr, one per zone '
        f"(the NAT gateways' subnets), overlapping no private subnet, e.g. {example}",
    )
    vpc = network_or_none(network.vpc_cidr)
    taken = [(f"private_subnet_cidrs[{i}]", network_or_none(c)) for i, c in enumerate(network.private_subnet_cidrs)]
    for index, cidr in enumerate(cidrs):
        where = f"public_subnet_cidrs[{index}]"
        net = _ipv4_block(found, where, cidr, example="10.20.48.0/24")
        if net is None:
            continue
        if net.prefixlen > VPC_PREFIX_RANGE[1]:
            found.add(where, f"{cidr} is a /{net.prefixlen}; a subnet must be /{VPC_PREFIX_RANGE[1]} or larger")
        if isinstance(vpc, ipaddress.IPv4Network) and not net.subnet_of(vpc):
            found.add(where, f"{cidr} is outside network.vpc_cidr {network.vpc_cidr}; pick a block inside it")
        for other_where, other in taken:
            if isinstance(other, ipaddress.IPv4Network) and net.overlaps(other):
                found.add(where, f"{cidr} overlaps {other_where}; subnets must not overlap")
        taken.append((where, net))


def _internet_sources(app: AppConfig, found: Found) -> None:
    """Over the internet DMS may reach each source's own address only, and must verify who answers there."""
    if not app.network.internet_sources:
        return
    for key, source in app.sources.items():
        where = f"sources.{key}"
        found.check(
            source.ssl_mode == "verify-full",
            f"{where}.ssl_mode",
            f'{source.ssl_mode!r}, but network.source_access = "internet": anyone on the path could pose as the source; '
            'set ssl_mode = "verify-full" with ca_certificate_file = the PEM of the CA that signed its certificate '
            "(the certificate must name the host DMS connects to)",
        )
        for index, cidr in enumerate(source.cidr_blocks):
            net = network_or_none(cidr)
            if not isinstance(net, ipaddress.IPv4Network):
                continue  # reported by the source's own check
            problem = _internet_address_problem(net)
            if problem:
                found.add(
                    f"{where}.cidr_blocks[{index}]",
                    f"{cidr} {problem}; over the internet DMS may reach the source's own public address only: give it as "
                    "a /32, e.g. '203.0.113.25/32' (the NAT gateways route exactly these)",
                )
        literal = network_or_none(source.host)
        if isinstance(literal, ipaddress.IPv4Network) and source.cidr_blocks != (f"{source.host}/32",):
            found.add(
                f"{where}.cidr_blocks",
                f"{list(source.cidr_blocks)} must be exactly ['{source.host}/32']: the host is that address, and DMS may "
                "reach nothing else over the internet",
            )


def _internet_address_problem(net: ipaddress.IPv4Network) -> str:
    """Why `net` is not one public host address ('' when it is). Documentation ranges pass here (emulator configs);
    a real account refuses them before anything runs (documentation_addresses.py)."""
    if net.prefixlen != IPV4_HOST_PREFIX:
        return f"is a /{net.prefixlen}, not one address"
    address = net.network_address
    reserved = address.is_loopback or address.is_multicast or address.is_unspecified or address.is_link_local
    if reserved or address.is_reserved or any(address in block for block in (*RFC1918, SHARED_ADDRESS_SPACE)):
        return "is not an address the internet routes"
    return ""


def _check_existing_network(network: Network, found: Found) -> None:
    for name in NEW_ONLY_FIELDS:
        found.check(
            name not in network.model_fields_set,
            name,
            "only for mode = \"new\": an existing VPC's addresses and routes are its owner's; connect on-premises "
            "there (this stack treats the connection as external)",
        )
    if network.vpc_id:
        _aws_id(found, "vpc_id", network.vpc_id, "vpc")
    else:
        found.add("vpc_id", 'required with mode = "existing", e.g. "vpc-0abc1234def567890"')
    for subnet in network.subnets:
        _aws_id(found, f"subnets.{subnet}", subnet, "subnet")
    zones = set(network.subnets.values())
    found.check(
        len(zones) >= 2,
        "subnets",
        f"{dict(network.subnets)!r} spans {len(zones)} availability zone(s); give private subnets in two zones or more "
        '(DMS and Aurora subnet groups need two), e.g. { "subnet-0aaa…" = "us-east-1a", "subnet-0bbb…" = "us-east-1b" }',
    )
    for index, table in enumerate(network.route_table_ids):
        _aws_id(found, f"route_table_ids[{index}]", table, "rtb")
    for index, group in enumerate(network.security_group_ids):
        _aws_id(found, f"security_group_ids[{index}]", group, "sg")


def _check_new_network(network: Network, found: Found) -> None:
    vpc_cidr, subnets, zones = network.vpc_cidr, network.private_subnet_cidrs, network.availability_zones
    vpc_net = _ipv4_block(found, "vpc_cidr", vpc_cidr, example="10.20.0.0/16")
    if vpc_net is not None and not VPC_PREFIX_RANGE[0] <= vpc_net.prefixlen <= VPC_PREFIX_RANGE[1]:
        found.add(
            "vpc_cidr",
            f"{vpc_cidr} is a /{vpc_net.prefixlen}; a VPC block must be /{VPC_PREFIX_RANGE[0]} to /{VPC_PREFIX_RANGE[1]} "
            "(AWS refuses it at apply), e.g. '10.20.0.0/16'",
        )
        vpc_net = None
    found.check(len(subnets) == 3, "private_subnet_cidrs", f"{len(subnets)} given; give exactly 3 (one per availability zone)")
    found.check(
        not zones or len(zones) == len(set(zones)) == 3,
        "availability_zones",
        f"{list(zones)!r} must be 3 distinct zones (or leave it empty to use the account's first three in the region)",
    )
    parsed: list[ipaddress.IPv4Network] = []
    for index, cidr in enumerate(subnets):
        where = f"private_subnet_cidrs[{index}]"
        net = _ipv4_block(found, where, cidr, example="10.20.0.0/20")
        if net is None:
            continue
        if net.prefixlen > VPC_PREFIX_RANGE[1]:
            found.add(
                where,
                f"{cidr} is a /{net.prefixlen}; a subnet must be /{VPC_PREFIX_RANGE[1]} or larger (AWS refuses smaller "
                "ones, and DMS and Aurora need room for their interfaces)",
            )
        if vpc_net is not None and not net.subnet_of(vpc_net):
            found.add(where, f"{cidr} is outside network.vpc_cidr {vpc_cidr}; pick a block inside it")
        for other_index, other in enumerate(parsed):
            if net.overlaps(other):
                found.add(where, f"{cidr} overlaps private_subnet_cidrs[{other_index}]; subnets must not overlap")
        parsed.append(net)


def check_source(source: Source, found: Found, context: Context | None) -> None:
    engine, version, host, ssl_mode = source.engine, source.engine_version, source.host, source.ssl_mode
    version_pattern = r"\d{1,2}(\.\d+)?" if engine == "postgres" else r"\d{1,2}\.\d+(\.\d+)?"
    found.check(
        # An unknown engine is reported on its own; its version has nothing to be judged against.
        engine not in defaults.SOURCE_ENGINES or bool(re.fullmatch(version_pattern, version)),
        "engine_version",
        f"{version!r} must be the source's version, e.g. '15' for PostgreSQL or '8.0' for MySQL/MariaDB (a string)",
    )
    found.check(
        bool(re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host)) and "." in host,
        "host",
        f"{host!r} must be the DNS name or IP address DMS connects to",
    )
    found.check(1 <= source.port <= 65535, "port", f"{source.port} must be 1..65535")
    found.check(
        bool(source.database) or engine in defaults.MYSQL_FAMILY,
        "database",
        "required for PostgreSQL; the database DMS reads from",
    )
    found.check(bool(source.cidr_blocks), "cidr_blocks", "give the on-premises CIDR(s) DMS must reach, e.g. ['192.168.0.0/16']")
    for index, cidr in enumerate(source.cidr_blocks):
        net = _ipv4_block(found, f"cidr_blocks[{index}]", cidr, example="192.168.0.0/16")
        if net is not None and net.prefixlen == 0:
            found.add(f"cidr_blocks[{index}]", f"{cidr} opens egress to everything; give the on-premises network only")
    arn = source.secret_arn
    found.check(
        arn == "" or bool(re.fullmatch(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+", arn)),
        "secret_arn",
        f"{arn!r} is not a Secrets Manager secret ARN; leave it empty to have the stack create an empty secret you fill "
        "with `aws secretsmanager put-secret-value`",
    )
    mysql_family = engine in defaults.MYSQL_FAMILY
    if engine == "postgres" and ssl_mode == "none" and _major(version) >= 15:
        found.add(
            "ssl_mode",
            f"'none' is refused for PostgreSQL {version} (15+ rejects non-SSL replication connections); use 'require' "
            "or 'verify-full'",
        )
    if mysql_family and ssl_mode == "none" and not source.allow_unencrypted:
        found.add(
            "ssl_mode",
            f"'none' sends {engine} credentials and binlog rows in clear text; use 'require' or 'verify-full', or set "
            f"{HERE}.allow_unencrypted = true to accept that explicitly",
        )
    if source.allow_unencrypted and not mysql_family:
        found.add("allow_unencrypted", f"only MySQL/MariaDB sources may opt out of SSL; remove it for {engine!r}")
    if not mysql_family and "events_poll_interval_seconds" in source.model_fields_set:
        found.add("events_poll_interval_seconds", f"applies to MySQL/MariaDB binlog polling only; remove it for {engine!r}")
    if ssl_mode in ("verify-ca", "verify-full"):
        _ca_certificate(source, found, context)


def _ca_certificate(source: Source, found: Found, context: Context | None) -> None:
    where, ca_file = "ca_certificate_file", source.ca_certificate_file
    if not ca_file:
        found.add(
            where,
            f"required when {HERE}.ssl_mode is {source.ssl_mode!r}; point it at the PEM of the CA that signed the "
            "source's server certificate",
        )
        return
    if context is None:
        return
    try:
        pem = context.files.text(ca_file)
    except FileReadError as problem:
        found.add(where, str(problem))
        return
    if "-----BEGIN CERTIFICATE-----" not in pem:
        found.add(where, f"{ca_file!r} is not a PEM certificate")
    if "PRIVATE KEY" in pem:
        found.add(where, f"{ca_file!r} contains a private key; give the CA certificate only")
    source._ca_certificate_pem = pem


def check_s3_target(target: S3Target, found: Found) -> None:
    _check_prefix(found, "folder", target.folder)
    if target.data_format == "csv":
        for parquet_only in ("parquet_version", "enable_statistics"):
            if parquet_only in target.model_fields_set:
                found.add(parquet_only, "applies to data_format = 'parquet' only; remove it for CSV output")
    cdc_path, column = target.cdc_path, target.timestamp_column_name
    found.check(
        cdc_path == "" or bool(re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", cdc_path)),
        "cdc_path",
        f"{cdc_path!r} must be a relative folder like 'cdc' (or empty for none)",
    )
    found.check(
        column == "" or bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", column)),
        "timestamp_column_name",
        f"{column!r} must be a column name (or empty for none)",
    )


def check_kinesis_target(target: KinesisTarget, found: Found) -> None:
    if target.stream_mode == "ON_DEMAND" and "shard_count" in target.model_fields_set:
        found.add("shard_count", "ON_DEMAND streams size themselves; remove shard_count")
    _check_prefix(found, "delivery_prefix", target.delivery_prefix)
    # Firehose requires at least 64 MiB buffers once dynamic partitioning is on.
    if target.dynamic_partitioning:
        found.check(
            target.buffering_mb >= 64,
            "buffering_mb",
            f"{target.buffering_mb} must be 64..128 (Firehose dynamic partitioning needs at least 64)",
        )


def check_aurora(aurora: Aurora, found: Found) -> None:
    min_acu, max_acu = aurora.min_acu, aurora.max_acu
    found.check(0.5 <= min_acu <= 256 and (min_acu * 2).is_integer(), "min_acu", f"{min_acu} must be 0.5..256 in steps of 0.5")
    found.check(1 <= max_acu <= 256 and (max_acu * 2).is_integer(), "max_acu", f"{max_acu} must be 1..256 in steps of 0.5")
    found.check(min_acu <= max_acu, "min_acu", f"{min_acu} is above aurora.max_acu {max_acu}; make min <= max")
    readers, retention = aurora.reader_count, aurora.backup_retention_days
    found.check(0 <= readers <= 15, "reader_count", f"{readers} must be 0..15 (Aurora allows 15 replicas)")
    found.check(1 <= retention <= 35, "backup_retention_days", f"{retention} must be 1..35")
    found.check(
        bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", aurora.database_name)),
        "database_name",
        f"{aurora.database_name!r} must start with a letter and hold letters, digits, '_'",
    )
    pi_retention = aurora.performance_insights_retention_days
    found.check(
        pi_retention in (7, 731) or (pi_retention % 31 == 0 and 31 <= pi_retention <= 713),
        "performance_insights_retention_days",
        f"{pi_retention} must be 7, 731 or a multiple of 31 up to 713",
    )
    found.check(
        bool(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", aurora.preferred_backup_window)),
        "preferred_backup_window",
        f"{aurora.preferred_backup_window!r} must look like '03:00-04:00' (UTC)",
    )


def check_dms(dms: Dms, found: Found) -> None:
    found.check(
        bool(re.fullmatch(r"3\.\d+\.\d+", dms.engine_version)),
        "engine_version",
        f"{dms.engine_version!r} must look like '3.5.4'",
    )
    found.check(
        bool(re.fullmatch(r"dms\.[a-z0-9]+\.[a-z0-9]+", dms.instance_class)),
        "instance_class",
        f"{dms.instance_class!r} must look like 'dms.r6i.large'",
    )
    found.check(
        dms.log_retention_days in defaults.LOG_RETENTION_DAYS,
        "log_retention_days",
        f"{dms.log_retention_days} is not a CloudWatch retention; use one of {defaults.LOG_RETENTION_DAYS}",
    )
    min_dcu, max_dcu = dms.min_capacity_units, dms.max_capacity_units
    found.check(
        min_dcu in DMS_CAPACITY_UNITS and max_dcu in DMS_CAPACITY_UNITS and min_dcu <= max_dcu,
        "min_capacity_units/max_capacity_units",
        f"{min_dcu}..{max_dcu} must be DMS capacity units from {list(DMS_CAPACITY_UNITS)} with min <= max",
    )
    found.check(bool(dms.tasks), "tasks", "define at least one task, e.g. [dms.tasks.main]")
    for key, task in dms.tasks.items():
        if not task.cdc_start_position:
            continue
        where = f"tasks.{key}.cdc_start_position"
        found.check(
            task.migration_type == "cdc",
            where,
            f'resumes CDC, so migration_type must be "cdc" (it is {task.migration_type!r}: a full load would reload every '
            "table the checkpoint skips)",
        )
        found.check(
            not dms.serverless,
            where,
            "DMS Serverless takes no start position in Terraform (hashicorp/aws has no such argument); leave it empty and "
            "start the replaced replication with the call `./cutover cdc-position` prints",
        )


def check_data_lake(lake: DataLake, found: Found) -> None:
    bucket, to_ia, to_glacier = lake.bucket_name, lake.transition_to_ia_days, lake.transition_to_glacier_days
    if bucket:
        for problem in bucket_name_problems(bucket):
            found.add("bucket_name", f"{bucket!r} {problem}")
    found.check(to_ia == 0 or to_ia >= 30, "transition_to_ia_days", f"{to_ia} must be 0 (off) or >= 30 (S3 Standard-IA minimum)")
    found.check(
        to_glacier == 0 or to_glacier > to_ia,
        "transition_to_glacier_days",
        f"{to_glacier} must be 0 (off) or later than transition_to_ia_days ({to_ia})",
    )
    noncurrent, database = lake.noncurrent_version_expiration_days, lake.glue_database_name
    found.check(noncurrent >= 1, "noncurrent_version_expiration_days", f"{noncurrent} must be >= 1")
    found.check(
        database == "" or bool(re.fullmatch(r"[a-z0-9_]{1,255}", database)),
        "glue_database_name",
        f"{database!r} must be lowercase letters, digits and '_' (Athena's rule)",
    )
    found.check(
        bool(re.fullmatch(CRON, lake.crawler_schedule)),
        "crawler_schedule",
        f"{lake.crawler_schedule!r} must be an AWS cron expression with 6 fields, e.g. 'cron(0 2 * * ? *)'",
    )
    results_days, cutoff = lake.athena_results_expiration_days, lake.athena_bytes_scanned_cutoff_gb
    found.check(results_days >= 1, "athena_results_expiration_days", f"{results_days} must be >= 1")
    found.check(cutoff >= 1, "athena_bytes_scanned_cutoff_gb", f"{cutoff} must be >= 1")


def check_cutover(cutover: Cutover, found: Found) -> None:
    """A disabled cutover's fields are not used, so only reverse_replication is checked then."""
    if not cutover.enabled:
        found.check(
            not cutover.reverse_replication,
            "reverse_replication",
            "true, but cutover.enabled is false; the reverse task replicates Aurora back to the source after the writer "
            "flip, so there is nothing to reverse without a cutover to an Aurora target — set reverse_replication = "
            "false (or enable the cutover)",
        )
        return
    domain, zone_id, ttl, cutover_ttl = cutover.domain, cutover.hosted_zone_id, cutover.record_ttl, cutover.cutover_ttl
    for index, vpc in enumerate(cutover.associated_vpc_ids):
        _aws_id(found, f"associated_vpc_ids[{index}]", vpc, "vpc")
    found.check(
        not (zone_id and cutover.associated_vpc_ids),
        "associated_vpc_ids",
        "the stack associates VPCs with the private zone it creates; with hosted_zone_id, associate them with your "
        "zone yourself and leave this empty",
    )
    found.check(
        bool(re.fullmatch(r"([a-z0-9-]{1,63}\.)+[a-z]{2,63}", domain)),
        "domain",
        f"{domain!r} must be a lowercase DNS domain, e.g. 'db.migration.internal'",
    )
    found.check(
        zone_id == "" or bool(re.fullmatch(r"Z[A-Z0-9]{1,31}", zone_id)),
        "hosted_zone_id",
        f"{zone_id!r} must look like 'Z0123456789ABC' or be empty to create a private zone",
    )
    found.check(1 <= cutover_ttl <= ttl <= 86400, "cutover_ttl", f"{cutover_ttl} must be 1..record_ttl ({ttl})")
    steps = cutover.read_steps
    found.check(
        bool(steps) and list(steps) == sorted(set(steps)) and steps[0] > 0 and steps[-1] == 100,
        "read_steps",
        f"{list(steps)} must be strictly increasing percentages ending at 100, e.g. [10, 25, 50, 100]",
    )
    hold, threshold, period = cutover.step_hold_seconds, cutover.latency_threshold_seconds, cutover.metric_period_seconds
    found.check(hold >= 0, "step_hold_seconds", f"{hold} must be >= 0")
    found.check(threshold >= 1, "latency_threshold_seconds", f"{threshold} must be >= 1")
    found.check(
        period in (60, 300) or (period % 60 == 0 and period > 0),
        "metric_period_seconds",
        f"{period} must be a multiple of 60",
    )
    drain_threshold, drain_timeout, drain_poll = (
        cutover.drain_threshold_seconds,
        cutover.drain_timeout_seconds,
        cutover.drain_poll_seconds,
    )
    found.check(
        0 <= drain_threshold < threshold,
        "drain_threshold_seconds",
        f"{drain_threshold} must be below latency_threshold_seconds ({threshold})",
    )
    found.check(
        drain_poll <= drain_timeout <= 840,
        "drain_timeout_seconds",
        f"{drain_timeout} must be >= drain_poll_seconds ({drain_poll}) and <= 840 (it runs inside one Lambda invocation "
        "of at most 900 s)",
    )
    _cutover_safety(cutover, found)


def _cutover_safety(cutover: Cutover, found: Found) -> None:
    """Refuse what is unsafe; what is merely unusual needs cutover.risk_accepted (the reason, in the file)."""
    steps, hold, threshold = cutover.read_steps, cutover.step_hold_seconds, cutover.latency_threshold_seconds
    periods, period = cutover.latency_periods, cutover.metric_period_seconds
    found.check(
        threshold <= LATENCY_THRESHOLD_MAX,
        "latency_threshold_seconds",
        f"{threshold} lets reads move while replication is more than {LATENCY_THRESHOLD_MAX // 60} minutes behind; "
        f"readers would see data that old. Use at most {LATENCY_THRESHOLD_MAX} (the default is 30)",
    )
    found.check(
        not (periods == 1 and hold == 0),
        "step_hold_seconds",
        "0 with latency_periods = 1 moves reads on a single metric datapoint and holds no step; hold each step at least "
        "one metric period (e.g. step_hold_seconds = 900)",
    )
    unusual: list[tuple[str, str]] = []
    if LATENCY_THRESHOLD_USUAL < threshold <= LATENCY_THRESHOLD_MAX:
        unusual.append(
            (
                "latency_threshold_seconds",
                f"{threshold} is above {LATENCY_THRESHOLD_USUAL} s: reads may move to a target minutes behind",
            )
        )
    if hold < periods * period and not (periods == 1 and hold == 0):
        unusual.append(
            (
                "step_hold_seconds",
                f"{hold} is shorter than the gate's window (latency_periods x metric_period_seconds = {periods * period} "
                "s): a step is judged partly on data from before it",
            )
        )
    if list(steps) == [100]:
        unusual.append(("read_steps", "[100] moves every read at once, with no smaller step to roll back to"))
    if not cutover.risk_accepted.strip():
        for where, text in unusual:
            found.add(
                where,
                f'{text}. If you mean it, write why in cutover.risk_accepted = "<your reason>" (docs/cutover.md, Bounds)',
            )


def check_observability(observability: Observability, found: Found) -> None:
    email = observability.alarm_email
    found.check(
        email == "" or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email)),
        "alarm_email",
        f"{email!r} is not an email address; leave it empty for no subscription",
    )
    latency, storage = observability.cdc_latency_alarm_seconds, observability.dms_free_storage_min_gb
    found.check(latency >= 1, "cdc_latency_alarm_seconds", f"{latency} must be >= 1")
    found.check(storage >= 1, "dms_free_storage_min_gb", f"{storage} must be >= 1")


def check_backup(backup: Backup, found: Found) -> None:
    daily, monthly = backup.daily_retention_days, backup.monthly_retention_days
    found.check(
        bool(re.fullmatch(CRON, backup.schedule)),
        "schedule",
        f"{backup.schedule!r} must be an AWS cron expression with 6 fields, e.g. 'cron(0 5 * * ? *)'",
    )
    found.check(1 <= daily <= 36500, "daily_retention_days", f"{daily} must be 1..36500")
    found.check(
        monthly == 0 or daily < monthly <= 36500,
        "monthly_retention_days",
        f"{monthly} must be 0 (no monthly rule) or longer than daily_retention_days ({daily})",
    )


# --------------------------------------------------------------------------------------
# The whole file


def check_file(raw: Mapping[str, Any]) -> list[str]:
    """What the raw file's tables say before any of them validates: the keys it chooses (they name AWS
    resources) and the optional tables it gives without the targets that use them (they would be ignored)."""
    problems: list[str] = []
    dms = raw.get("dms")
    maps = {
        "sources": raw.get("sources"),
        "targets": raw.get("targets"),
        "dms.tasks": dms.get("tasks") if isinstance(dms, dict) else None,
    }
    for section, entries in maps.items():
        for key in entries if isinstance(entries, dict) else {}:
            if not _is_key(key):
                what = "task key" if section == "dms.tasks" else "key"
                names = "the DMS task" if section == "dms.tasks" else "AWS resources"
                problems.append(
                    f"{section}.{key}: {what} {key!r} must be 1-31 lowercase letters, digits and single '-', starting "
                    f"with a letter and not ending with '-' (it names {names})"
                )
    targets = maps["targets"]
    bodies = targets.values() if isinstance(targets, dict) else []
    kinds = {str(body.get("kind")) for body in bodies if isinstance(body, dict)}
    if raw.get("aurora") and not kinds & set(defaults.AURORA_TARGET_ENGINES):
        problems.append(
            "[aurora]: no target has kind aurora_postgresql or aurora_mysql, so no cluster is built; remove the section "
            "or add such a target"
        )
    if raw.get("data_lake") and not kinds & set(defaults.LAKE_TARGET_KINDS):
        problems.append(
            "[data_lake]: no target is s3 or kinesis, so there is no data lake; remove the section or add such a target"
        )
    return problems


def check_app(app: AppConfig, found: Found, context: Context | None) -> None:
    """Checks across sections; also hands each map entry its key and each task its files' contents."""
    for entries in (app.sources, app.targets, app.dms.tasks):
        for key, entry in entries.items():
            entry._key = key
    found.check(
        bool(app.sources),
        "sources",
        "define at least one source database, e.g. [sources.onprem] with engine, host, database, cidr_blocks "
        "(see config/tap-migrate.toml)",
    )
    found.check(
        bool(app.targets),
        "targets",
        "define at least one target, e.g. [targets.aurora] kind = 'aurora_postgresql' or [targets.lake] kind = 's3'",
    )
    _network_against_sources(app, found)
    _internet_sources(app, found)
    found.check(
        sum(target.is_aurora for target in app.targets.values()) <= 1,
        "targets",
        f"{[key for key, target in app.targets.items() if target.is_aurora]} are all Aurora targets; a stack builds one "
        "Aurora cluster, keep one of them",
    )
    _aurora_engine(app, found)
    _tasks(app, found, context)
    _cutover_pair(app, found, context)
    _observability_against_dms(app, found)
    _lake_prefixes(app, found)
    _derived_names(app, found)
    errors, warnings = hazards.judge(app)
    for where, text in errors:
        found.add(where, text)
    app._warnings = tuple(warnings)


def _check_connection(network: Network, found: Found) -> None:
    """`[network.vpn]` or `transit_gateway_id` (one of them), each well formed; `external` takes neither."""
    if network.transit_gateway_id:
        _aws_id(found, "transit_gateway_id", network.transit_gateway_id, "tgw")
        found.check(network.vpn is None, "vpn", "give either transit_gateway_id or [network.vpn], not both")
    if network.connectivity == "external":
        found.check(
            not network.transit_gateway_id and network.vpn is None,
            "connectivity",
            '"external" says the routes are managed outside this stack; remove transit_gateway_id / [network.vpn], or '
            'set connectivity = "stack"',
        )
    if network.vpn is not None:
        ip = network.vpn.customer_gateway_ip
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            found.add("vpn.customer_gateway_ip", f"{ip!r} is not an IPv4 address; give the VPN device's public address")
            return
        found.check(
            not (address.is_loopback or address.is_multicast or address.is_unspecified or any(address in b for b in RFC1918)),
            "vpn.customer_gateway_ip",
            f"{ip} is not an address AWS can reach over the internet; give the VPN device's public IPv4 address",
        )


def _routes_to_on_premises(app: AppConfig, found: Found) -> None:
    """A new VPC reaches the sources only through a connection this stack builds, or one the user says exists."""
    network = app.network
    if network.is_existing:
        return
    cidrs = app.on_premises_cidrs
    if network.connection == "none" and cidrs:
        found.add(
            "network",
            f"nothing routes the VPC to the on-premises networks {list(cidrs)} (the sources' cidr_blocks, the application "
            'and DNS networks): set network.transit_gateway_id = "tgw-…", add [network.vpn] with customer_gateway_ip, or '
            'set network.connectivity = "external" when the routes are managed outside this stack',
        )
    if network.connection in ("transit_gateway", "vpn"):
        found.check(
            bool(cidrs),
            "network.transit_gateway_id" if network.transit_gateway_id else "network.vpn",
            "no on-premises CIDR to route: every source, application and DNS network lies inside network.vpc_cidr; "
            'remove the connection or set connectivity = "external"',
        )


def _endpoints_in_existing_vpc(app: AppConfig, found: Found) -> None:
    network = app.network
    if network.is_existing and network.create_vpc_endpoints and app.needs_s3_endpoint:
        found.check(
            bool(network.route_table_ids),
            "network.route_table_ids",
            "the S3 gateway endpoint (S3 targets, DMS Serverless) is attached to the subnets' route tables: list them, or "
            "set network.create_vpc_endpoints = false when the VPC already reaches S3",
        )


def _network_against_sources(app: AppConfig, found: Found) -> None:
    network, region = app.network, app.project.region
    _routes_to_on_premises(app, found)
    _endpoints_in_existing_vpc(app, found)
    for subnet, zone in network.subnets.items():
        problem = hazards.zone_problem(zone, region)
        if problem is not None:
            found.add(f"network.subnets.{subnet}", f"{problem}; give the subnet's own zone")
    if network.is_existing:
        return
    for zone in network.availability_zones:
        problem = hazards.zone_problem(zone, region)
        if problem is not None:
            found.add("network.availability_zones", f"{problem}, or leave the list empty (the account's first three)")
    vpc = network_or_none(network.vpc_cidr)
    if not isinstance(vpc, ipaddress.IPv4Network):
        return
    for key, source in app.sources.items():
        for index, cidr in enumerate(source.cidr_blocks):
            net = network_or_none(cidr)
            if isinstance(net, ipaddress.IPv4Network) and net.overlaps(vpc):
                found.add(
                    f"sources.{key}.cidr_blocks[{index}]",
                    f"{cidr} overlaps network.vpc_cidr {network.vpc_cidr}; routing to the source would break — pick a "
                    "VPC CIDR that does not overlap on-premises",
                )


def _aurora_engine(app: AppConfig, found: Found) -> None:
    """Aurora's engine follows its target's kind; the version and user name rules follow the engine."""
    aurora = app.aurora
    if aurora is None:
        return
    kind = next(target.kind for target in app.targets.values() if target.is_aurora)
    aurora._engine = engine = defaults.AURORA_TARGET_ENGINES[kind]
    aurora._skip_final_snapshot = defaults.PROFILES.get(app.project.profile, defaults.PROFILES["dev"]).skip_final_snapshot
    version, username = aurora.engine_version, aurora.master_username
    if engine == "aurora-postgresql":
        found.check(
            bool(re.fullmatch(r"1[4-7]\.\d+", version)),
            "aurora.engine_version",
            f"{version!r} must be an Aurora PostgreSQL 14-17 version, e.g. '15.10'",
        )
    else:
        found.check(
            bool(re.fullmatch(r"8\.0\.mysql_aurora\.3\.\d{2}\.\d+", version)),
            "aurora.engine_version",
            f"{version!r} must be an Aurora MySQL 8.0 version, e.g. '8.0.mysql_aurora.3.08.0' (Serverless v2 needs 3.x)",
        )
    # MySQL user names are at most 16 characters.
    username_pattern = r"[A-Za-z][A-Za-z0-9_]{0,15}" if engine == "aurora-mysql" else r"[A-Za-z][A-Za-z0-9_]{0,62}"
    found.check(
        bool(re.fullmatch(username_pattern, username)) and username.lower() not in ("postgres", "admin", "rdsadmin", "root"),
        "aurora.master_username",
        f"{username!r} must be a valid identifier and not a reserved name",
    )
    if app.project.profile == "prod" and not aurora.deletion_protection:
        found.add("aurora.deletion_protection", "false is refused in the prod profile; remove the override")


def _tasks(app: AppConfig, found: Found, context: Context | None) -> None:
    for key, task in app.dms.tasks.items():
        where = f"dms.tasks.{key}"
        source = _reference(found, where, "source", task.source, app.sources)
        target = _reference(found, where, "target", task.target, app.targets)
        if source is not None and target is not None and target.is_aurora:
            homogeneous = defaults.HOMOGENEOUS_TARGET.get(source.engine)
            if target.kind != homogeneous and not task.schema_conversion_note:
                found.add(
                    where,
                    f"{source.engine} -> {target.kind} is a heterogeneous migration DMS does not convert (schemas, types, "
                    f"procedures); point {where}.schema_conversion_note at your AWS SCT / DMS Schema Conversion plan, "
                    f"or target kind {homogeneous!r}",
                )
        if context is not None:
            _task_files(task, where, found, context, database_target=target is not None and target.is_aurora)
    used_targets = {task.target for task in app.dms.tasks.values()}
    for key in sorted(set(app.targets) - used_targets):
        found.add(f"targets.{key}", "no task in [dms.tasks] writes to it; remove it or name it in a task")


def _reference(found: Found, where: str, field: str, value: str, choices: Mapping[str, Any]) -> Any:
    """The entry a task's source/target names (profiles.py fills it in while there is only one)."""
    plural = f"{field}s"
    if not value:
        if choices:
            found.add(f"{where}.{field}", f"required when there are several {plural}; use one of {sorted(choices)}")
        return None
    if value not in choices:
        found.add(f"{where}.{field}", f"{value!r} names no entry in [{plural}]; use one of {sorted(choices)}")
        return None
    return choices[value]


def _task_files(task: Task, where: str, found: Found, context: Context, *, database_target: bool) -> None:
    mappings = _json_file(found, context, f"{where}.table_mappings_file", task.table_mappings_file)
    settings = _json_file(found, context, f"{where}.settings_file", task.settings_file)
    if mappings is not None:
        _check_table_mappings(found, f"{where}.table_mappings_file", mappings)
        task._table_mappings = normalize_json(mappings)
    if settings is not None:
        _check_task_settings(found, f"{where}.settings_file", settings, database_target=database_target)
        task._settings = normalize_json(_strip_managed_settings(settings))


def _check_table_mappings(found: Found, where: str, mappings: Any) -> None:
    rules = mappings.get("rules") if isinstance(mappings, dict) else None
    if not isinstance(rules, list) or not any(isinstance(r, dict) and r.get("rule-type") == "selection" for r in rules):
        found.add(where, "needs a 'rules' list with at least one 'selection' rule")
        return
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or rule.get("rule-type") not in MAPPING_RULE_TYPES:
            found.add(where, f"rules[{index}] needs a rule-type of {list(MAPPING_RULE_TYPES)}")
            continue
        rule_id = str(rule.get("rule-id", ""))
        if not rule_id or rule_id in seen:
            found.add(where, f"rules[{index}] needs a unique 'rule-id'")
        seen.add(rule_id)
        locator = rule.get("object-locator")
        if not isinstance(locator, dict) or not isinstance(locator.get("schema-name"), str) or not locator["schema-name"]:
            found.add(
                where,
                f"rules[{index}] ({rule.get('rule-type')}) needs an 'object-locator' with a 'schema-name' (and "
                '\'table-name\' for tables), e.g. {"schema-name": "public", '
                '"table-name": "%"}',
            )
    selecting = [
        r
        for r in rules
        if isinstance(r, dict) and r.get("rule-type") == "selection" and r.get("rule-action") in ("include", "explicit")
    ]
    found.check(
        bool(selecting),
        where,
        "no selection rule includes a table (every one excludes), so the task would migrate nothing; add a selection "
        'rule with "rule-action": "include"',
    )


def _check_task_settings(found: Found, where: str, settings: Any, *, database_target: bool) -> None:
    """`where`: the settings file's field, e.g. `dms.tasks.main.settings_file`."""
    if not isinstance(settings, dict):
        found.add(where, "must hold a JSON object of DMS task settings")
        return
    logging = settings.get("Logging", {})
    found.check(
        isinstance(logging, dict) and logging.get("EnableLogging") is True,
        where,
        "Logging.EnableLogging must be true (task logs are how failures are diagnosed)",
    )
    validation = settings.get("ValidationSettings", {})
    if database_target:
        found.check(
            isinstance(validation, dict) and validation.get("EnableValidation") is True,
            where,
            "ValidationSettings.EnableValidation must be true for an Aurora target (row validation gates the cutover)",
        )
    target = settings.get("TargetMetadata", {})
    if isinstance(target, dict) and target.get("SupportLobs") and target.get("LimitedSizeLobMode"):
        errors = settings.get("ErrorBehavior", {})
        found.check(
            isinstance(errors, dict) and errors.get("DataTruncationErrorPolicy") in ("STOP_TASK", "SUSPEND_TABLE"),
            where,
            "limited-size LOB mode truncates silently; set ErrorBehavior.DataTruncationErrorPolicy to 'STOP_TASK' or "
            "'SUSPEND_TABLE'",
        )


def _cutover_pair(app: AppConfig, found: Found, context: Context | None) -> None:
    """The cutover points clients' DNS names at the source, then at Aurora: both must be reachable that way."""
    cutover, tasks = app.cutover, app.dms.tasks
    if cutover is None:
        return
    task_key = cutover.task_key
    aurora_tasks = sorted(k for k, t in tasks.items() if t.target in app.targets and app.targets[t.target].is_aurora)
    task = tasks.get(task_key)
    found.check(
        task is not None or not tasks,
        "cutover.task_key",
        f"{task_key!r} names no task in [dms.tasks]; use one of {sorted(tasks)}",
    )
    found.check(
        bool(aurora_tasks) or not tasks,
        "cutover.enabled",
        "no task writes to an Aurora target, so there is nothing to cut over to; set cutover.enabled = false",
    )
    if task is None or task.source not in app.sources or task.target not in app.targets:
        return
    source, target = app.sources[task.source], app.targets[task.target]
    if not target.is_aurora:
        found.add(
            "cutover.task_key",
            f"task {task_key!r} writes to a {target.kind} target; the cutover moves clients to Aurora, so name a task with "
            f"an Aurora target ({aurora_tasks}) or set cutover.enabled = false for a data-lake-only stack",
        )
    family_target = defaults.HOMOGENEOUS_TARGET.get(source.engine)
    found.check(
        not target.is_aurora or target.kind == family_target,
        "cutover.task_key",
        f"the cutover moves the clients of a {source.engine} database ({task.source}) to a {target.kind} target; they "
        f"would connect with the wrong protocol whatever the schema conversion. Cut over to a {family_target} target, "
        "or set cutover.enabled = false and move the clients yourself",
    )
    found.check(
        network_or_none(source.host) is None,
        f"sources.{task.source}.host",
        f"{source.host!r} is an IP address, but the cutover's weighted records are CNAMEs, which must point at a DNS "
        "name; give the source's DNS name (an A record on-premises)",
    )
    domain = cutover.domain
    found.check(
        not (source.host == domain or source.host.endswith("." + domain)),
        "cutover.domain",
        f"{domain!r} contains the source host {source.host!r}; the private zone would answer for it inside the VPC and "
        f"hide the real source from DMS. Use a domain of its own, e.g. 'db.migration.internal' (cutover task {task_key!r})",
    )
    _marker_selected(task_key, task.table_mappings, source, found)
    if cutover.reverse_replication:
        cutover._reverse_task_settings = _reverse_settings(app, found, context, source, target)


def _marker_selected(task_key: str, mappings_json: str, source: Source, found: Found) -> None:
    """The writer flips only once a marker row written on the fenced source arrives through this task."""
    schema = marker_schema_for(source.engine, source.database)
    if not mappings_json or not schema:
        return  # unreadable mappings are reported by their own check; a MySQL source without a database names none
    if not selected(selections(json.loads(mappings_json)), schema, MARKER_TABLE):
        found.add(
            f"dms.tasks.{task_key}.table_mappings_file",
            f"selects no {schema}.{MARKER_TABLE}, but the cutover's writer flip waits for a marker row written there on "
            "the fenced source to arrive through this task; add a selection rule "
            f'{{"rule-type": "selection", "rule-id": "<unique>", "rule-name": "include-cutover-drain-marker", '
            f'"object-locator": {{"schema-name": "{schema}", "table-name": "{MARKER_TABLE}"}}, "rule-action": "include"}}',
        )


def _reverse_settings(app: AppConfig, found: Found, context: Context | None, source: Source, target: TargetConfig) -> str | None:
    """The reverse task's normalized settings, once its pair and its settings file are known to be safe."""
    where, task_key = "cutover.reverse_replication", app.cutover_table.task_key
    if not target.is_aurora:
        found.add(
            where,
            f"true, but the cutover task {task_key!r} writes to a {target.kind} target; the reverse task replicates "
            "Aurora back to the source, so it needs an Aurora target — set it to false",
        )
        return None
    if target.kind != defaults.HOMOGENEOUS_TARGET.get(source.engine):
        found.add(
            where,
            f"true, but the cutover task {task_key!r} migrates {source.engine} -> {target.kind}; DMS replays Aurora's "
            "changes into the source only within one engine family (postgres -> aurora_postgresql, mysql/mariadb -> "
            "aurora_mysql) — set it to false and plan the rollback of this converted schema separately",
        )
        return None
    reverse_key = f"{task_key}-{defaults.REVERSE_TASK_SUFFIX}"
    found.check(
        reverse_key not in app.dms.tasks,
        f"dms.tasks.{reverse_key}",
        f"the reverse task of {task_key!r} takes this name; rename the task (or set {where} = false)",
    )
    if context is None:
        return ""
    settings_where = "cutover.reverse_settings_file"
    settings = _json_file(found, context, settings_where, app.cutover_table.reverse_settings_file)
    if settings is None:
        return None
    _check_task_settings(found, settings_where, settings, database_target=False)
    if not isinstance(settings, dict):
        return None
    _check_reverse_settings(found, settings_where, settings)
    return normalize_json(_strip_managed_settings(settings))


def _check_reverse_settings(found: Found, where: str, settings: dict[str, Any]) -> None:
    """What the reverse task must never do: it writes into the live source database."""
    full_load = settings.get("FullLoadSettings", {})
    prep = full_load.get("TargetTablePrepMode") if isinstance(full_load, dict) else None
    found.check(
        prep == "DO_NOTHING",
        where,
        f"FullLoadSettings.TargetTablePrepMode is {prep!r}; set it to 'DO_NOTHING' — the reverse task writes into the "
        f"live source database, and {' or '.join(defaults.REVERSE_REFUSED_PREP_MODES)} (DMS's default is "
        "DROP_AND_CREATE when unset) would drop or empty its tables",
    )
    metadata = settings.get("TargetMetadata", {})
    batch = metadata.get("BatchApplyEnabled") if isinstance(metadata, dict) else None
    found.check(
        batch is not True,
        where,
        "TargetMetadata.BatchApplyEnabled is true; set it to false — the reverse task writes into the live source "
        "database, and batch apply commits net changes per table instead of the source transactions, so a rollback "
        "could hand the application half-applied transactions",
    )
    ddl = settings.get("ChangeProcessingDdlHandlingPolicy", {})
    for key in ("HandleSourceTableDropped", "HandleSourceTableTruncated"):
        value = ddl.get(key) if isinstance(ddl, dict) else None
        found.check(
            value is False,
            where,
            f"ChangeProcessingDdlHandlingPolicy.{key} is {value!r}; set it to false — the reverse task writes into the "
            "live source database, and a DROP or TRUNCATE on Aurora (applied when unset) must never reach its tables",
        )


def _observability_against_dms(app: AppConfig, found: Found) -> None:
    observability, dms = app.observability, app.dms
    errors = observability.cutover_errors_max
    rate = app.cutover.schedule_rate_minutes if app.cutover else 0
    ticks = max(1, CUTOVER_ERRORS_PERIOD_SECONDS // (60 * rate)) if rate >= 1 else None
    found.check(
        errors >= 0 and (ticks is None or errors < ticks),
        "observability.cutover_errors_max",
        f"{errors} must be 0..{(ticks - 1) if ticks else 'n'}: the alarm counts failed invocations per "
        f"{CUTOVER_ERRORS_PERIOD_SECONDS} s and the schedule runs {ticks} in that time, so a cutover Lambda failing on "
        "every tick would never alarm",
    )
    if not dms.serverless:
        storage = observability.dms_free_storage_min_gb
        found.check(
            storage < dms.allocated_storage_gb,
            "observability.dms_free_storage_min_gb",
            f"{storage} must be below dms.allocated_storage_gb ({dms.allocated_storage_gb}); otherwise the alarm is always on",
        )


def _lake_prefixes(app: AppConfig, found: Found) -> None:
    prefixes: dict[str, str] = {}
    for key, target in app.targets.items():
        prefix = target.s3.folder if target.s3 else target.kinesis.delivery_prefix if target.kinesis else None
        if prefix is None:
            continue
        for other_key, other in prefixes.items():
            if prefix == other or prefix.startswith(other + "/") or other.startswith(prefix + "/"):
                found.add(
                    f"targets.{key}",
                    f"prefix {prefix!r} overlaps targets.{other_key} ({other!r}); give each target its own folder so "
                    "crawlers and lifecycle rules stay apart",
                )
        prefixes[key] = prefix


def _derived_names(app: AppConfig, found: Found) -> None:
    """Names built from the prefix and a key must fit AWS's limits, or the apply fails halfway."""
    prefix = app.project.prefix
    for key, target in app.targets.items():
        for role in target_role_names(prefix, key, target.kind):
            found.check(
                len(role) <= IAM_ROLE_NAME_MAX,
                f"targets.{key}",
                f"the IAM role name {role!r} built from the prefix {prefix!r} and this key is {len(role)} characters; IAM "
                f"allows {IAM_ROLE_NAME_MAX}: shorten the key, project.name or project.environment_suffix",
            )


# --------------------------------------------------------------------------------------
# Helpers


def _json_file(found: Found, context: Context, where: str, relative: str) -> Any:
    if not relative:
        found.add(where, f"expected a path to a JSON file, got {relative!r}")
        return None
    try:
        text = context.files.text(relative)
    except FileReadError as problem:
        found.add(where, str(problem))
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        found.add(where, f"{relative!r} is not valid JSON (line {exc.lineno}: {exc.msg}); fix the file")
        return None


def _ipv4_block(found: Found, where: str, cidr: str, *, example: str) -> ipaddress.IPv4Network | None:
    """An IPv4 CIDR block, or None after recording why not (the VPC and every rule the stack writes are IPv4)."""
    net = network_or_none(cidr)
    if isinstance(net, ipaddress.IPv4Network):
        return net
    if net is None:
        found.add(where, f"{cidr!r} is not a CIDR block; use e.g. {example!r}")
    else:
        found.add(
            where,
            f"{cidr} is an IPv6 block; the stack's VPC, routes and security group rules are IPv4, so give an IPv4 "
            f"block, e.g. {example!r}",
        )
    return None


def _check_prefix(found: Found, where: str, prefix: str) -> None:
    found.check(
        bool(re.fullmatch(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*", prefix)),
        where,
        f"{prefix!r} must be a lowercase S3 prefix without leading or trailing '/', e.g. 'bronze/sales'",
    )


def bucket_name_problems(name: str) -> list[str]:
    """S3 general-purpose bucket naming rules, each broken rule as the fix to make."""
    problems = []
    if not 3 <= len(name) <= 63:
        problems.append(f"is {len(name)} characters; bucket names are 3..63 characters")
    if not re.fullmatch(r"[a-z0-9.-]*", name):
        problems.append("may hold only lowercase letters, digits, '.' and '-'")
    if not re.fullmatch(r"[a-z0-9].*[a-z0-9]|[a-z0-9]", name):
        problems.append("must begin and end with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        problems.append("must not hold '..', '.-' or '-.'")
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        problems.append("must not look like an IP address")
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        problems.append("uses a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3, ...)")
    if "." in name:
        problems.append("should not contain '.': virtual-hosted TLS certificates do not cover dotted names")
    return problems


def normalize_json(value: Any) -> str:
    """Sorted keys and compact separators, so `terraform plan` compares like with like."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _strip_managed_settings(settings: Any) -> Any:
    """Drop task settings that AWS owns (it fills them in), which otherwise diff on every plan."""
    if not isinstance(settings, dict):
        return settings
    cleaned = {k: v for k, v in settings.items() if k not in defaults.AWS_MANAGED_SETTING_KEYS}
    logging = cleaned.get("Logging")
    if isinstance(logging, dict):
        cleaned["Logging"] = {k: v for k, v in logging.items() if k not in defaults.AWS_MANAGED_SETTING_KEYS}
    return cleaned


def _major(version: str) -> int:
    head = version.split(".", maxsplit=1)[0]
    return int(head) if head.isdigit() else 0


def _clean_hyphens(name: str) -> bool:
    return not name.endswith("-") and "--" not in name


def _is_key(key: str) -> bool:
    return bool(re.fullmatch(r"[a-z][a-z0-9-]{0,30}", key)) and _clean_hyphens(key)


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in the installed botocore's endpoint data (empty if it cannot be read)."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        return frozenset()
    try:
        data = json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text(encoding="utf-8"))
        return frozenset(region for partition in data["partitions"] for region in partition["regions"])
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


# --------------------------------------------------------------------------------------
# Which check each model runs when it validates (rule_context.checks_for)

register(Project, lambda project, found, context: check_project(project, found))
register(Deployment, lambda deployment, found, context: check_deployment(deployment, found))
register(State, lambda state, found, context: check_state(state, found))
register(Network, lambda network, found, context: check_network(network, found))
register(Source, check_source)
register(S3Target, lambda target, found, context: check_s3_target(target, found))
register(KinesisTarget, lambda target, found, context: check_kinesis_target(target, found))
register(Aurora, lambda aurora, found, context: check_aurora(aurora, found))
register(Dms, lambda dms, found, context: check_dms(dms, found))
register(DataLake, lambda lake, found, context: check_data_lake(lake, found))
register(Cutover, lambda cutover, found, context: check_cutover(cutover, found))
register(Observability, lambda observability, found, context: check_observability(observability, found))
register(Backup, lambda backup, found, context: check_backup(backup, found))
register(AppConfig, check_app)
