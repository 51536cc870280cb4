"""What `compare` reads from each side, engine-independent: a table's shape, a chunk's checksum, the session limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .mappings import TableName

# A key as each engine hands it back: PostgreSQL keys are text (cast back to the column's type in SQL),
# MySQL/MariaDB keys are the driver's values. Either is passed back as parameters, never spliced into SQL.
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Limits:
    """What keeps a compare safe on a production server."""

    statement_timeout_s: float = 30.0  # PostgreSQL statement_timeout, MySQL max_execution_time, MariaDB max_statement_time
    lock_timeout_s: float = 5.0  # never queue behind DDL (PostgreSQL lock_timeout, MySQL lock_wait_timeout)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as the engine spells the declared type (MySQL integer display widths dropped)
    nullable: bool
    collation: str | None = None  # text types: the effective collation (it orders the key ranges); else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable, "collation": self.collation}


@dataclass(frozen=True)
class TableShape:
    """A table's columns in declaration order, its primary key in key order, the columns fed by a sequence."""

    table: TableName
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    sequenced: tuple[str, ...]  # PostgreSQL: identity / nextval() defaults, as "col (identity)"; MySQL: "col (auto_increment)"

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class ChunkSum:
    """Row count and an order-independent checksum of a key range, computed by the database."""

    rows: int
    checksum: str

    def matches(self, other: ChunkSum) -> bool:
        return self.rows == other.rows and self.checksum == other.checksum


def key_text(key: Key | None) -> str | None:
    """A key for people and JSON: (1) or (7, 'b'); None stands for the open end of the key space."""
    if key is None:
        return None
    parts = [value.hex() if isinstance(value, bytes | bytearray) else str(value) for value in key]
    return "(" + ", ".join(parts) + ")"
