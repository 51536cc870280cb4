"""The one declared list of resources the embedded emulator cannot hold.

Only the `emulator` target leaves these out; the `aws` target always builds them. Each entry
says why and what covers the resource instead. The deploy script prints this list, and the
README shows it as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Exclusion:
    resource_type: str
    why: str
    covered_by: str


EMULATOR_EXCLUSIONS: Final[tuple[Exclusion, ...]] = (
    Exclusion(
        "aws_backup_selection",
        "moto 5.2.1 does not implement CreateBackupSelection (the provider retries HTTP 500 until it times out)",
        "tests/unit/test_observability.py asserts the selection, its role and the cluster ARN on the synthesized JSON",
    ),
    Exclusion(
        "aws_dms_event_subscription",
        "moto 5.2.1 does not implement DMS event subscriptions",
        "tests/unit/test_observability.py asserts categories and topic; the EventBridge task-failure rule still deploys",
    ),
)

_EXCLUDED_TYPES: Final = frozenset(e.resource_type for e in EMULATOR_EXCLUSIONS)


def supported(resource_type: str, *, emulator: bool) -> bool:
    """Whether a construct should create `resource_type` for this deployment target."""
    return not (emulator and resource_type in _EXCLUDED_TYPES)
