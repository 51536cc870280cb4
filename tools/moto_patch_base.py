"""What every moto patch module shares: the checks on moto's internals and the record that undoes them.

`tools.moto_patches` (the emulator's patches, `PATCHES`) and `tools.moto_network_patches` (issue 16's,
part of `PATCHES`) both import this module, which imports neither. A patch checks the moto internals
it replaces (`original`, `original_property`) or the actions it adds (`absent`), and installs through
`install`, which records the value before it: `revert_all()` puts moto back exactly as it was, and
`revert_to(mark)` undoes only what was installed after `mark` (`len(installed)` when it was taken).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

_MISSING: Final = object()

# (owner, attribute, value before the patch, or _MISSING): what revert_all() restores, newest first.
installed: list[tuple[type, str, Any]] = []


class MotoPatchError(RuntimeError):
    """moto is not the version, or does not have the shape, these patches were written against."""


def original(owner: type, name: str) -> Any:
    """The attribute a patch replaces, straight from the class dict; raise if moto no longer defines it there."""
    if name not in vars(owner):
        raise MotoPatchError(f"{owner.__module__}.{owner.__qualname__}.{name} is gone: moto's internals changed")
    return vars(owner)[name]


def absent(owner: type, name: str) -> None:
    """A patch adds `name`: raise if moto defines it by now (then moto's own version should be checked instead)."""
    if hasattr(owner, name):
        raise MotoPatchError(f"{owner.__module__}.{owner.__qualname__}.{name} exists now: moto implements it, drop our version")


def original_property(owner: type, name: str) -> Callable[[Any], Any]:
    current = original(owner, name)
    if not isinstance(current, property) or current.fget is None:
        raise MotoPatchError(f"{owner.__module__}.{owner.__qualname__}.{name} is no longer a property")
    getter: Callable[[Any], Any] = current.fget
    return getter


def install(owner: type, name: str, value: Any) -> None:
    installed.append((owner, name, vars(owner).get(name, _MISSING)))
    setattr(owner, name, value)


def is_applied() -> bool:
    return bool(installed)


def revert_to(mark: int) -> None:
    """Put back, newest first, every attribute installed since `installed` held `mark` entries."""
    while len(installed) > mark:
        owner, name, previous = installed.pop()
        if previous is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, previous)


def revert_all() -> None:
    """Put every patched moto attribute back as it was (newest first)."""
    revert_to(0)
