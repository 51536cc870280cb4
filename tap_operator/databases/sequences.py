"""Sequence values compared across source and target, engine-agnostic (PostgreSQL sequences, MySQL AUTO_INCREMENT)."""

from __future__ import annotations

from dataclasses import dataclass

from .results import SequenceRow

DEFAULT_GAP = 1000


@dataclass(frozen=True)
class SequenceState:
    schema: str
    object_name: str  # the sequence (PostgreSQL) or the table whose AUTO_INCREMENT it is (MySQL/MariaDB)
    next_value: int  # what the next insert gets: nextval() / the AUTO_INCREMENT counter
    increment: int
    max_value: int

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.object_name}"


def sequence_rows(
    source: dict[str, SequenceState], before: dict[str, SequenceState], after: dict[str, SequenceState] | None, gap: int
) -> list[SequenceRow]:
    rows: list[SequenceRow] = []
    for name, state in sorted(source.items()):
        target_before = before.get(name)
        target_after = after.get(name) if after is not None else None
        if state.increment < 0:
            rows.append(SequenceRow(name, state.next_value, _next(target_before), _next(target_after), False,
                                    "descending sequence: set it on the target by hand"))  # fmt: skip
            continue
        if target_before is None:
            rows.append(SequenceRow(name, state.next_value, None, None, False, "missing on the target"))
            continue
        wanted = state.next_value + gap
        if wanted > target_before.max_value:
            note = f"source + gap ({wanted}) exceeds the target's maxvalue {target_before.max_value}"
            rows.append(SequenceRow(name, state.next_value, target_before.next_value, _next(target_after), False, note))
            continue
        final = target_after if target_after is not None else target_before
        good = final.next_value >= wanted
        note = "" if good else f"target must hand out at least {wanted} next"
        rows.append(SequenceRow(name, state.next_value, target_before.next_value, _next(target_after), good, note))
    return rows


def to_raise(current: dict[str, SequenceState], wanted: dict[str, int]) -> list[tuple[SequenceState, int]]:
    """(state, wanted next value) for each existing counter below its wanted value that the maximum allows (only upward)."""
    raises: list[tuple[SequenceState, int]] = []
    for key, next_value in wanted.items():
        state = current.get(key)
        if state is not None and state.next_value < next_value <= state.max_value:
            raises.append((state, next_value))
    return raises


def _next(state: SequenceState | None) -> int | None:
    return None if state is None else state.next_value
