"""What the checks that span fields and the models they check share: the lower room of `lib/config`.

`schema.py` (the models) and `rules.py` (the checks, which read the models) both import this module and
neither imports the other back: `rules.py` registers each model's check here (`register`), and a model's
validator runs the checks registered for its class (`checks_for`). Problems are recorded in `Found` as
(field path relative to the model, text) and raised as one `RulesError`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

HERE = "<here>"


class RulesError(ValueError):
    """Every problem one validator found: (field path relative to the model, text)."""

    def __init__(self, problems: list[tuple[str, str]], out_of_enum: tuple[str, ...] = ()) -> None:
        self.problems = problems
        # Fields whose value is outside their enum: a second pass (loader.py) leaves them out, so that the
        # whole-file checks judge the default instead of repeating the bad value in other words.
        self.out_of_enum = out_of_enum
        super().__init__("; ".join(f"{where}: {text}" for where, text in problems))


class Found:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.out_of_enum: list[str] = []

    def add(self, where: str, text: str) -> None:
        self.problems.append((where, text))

    def check(self, ok: bool, where: str, text: str) -> None:
        if not ok:
            self.add(where, text)

    def raise_if_any(self) -> None:
        if self.problems:
            raise RulesError(self.problems, tuple(self.out_of_enum))


@dataclass(frozen=True)
class Why:
    """Annotated on a bounded field: why the bounds are what they are, said after a refused value."""

    text: str


class FileReadError(Exception):
    """A file a field names cannot be read; the text says why and what to do."""


class Files(Protocol):
    """Reads the files fields name, relative to the config file or the project root (loader.py)."""

    def text(self, relative: str) -> str: ...


@dataclass(frozen=True)
class Context:
    """What validation needs beyond the TOML: the files its fields name.

    `whole_file_only`: a second pass after field errors (loader.py) runs only the whole-file checks, so
    their problems are reported along with the fields' instead of after the fields are fixed.
    """

    files: Files
    whole_file_only: bool = False


def context_of(value: Any) -> Context | None:
    return value if isinstance(value, Context) else None


# --------------------------------------------------------------------------------------
# Each model's check, registered by rules.py

M = TypeVar("M")
Check = Callable[[M, Found, Context | None], None]
_CHECKS: dict[type[Any], Check[Any]] = {}


def register(model: type[M], check: Check[M]) -> None:
    """`check` runs when a `model` (or a subclass without a check of its own) validates."""
    _CHECKS[model] = check


def checks_for(model: type[Any]) -> Check[Any] | None:
    """The check of `model`'s nearest class with one, as a method would be inherited; None when none has.

    Importing any `lib.config` module runs `lib/config/__init__.py`, which loads rules.py and so registers every
    check before a config validates (tests/unit/test_config_checks.py holds the list)."""
    return next((_CHECKS[cls] for cls in model.__mro__ if cls in _CHECKS), None)


# --------------------------------------------------------------------------------------
# Address blocks, read by the checks and by the models' derived values


def network_or_none(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return None


def inside_new_vpc(cidr: str, vpc_cidr: str, *, existing: bool) -> bool:
    """True when `cidr` lies in the stack's own new VPC (no route needed); unknown for an existing VPC: False."""
    vpc, net = network_or_none(vpc_cidr), network_or_none(cidr)
    if existing or not isinstance(vpc, ipaddress.IPv4Network) or not isinstance(net, ipaddress.IPv4Network):
        return False
    return net.subnet_of(vpc)


def outermost(cidrs: Iterable[str]) -> tuple[str, ...]:
    """The blocks not inside another of them, in first-seen order: one route covers what it contains."""
    unique = list(dict.fromkeys(cidrs))
    nets = {cidr: network_or_none(cidr) for cidr in unique}

    def covered(cidr: str) -> bool:
        net = nets[cidr]
        return isinstance(net, ipaddress.IPv4Network) and any(
            isinstance(other, ipaddress.IPv4Network) and other != net and net.subnet_of(other) for other in nets.values()
        )

    return tuple(cidr for cidr in unique if not covered(cidr))
