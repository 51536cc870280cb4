"""The one declared list of resources the embedded emulator cannot hold.

Only the `emulator` target may leave resources out, and only those named here, each with why
and what covers it instead; the deploy script prints the list and the README shows it. Today it
is empty: with the patches in tools/moto_patches.py, moto 5.2.1 holds every resource of the real
stack (including DMS event subscriptions, certificates, Serverless replication configs and the
backup selection that plain moto lacks), so the emulator deploys exactly what an AWS account gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Exclusion:
    resource_type: str
    why: str
    covered_by: str


EMULATOR_EXCLUSIONS: Final[tuple[Exclusion, ...]] = ()
