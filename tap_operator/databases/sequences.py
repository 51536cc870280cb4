"""Sequence values compared across source and target, engine-agnostic (PostgreSQL sequences, MySQL AUTO_INCREMENT).

A sequence is identified by its (schema, name) pair everywhere: never by one joined string, which is
ambiguous (`"a.b"."c"` and `"a"."b.c"` both join to `a.b.c`). Output shows the pair quoted.

The sync moves each target sequence in its own direction (up for ascending, down for descending), never
back, to the source's next value plus a gap. Near the target's limit (MAXVALUE / MINVALUE) it uses the
largest gap that still fits; only when not even the source's own next value fits is the sequence refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .refusals import refusal_kind
from .results import SequenceRow

DEFAULT_GAP = 1000

SequenceKey = tuple[str, str]  # (schema, sequence) on PostgreSQL; (database, table) for MySQL AUTO_INCREMENT


def quote_pair(schema: str, name: str, quote: str = '"') -> str:
    """`"schema"."name"` (PostgreSQL) or `` `schema`.`name` `` (MySQL): the quote character inside is doubled."""
    return ".".join(quote + part.replace(quote, quote * 2) + quote for part in (schema, name))


@dataclass(frozen=True)
class SequenceState:
    schema: str
    object_name: str  # the sequence (PostgreSQL) or the table whose AUTO_INCREMENT it is (MySQL/MariaDB)
    next_value: int  # what the next insert gets: nextval() / the AUTO_INCREMENT counter
    increment: int  # negative: a descending sequence
    max_value: int
    min_value: int = 1
    quote: str = '"'  # how the engine quotes identifiers: '"' PostgreSQL, '`' MySQL/MariaDB
    can_update: bool = True  # whether the session that read it may set it (target side)

    @property
    def key(self) -> SequenceKey:
        return (self.schema, self.object_name)

    @property
    def quoted(self) -> str:
        return quote_pair(self.schema, self.object_name, self.quote)

    @property
    def direction(self) -> int:
        return -1 if self.increment < 0 else 1

    @property
    def limit(self) -> int:
        """The last value it may hand out in its direction: MAXVALUE ascending, MINVALUE descending."""
        return self.min_value if self.direction < 0 else self.max_value


@dataclass(frozen=True)
class Plan:
    """What the sync does to one target sequence, decided from the source and the target before."""

    source: SequenceState
    target: SequenceState | None
    wanted: int | None  # the target's next value the sync must reach; None: refused
    gap: int  # the gap used (smaller than asked near the target's limit)
    set_to: int | None  # the value to set now; None: nothing to set (already there, or refused)
    refusal: str | None  # a refusal kind of the registry (refusals.py), or None
    note: str


def plan(source: SequenceState, target: SequenceState | None, gap: int) -> Plan:
    if target is None:
        return Plan(source, None, None, gap, None, refusal_kind("sequence_missing"), "missing on the target")
    direction = source.direction
    if target.direction != direction:
        note = f"the source moves by {source.increment} but the target by {target.increment}: recreate it like the source's"
        return Plan(source, target, None, gap, None, refusal_kind("sequence_mismatch"), note)
    word = "minvalue" if direction < 0 else "maxvalue"
    room = direction * (target.limit - source.next_value)  # how far past the source's next value the target may go
    if room < 0:
        note = (
            f"the source's next value {source.next_value} is past the target's {word} {target.limit}: no value is safe; "
            f"ALTER SEQUENCE {target.quoted} {word.upper()} <beyond {source.next_value}> on the target"
        )
        return Plan(source, target, None, gap, None, refusal_kind("sequence_no_room"), note)
    used = min(gap, room)
    wanted = source.next_value + direction * used
    note = f"gap reduced to {used} by the target's {word} {target.limit}" if used < gap else ""
    if direction * (target.next_value - wanted) >= 0:
        return Plan(source, target, wanted, used, None, None, note)  # already there: never moved back
    if not target.can_update:
        note = f"the target user may not set it: GRANT UPDATE ON SEQUENCE {target.quoted} TO <the target user>"
        return Plan(source, target, None, used, None, refusal_kind("sequence_not_writable"), note)
    return Plan(source, target, wanted, used, wanted, None, note)


def plans(source: Mapping[SequenceKey, SequenceState], target: Mapping[SequenceKey, SequenceState], gap: int) -> list[Plan]:
    return [plan(state, target.get(key), gap) for key, state in sorted(source.items())]


def sequence_rows(
    source: Mapping[SequenceKey, SequenceState],
    before: Mapping[SequenceKey, SequenceState],
    after: Mapping[SequenceKey, SequenceState] | None,
    gap: int,
) -> list[SequenceRow]:
    rows: list[SequenceRow] = []
    for decided in plans(source, before, gap):
        state = decided.source
        target_before = decided.target
        target_after = after.get(state.key) if after is not None else None
        final = target_after if after is not None else target_before
        if decided.refusal is not None or decided.wanted is None or final is None:
            good, note = False, decided.note
        else:
            good = state.direction * (final.next_value - decided.wanted) >= 0
            note = decided.note if good else f"target must hand out {decided.wanted} or beyond next"
        rows.append(
            SequenceRow(
                state.quoted,
                state.next_value,
                _next(target_before),
                _next(target_after),
                good,
                note,
                schema=state.schema,
                object_name=state.object_name,
                refusal=decided.refusal,
                gap=decided.gap if decided.wanted is not None else None,
            )
        )
    return rows


def _next(state: SequenceState | None) -> int | None:
    return None if state is None else state.next_value
