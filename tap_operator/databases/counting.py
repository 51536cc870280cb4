"""Statements sent to each database side, counted where the drivers execute them.

The fence window is write outage, and over a VPN every statement is a round trip: `count_statements()`
shows how many each side got, so a test or a benchmark can hold the count constant in the size of the
schema::

    with count_statements() as counted:
        sync_sequences(source, target)
    counted["source"], counted["target"]   # statements per side (the role each session was opened as)

Every session of this package opens its cursors through a counting cursor class; outside the block
nothing is recorded. A multi-statement string sent in one `execute` (MySQL's batched ALTER TABLEs) counts
once: one round trip. Connecting (and the TLS check right after it) is not a statement of the operation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

_ACTIVE: ContextVar[StatementCounter | None] = ContextVar("tap_statement_counter", default=None)
_KEPT_TEXT = 160  # characters of each statement kept for reading the log


@dataclass
class StatementCounter:
    """Statements per role ("source", "target", "proof", ...), and the start of each one's text in order."""

    counts: dict[str, int] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)

    def __getitem__(self, role: str) -> int:
        return self.counts.get(role, 0)

    def add(self, role: str, statement: str) -> None:
        self.counts[role] = self.counts.get(role, 0) + 1
        self.statements.setdefault(role, []).append(" ".join(statement.split())[:_KEPT_TEXT])

    def to_dict(self) -> dict[str, int]:
        return dict(self.counts)


@contextlib.contextmanager
def count_statements() -> Iterator[StatementCounter]:
    """Count the statements every session of the databases package sends inside the block, per role."""
    counter = StatementCounter()
    token = _ACTIVE.set(counter)
    try:
        yield counter
    finally:
        _ACTIVE.reset(token)


def record(role: str, statement: object) -> None:
    """Called by the drivers' counting cursors before each execute."""
    counter = _ACTIVE.get()
    if counter is not None:
        counter.add(role, statement if isinstance(statement, str) else repr(statement))
