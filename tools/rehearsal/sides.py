"""What the rehearsal needs of one side (source or target) and of the pair, whatever the database engine.

The PostgreSQL clusters (clusters.Cluster) and the MariaDB servers (mariadb_servers.MariaSide) both
fit: the workload, the name table and the operator's commands see only this.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

Role = Literal["source", "target"]


class Side(Protocol):
    """One database server of the rehearsal with the application database and account on it."""

    @property
    def role(self) -> Role: ...

    @property
    def label(self) -> str: ...

    @property
    def cluster_name(self) -> str:
        """What audit_log.written_on records for a transaction that ran here."""
        ...

    def admin_url(self, database: str | None = None) -> str:
        """The operator's (superuser) URL, direct."""
        ...

    def operator_url(self, database: str | None = None) -> str:
        """The URL the operator CLI gets (through a latency proxy with --rtt-ms)."""
        ...

    def app_url(self) -> str:
        """The application account's URL (what must fail to write once this side is fenced)."""
        ...

    def app(self, *, application_name: str = "rehearsal", autocommit: bool = False) -> Any:
        """A new application session over TCP."""
        ...


class Pair(Protocol):
    @property
    def source(self) -> Side: ...

    @property
    def target(self) -> Side: ...
