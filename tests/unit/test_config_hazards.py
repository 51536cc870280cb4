"""Dangerous-but-valid settings (lib/config/hazards.py): refused with the field and the fix unless acknowledged
with a reason in `[acknowledge]`, then said as a warning at every synth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import main
from lib.config import AppConfig, ConfigError
from lib.config.hazards import below_profile_floor, public_cidrs, public_share, zone_problem
from tests.unit.conftest import BASE_CONFIG

Make = Callable[..., AppConfig]


def refused(make_config: Make, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        make_config(overrides)
    return str(caught.value)


# ---- public-cidr


@pytest.mark.parametrize(
    ("cidr", "share"),
    [("0.0.0.0/0", 2**32), ("52.0.0.0/8", 2**24), ("52.94.0.0/15", 2**17)],
)
def test_a_public_block_wider_than_a_16_is_a_share_of_public_space(cidr: str, share: int) -> None:
    assert public_share(cidr) == share


@pytest.mark.parametrize("cidr", ["52.94.0.0/16", "203.0.113.0/24", "10.0.0.0/8", "172.16.0.0/12", "100.64.0.0/10", "bad"])
def test_private_blocks_and_narrow_public_ones_are_not(cidr: str) -> None:
    assert public_share(cidr) is None


def test_a_wide_public_source_block_is_refused_naming_the_field_and_the_fix(make_config: Make) -> None:
    text = refused(make_config, {"sources": {"onprem": {"cidr_blocks": ["192.168.0.0/16", "52.0.0.0/12"]}}})
    assert "sources.onprem.cidr_blocks[1]: 52.0.0.0/12 is 1,048,576 public addresses and DMS connects to port 5432" in text
    assert "(a /16 or narrower)" in text and '[acknowledge] public-cidr = "<why this is right here>"' in text


def test_wide_public_application_and_dns_blocks_are_refused(make_config: Make) -> None:
    text = refused(
        make_config,
        {"network": {"application_cidrs": ["18.0.0.0/8"], "resolver": {"allowed_cidrs": ["54.0.0.0/14"]}}},
    )
    assert "network.application_cidrs[0]: 18.0.0.0/8 is 16,777,216 public addresses and Aurora's port is opened to it" in text
    assert "network.resolver.allowed_cidrs[0]: 54.0.0.0/14" in text and "DNS (53) is opened to it" in text


def test_the_default_config_has_no_hazard(base_config: AppConfig) -> None:
    assert public_cidrs(base_config) == [] and below_profile_floor(base_config) == [] and base_config.warnings == ()


def test_an_acknowledged_public_block_passes_and_is_said_as_a_warning(make_config: Make) -> None:
    config = make_config(
        {
            "sources": {"onprem": {"cidr_blocks": ["52.94.0.0/15"]}},
            "acknowledge": {"public-cidr": "the vendor's database sits in its /15 behind the vendor's firewall"},
        }
    )
    (warning,) = config.warnings
    assert warning.startswith("sources.onprem.cidr_blocks[0]: 52.94.0.0/15 is 131,072 public addresses")
    assert warning.endswith("(acknowledged: the vendor's database sits in its /15 behind the vendor's firewall)")


def test_an_acknowledgment_needs_a_known_code_and_a_reason(make_config: Make) -> None:
    text = refused(make_config, {"acknowledge": {"public-cidrs": "typo", "below-profile-floor": "  "}})
    assert "acknowledge.public-cidrs: is not a hazard code; the codes are below-profile-floor, public-cidr" in text
    assert "acknowledge.below-profile-floor: give the reason" in text


def test_an_acknowledgment_nothing_needs_is_said(make_config: Make) -> None:
    config = make_config({"acknowledge": {"public-cidr": "we used to reach a public range"}})
    assert config.warnings == (
        "acknowledge.public-cidr: nothing in the config is a public-cidr hazard any more; remove the entry",
    )


# ---- below-profile-floor


def test_prod_overrides_below_the_prod_floor_are_refused_each_with_the_floor(make_config: Make) -> None:
    text = refused(
        make_config,
        {
            "project": {"profile": "prod"},
            "aurora": {"backup_retention_days": 3},
            "backup": {"daily_retention_days": 7, "monthly_retention_days": 0},
            "dms": {"log_retention_days": 14, "multi_az": False},
        },
    )
    assert "aurora.backup_retention_days: 3 is below the prod profile's 14 (days of Aurora's own backups)" in text
    assert "backup.daily_retention_days: 7 is below the prod profile's 35" in text
    assert "backup.monthly_retention_days: 0 is below the prod profile's 365" in text
    assert "dms.log_retention_days: 14 is below the prod profile's 90" in text
    assert "dms.multi_az: false is below the prod profile's true" in text
    assert "remove the override to get the profile's value" in text and "[acknowledge] below-profile-floor" in text


def test_prod_at_or_above_its_floor_and_other_profiles_pass(make_config: Make) -> None:
    prod = make_config(
        {"project": {"profile": "prod"}, "aurora": {"backup_retention_days": 21}, "dms": {"log_retention_days": 365}}
    )
    assert below_profile_floor(prod) == []
    dev = make_config({"aurora": {"backup_retention_days": 1}, "dms": {"log_retention_days": 1}})
    assert below_profile_floor(dev) == []


def test_an_acknowledged_prod_override_passes_with_a_warning(make_config: Make) -> None:
    config = make_config(
        {
            "project": {"profile": "prod"},
            "dms": {"multi_az": False},
            "acknowledge": {"below-profile-floor": "a one-week migration; a DMS restart is acceptable"},
        }
    )
    assert config.warnings == (
        "dms.multi_az: false is below the prod profile's true (a standby replication instance); remove the "
        "override to get the profile's value (acknowledged: a one-week migration; a DMS restart is acceptable)",
    )


# ---- zones


@pytest.mark.parametrize("zone", ["us-east-1a", "us-east-1f"])
def test_zone_names_of_the_region_pass(zone: str) -> None:
    assert zone_problem(zone, "us-east-1") is None


@pytest.mark.parametrize(
    ("zone", "says"),
    [
        ("eu-west-1a", "is not a zone of region 'us-east-1'"),
        ("us-east-10a", "is not a zone of region"),
        ("us-east-1", "is not a zone of region"),
        ("us-east-1ab", "is not a zone of region"),
        ("us-east-1-bos-1a", "is a Local or Wavelength Zone"),
        ("us-east-1-wl1-bos-wlz-1", "is a Local or Wavelength Zone"),
    ],
)
def test_zone_names_that_cannot_exist_in_the_region_are_named(zone: str, says: str) -> None:
    problem = zone_problem(zone, "us-east-1")
    assert problem is not None and says in problem and "'us-east-1a'" in problem


def test_a_local_zone_in_the_config_is_refused_with_the_fix(make_config: Make) -> None:
    text = refused(make_config, {"network": {"availability_zones": ["us-east-1a", "us-east-1b", "us-east-1-bos-1a"]}})
    assert "network.availability_zones: 'us-east-1-bos-1a' is a Local or Wavelength Zone" in text
    assert "or leave the list empty" in text


def test_synth_prints_the_acknowledged_hazards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """main.py says each acknowledged hazard on stderr, then synthesizes."""
    text = BASE_CONFIG.read_text(encoding="utf-8").replace(
        'application_cidrs = ["192.168.20.0/24"]', 'application_cidrs = ["192.168.20.0/24", "18.0.0.0/8"]'
    )
    config = tmp_path / "tap-migrate.toml"
    config.write_text(text + '\n[acknowledge]\npublic-cidr = "a test of the warning"\n', encoding="utf-8")
    monkeypatch.setenv("TAP_CONFIG", str(config))
    monkeypatch.delenv("TAP_TARGET", raising=False)
    assert main.main(outdir=str(tmp_path / "out")) == 0
    err = capsys.readouterr().err
    assert "warning: network.application_cidrs[1]: 18.0.0.0/8 is 16,777,216 public addresses" in err
    assert "(acknowledged: a test of the warning)" in err
