"""What a table looks like in the catalog, engine-neutral: the drift check compares these, each engine reads them.

A module of its own so that the engine modules (postgres, mysql) and the drift check that drives them
both import it, and neither imports the other at the top.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnShape:
    name: str
    type: str  # as the engine declares it, normalized where engines differ only in spelling
    nullable: bool


@dataclass(frozen=True)
class TableShape:
    columns: tuple[ColumnShape, ...]  # in column order
    key: tuple[str, ...]  # primary-key columns in key order; () without a primary key
