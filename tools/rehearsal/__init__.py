"""A migration rehearsal on real PostgreSQL (or MariaDB) with live writes (issues 14, 26).

    python -m tools.rehearsal [--engine postgres|mariadb] [--duration S] [--rate N] [--rows N] [--rollback]
                              [--break-replication] [--json] [--dns-clients N] [--out DIR] [--png PATH | --no-png]

Two throwaway PostgreSQL 15 clusters on loopback play the on-premises source and the Aurora target;
native logical replication stands in for AWS DMS (full load + CDC) and its measured lag is published
as the task's AWS/DMS CDCLatencySource / CDCLatencyTarget in the emulator. Application threads
resolve reader.<domain> / writer.<domain> through the emulator's weighted Route 53 records, write and
read at a steady rate (reads through 20 DNS clients, each with its own cache), and log every
acknowledged commit. The real cutover engine is ticked in-process and the operator CLI moves the
writer (fence, marker drain, sequence sync, flip). The verdicts check
that no acknowledged write was lost or duplicated; report.json and timeline.png are written to
.rehearsal/<UTC time>-<mode>/. With --engine mariadb, two MariaDB servers with GTID replication play
the same parts (engines.py is the seam). See docs/rehearsal.md.
"""

from __future__ import annotations
