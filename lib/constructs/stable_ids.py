"""Resources made once per CIDR (or security group) get a construct id derived from it, never from its list index.

Keyed by index, removing the second of three CIDRs would re-key the third: Terraform would replace the
third rule or route (a gap in traffic) to delete the second. Keyed by the CIDR, removing one destroys
exactly that one and leaves the others alone.

Stacks deployed before this keying hold the resources at their old, index-based addresses. Each keyed
resource therefore carries a `moved` block from the address it had at that index
(`TerraformResource.move_from_id`), so the first plan after the upgrade moves the state and replaces
nothing — as long as the lists are unchanged in the same apply (docs/deploying.md). A `moved` block
whose old address is not in the state (a new stack, or one already moved) is ignored by Terraform.
CDKTF's logical id is an md5 of the construct path (`makeUniqueId` in cdktf's lib/private/unique.js),
so the old address is computed here the same way; tests/unit/test_stable_ids.py checks the port
against addresses cdktf itself allocated.
"""

from __future__ import annotations

import hashlib
import re
from typing import TypeVar

from cdktf import TerraformResource

_HIDDEN_ID = "Default"  # left out of the path entirely
_HIDDEN_FROM_HUMAN_ID = "Resource"  # in the hash, not in the readable part
_MAX_HUMAN_LEN = 240
_MAX_ID_LEN = 255
R = TypeVar("R", bound=TerraformResource)


def cidr_id(cidr: str) -> str:
    """`10.0.0.0/16` -> `10-0-0-0-16`: a construct id part that names the block (IPv6 `:` become `-` too)."""
    return re.sub(r"[^A-Za-z0-9]", "-", cidr.strip())


def unique_id(components: list[str]) -> str:
    """cdktf 0.21's logical id for a construct path below the stack (a port of `makeUniqueId`)."""
    components = [c for c in components if c != _HIDDEN_ID]
    if not components:
        raise ValueError("no path components to name")
    if len(components) == 1:
        candidate = _allowed(components[0])
        if len(candidate) <= _MAX_ID_LEN:
            return candidate
    digest = hashlib.md5("/".join(components).encode("utf-8"), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for component in components:
        if not human or not human[-1].endswith(component):
            human.append(component)
    readable = "_".join(_allowed(c) for c in human if c != _HIDDEN_FROM_HUMAN_ID)[:_MAX_HUMAN_LEN]
    return f"{readable}_{digest}"


def _allowed(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", text)


def address_of(resource: TerraformResource, construct_id: str | None = None) -> str:
    """The Terraform address `resource` has (or would have with its last construct id replaced)."""
    components = resource.node.path.split("/")[1:]  # below the stack
    if construct_id is not None:
        components[-1] = construct_id
    return f"{resource.terraform_resource_type}.{unique_id(components)}"


def moved_from_index(resource: R, index_id: str) -> R:
    """Mark `resource` as moved from the address it had when its construct id was `index_id` (index-keyed)."""
    resource.move_from_id(address_of(resource, index_id))
    return resource
