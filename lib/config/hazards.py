"""Dangerous-but-valid settings, flagged before synth: each rule a small pure function over the whole config.

A hazard is a setting AWS would accept that is probably a mistake:

- `public-cidr`: a CIDR that opens a large share of public address space to the migration's ports —
  a public block wider than a /16 (0.0.0.0/0 included) in `sources.<key>.cidr_blocks` (DMS connects out
  to it on the source port), `network.application_cidrs` (Aurora's port is opened to it) or
  `network.resolver.allowed_cidrs` (DNS is opened to it).
- `below-profile-floor`: in the prod profile, a backup, retention or availability setting overridden below
  the profile's own default (lib/defaults.py), which is the floor the profile promises.

Each is refused (an error naming the field and the fix) unless the file acknowledges it with a reason, as a
cdk-nag suppression does: `[acknowledge]` maps the hazard's code to why it is right here, e.g.
`public-cidr = "the vendor's database sits in 52.94.0.0/15 behind its own firewall"`. An acknowledged
hazard is still printed as a warning at every synth. Deletion protection off in prod stays an error
without acknowledgment (rules.py), as do zone names that cannot exist in the region (`zone_problem`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from lib import defaults
from lib.config.schema import AppConfig

PUBLIC_CIDR: Final = "public-cidr"
BELOW_PROFILE_FLOOR: Final = "below-profile-floor"
CODES: Final = {
    PUBLIC_CIDR: "a public block wider than a /16 opened to the migration's ports",
    BELOW_PROFILE_FLOOR: "a prod setting below the prod profile's own default",
}
# A public block this wide or wider (fewer prefix bits) is a hazard: a /16 is 65,536 addresses.
WIDEST_PUBLIC_PREFIX: Final = 16
_SHARED: Final = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT space: not public either
FLOOR_PROFILE: Final = "prod"


@dataclass(frozen=True)
class Hazard:
    code: str
    field: str  # the TOML path, e.g. "sources.onprem.cidr_blocks[0]"
    text: str  # what is dangerous and the fix

    def as_error(self) -> str:
        return (
            f'{self.text}; if you mean it, add [acknowledge] {self.code} = "<why this is right here>" '
            "(docs/configuration.md, Acknowledged hazards)"
        )

    def as_warning(self, reason: str) -> str:
        return f"{self.field}: {self.text} (acknowledged: {reason})"


def public_share(cidr: str) -> int | None:
    """How many public addresses `cidr` opens when it is a public block wider than a /16; None otherwise."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return None  # malformed blocks are reported by the field checks
    if not isinstance(net, ipaddress.IPv4Network) or net.prefixlen >= WIDEST_PUBLIC_PREFIX:
        return None
    if net.is_private or net.subnet_of(_SHARED):
        return None
    return net.num_addresses


def public_cidrs(app: AppConfig) -> list[Hazard]:
    """Wide public blocks in the lists that open (or send to) the migration's ports."""

    def lists() -> Iterator[tuple[str, tuple[str, ...], str]]:
        for key, source in app.sources.items():
            yield f"sources.{key}.cidr_blocks", tuple(source.cidr_blocks), f"DMS connects to port {source.port} there"
        yield "network.application_cidrs", tuple(app.network.application_cidrs), "Aurora's port is opened to it"
        if app.network.resolver is not None:
            yield "network.resolver.allowed_cidrs", tuple(app.network.resolver.allowed_cidrs), "DNS (53) is opened to it"

    found: list[Hazard] = []
    for where, cidrs, opens in lists():
        for index, cidr in enumerate(cidrs):
            share = public_share(cidr)
            if share is not None:
                found.append(
                    Hazard(
                        PUBLIC_CIDR,
                        f"{where}[{index}]",
                        f"{cidr} is {share:,} public addresses and {opens}; name the hosts' own block "
                        f"(a /{WIDEST_PUBLIC_PREFIX} or narrower)",
                    )
                )
    return found


