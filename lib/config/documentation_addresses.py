"""Documentation addresses in a config: harmless on the emulator, a mistake on a real account.

RFC 5737 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and RFC 3849 (2001:db8::/32) reserve these
ranges for examples; no VPN device, source network or DNS server really has one. The shipped sample
config uses them on purpose, so they are refused only where the target is a real account
(`tools/deploy.py` before `./tap up` / `./tap plan` with `TAP_TARGET=aws`). Every string field of the
config is looked at, so a field added later is covered without naming it here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

DOCUMENTATION_RANGES = tuple(
    ipaddress.ip_network(block) for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _documentation_range(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return next(
        (block for block in DOCUMENTATION_RANGES if block.version == network.version and network.subnet_of(block)),  # type: ignore[arg-type]
        None,
    )


def documentation_addresses(config: BaseModel) -> list[str]:
    """One line per field holding a documentation address: the TOML path, the value and the fix."""
    return [
        f"{path}: {value} is a documentation address ({block}, RFC {'3849' if block.version == 6 else '5737'}); "
        "put the real address here before deploying to AWS"
        for path, value in _strings(config, "")
        if (block := _documentation_range(value)) is not None
    ]
