"""`SHOW GRANTS` read as data (MySQL 8 and MariaDB shapes), so the preflight proves SELECT on every mapped table
with that one statement instead of opening each table.

What the text settles: global privileges (`*.*`), database-level grants naming the table's database exactly, table-level
grants. What it does not: privileges that come through a role (`GRANT role TO user`: its grants are not listed),
partial revokes (`REVOKE … ON db.* FROM`, MySQL 8), column-level grants (`SELECT (a, b)`: DMS reads every column),
and database names that match only as a wildcard pattern (`app%`).
A table those could cover is left "unproven" and the caller opens it (`SELECT 1 … LIMIT 0`): never a false
verdict, one statement in the common case whatever the number of tables. Driver-free: unit tested against
recorded answers of both servers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .mappings import TableName

_PART = r"\*|`(?:[^`]|``)*`|[^.`\s]+"
_LINE = re.compile(
    rf"^GRANT (?P<privileges>.+?) ON (?P<kind>(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?: BODY)?) )?"
    rf"(?P<database>{_PART})\.(?P<table>{_PART}) TO ",
    re.IGNORECASE,
)
_ROLE = re.compile(r"^GRANT (?!.* ON )", re.I)  # `GRANT role TO user` (no ON): privileges not shown here
_EVERYTHING = frozenset({"ALL", "ALL PRIVILEGES"})


def _unquote(part: str) -> str:
    return part[1:-1].replace("``", "`") if part.startswith("`") else part


def _split_privileges(text: str) -> list[str]:
    """`SELECT (`a`, `b`), INSERT` -> ["SELECT (`a`, `b`)", "INSERT"]: commas inside a column list stay."""
    parts: list[str] = []
    depth, start, quoted = 0, 0, False
    for index, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


@dataclass(frozen=True)
class Grant:
    """One `GRANT … ON database.table` line: `database`/`table` None for `*`."""

    privileges: frozenset[str]  # upper case, whole-object privileges only
    columns_only: frozenset[str]  # privileges granted on some columns only
    database: str | None  # as written, `\_` and `\%` unescaped
    table: str | None

    def covers(self, table: TableName) -> bool:
        """The grant names the table's database exactly. A database-level name with `_` or `%` is a pattern (or,
        with MySQL's partial_revokes, a literal): equal to the name it covers it either way; a name it matches only
        as a pattern is left to the probe."""
        if self.database is None:
            return True
        if self.database != table.schema:
            return False
        return self.table is None or self.table == table.name

    def allows(self, privilege: str) -> bool:
        return bool(self.privileges & (_EVERYTHING | {privilege}))


def _database(part: str) -> str | None:
    return None if part == "*" else _unquote(part).replace("\\_", "_").replace("\\%", "%")


def parse_grant(line: str) -> Grant | None:
    """A privilege grant on a table, a database or everything; None for other lines (roles, routines, proxies)."""
    match = _LINE.match(line.strip())
    if match is None or (match.group("kind") or "TABLE ").upper() != "TABLE " or line.strip().upper().startswith("GRANT PROXY"):
        return None
    whole: set[str] = set()
    partial: set[str] = set()
    for privilege in _split_privileges(match.group("privileges")):
        name, _, columns = privilege.partition("(")
        (partial if columns else whole).add(" ".join(name.split()).upper())
    table = None if match.group("table") == "*" else _unquote(match.group("table"))
    return Grant(frozenset(whole), frozenset(partial), _database(match.group("database")), table)


@dataclass(frozen=True)
class Grants:
    """What `SHOW GRANTS` (of the session's own account) says."""

    grants: tuple[Grant, ...]
    # Lines whose privileges the text does not show (roles) or that take privileges away (partial revokes).
    indirect: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Grants:
        grants: list[Grant] = []
        indirect: list[str] = []
        for line in lines:
            text = line.strip()
            parsed = parse_grant(text)
            if parsed is not None:
                grants.append(parsed)
            elif _ROLE.match(text) or text.upper().startswith("REVOKE "):
                indirect.append(text)
        return cls(tuple(grants), tuple(indirect))

    def global_privileges(self) -> set[str]:
        """Privileges held on `*.*` (upper case; MySQL 8 lists its dynamic privileges on a line of their own)."""
        return {privilege for grant in self.grants if grant.database is None for privilege in grant.privileges}

    def revokes(self) -> bool:
        return any(line.upper().startswith("REVOKE ") for line in self.indirect)

    def proves_select(self, table: TableName) -> bool:
        """True when the listed grants give SELECT on the whole table and nothing listed can take it away."""
        if self.revokes():
            return False  # MySQL 8 partial revokes: `REVOKE SELECT ON db.* FROM …` may cut a global grant
        return any(grant.covers(table) and grant.allows("SELECT") for grant in self.grants)

    def unproven_select(self, tables: Sequence[TableName]) -> list[TableName]:
        """The tables SELECT is not proven on by the text: the caller opens each to learn the answer."""
        return [table for table in tables if not self.proves_select(table)]