def below_profile_floor(app: AppConfig) -> list[Hazard]:
    """prod settings overridden below the prod profile's own defaults (backups, retention, Multi-AZ DMS)."""
    if app.project.profile != FLOOR_PROFILE:
        return []
    floor = defaults.PROFILES[FLOOR_PROFILE]
    checks: list[tuple[str, float, float, str]] = [
        ("dms.log_retention_days", app.dms.log_retention_days, floor.log_retention_days, "days of task, Lambda and flow logs"),
        ("dms.multi_az", int(app.dms.multi_az), int(floor.dms_multi_az), "a standby replication instance"),
    ]
    if app.aurora is not None:
        checks += [
            (
                "aurora.backup_retention_days",
                app.aurora.backup_retention_days,
                floor.backup_retention_days,
                "days of Aurora's own backups",
            ),
            (
                "backup.daily_retention_days",
                app.backup.daily_retention_days,
                floor.backup_daily_retention_days,
                "days a daily recovery point is kept",
            ),
            (
                "backup.monthly_retention_days",
                app.backup.monthly_retention_days,
                floor.backup_monthly_retention_days,
                "days a monthly recovery point is kept",
            ),
        ]
    found: list[Hazard] = []
    for where, value, minimum, what in checks:
        if value < minimum:
            flag = where == "dms.multi_az"
            found.append(
                Hazard(
                    BELOW_PROFILE_FLOOR,
                    where,
                    f"{_shown(value, flag=flag)} is below the prod profile's {_shown(minimum, flag=flag)} ({what}); remove "
                    "the override to get the profile's value",
                )
            )
    return found


def _shown(value: float, *, flag: bool) -> str:
    """A value as the TOML file writes it: `false` for a boolean field, `14` for a number."""
    return str(bool(value)).lower() if flag else f"{value:g}"


RULES: Final = (public_cidrs, below_profile_floor)


def zone_problem(zone: str, region: str) -> str | None:
    """Why `zone` cannot be an Availability Zone of `region` (None: its name is one).

    A zone's name is the region's name and one letter (`us-east-1a`). Which letters an account has is the
    account's (ap-northeast-1b is absent for new accounts, us-west-1 shows two of a/b/c), so no committed
    table decides it: the shape and the region are checked here; a letter the account lacks is refused by AWS
    when the subnet is created (docs/configuration.md, Acknowledged hazards).
    """
    if re.fullmatch(re.escape(region) + r"[a-z]", zone):
        return None
    if re.fullmatch(re.escape(region) + r"-[a-z]+-\d+[a-z]", zone) or "-wl1-" in zone:
        return f"{zone!r} is a Local or Wavelength Zone; the subnets need Availability Zones such as '{region}a'"
    return f"{zone!r} is not a zone of region {region!r}; use names such as '{region}a'"


def judge(app: AppConfig) -> tuple[list[tuple[str, str]], list[str]]:
    """(errors as (field, text), warnings): hazards not acknowledged are errors; acknowledged ones are warnings."""
    errors: list[tuple[str, str]] = []
    acknowledged = dict(app.acknowledge)
    for code, reason in acknowledged.items():
        if code not in CODES:
            errors.append((f"acknowledge.{code}", f"is not a hazard code; the codes are {', '.join(sorted(CODES))}"))
        elif not reason.strip():
            errors.append((f"acknowledge.{code}", "give the reason the setting is right here (it is printed at every synth)"))
    warnings: list[str] = []
    used: set[str] = set()
    for rule in RULES:
        for hazard in rule(app):
            reason = acknowledged.get(hazard.code, "").strip()
            if reason:
                warnings.append(hazard.as_warning(reason))
                used.add(hazard.code)
            else:
                errors.append((hazard.field, hazard.as_error()))
    for code in sorted(set(acknowledged) & set(CODES) - used):
        warnings.append(f"acknowledge.{code}: nothing in the config is a {code} hazard any more; remove the entry")
    return errors, warnings
