"""Preflight on a source with a ~1 GB table holding LOB columns finishes in <= 10 s (issue 24, item 5).

Starts a throwaway PostgreSQL 15 cluster (tools.dbservers), builds `documents` (text and bytea columns):
inline text values (uncompressed, STORAGE EXTERNAL) make a heap of --size-mb, and every 500th row has a
TOAST-ed bytea value. Then it times the source part of the preflight (`run_preflight` without a target,
what `./cutover preflight` runs first) with the default budgets, and, for comparison, the old LOB
measure: `max(octet_length(...))` over the whole table. The build takes a minute or two; it is not
part of the test suite.

    .venv/bin/python -m benchmarks.preflight_lob [--size-mb 1024] [--limit-seconds 10] [--json]

Exit status 0 when the preflight's source part took at most --limit-seconds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tap_operator.databases import PreflightOptions, parse_url, run_preflight  # noqa: E402
from tools.dbservers import postgres_server  # noqa: E402

ROW_BYTES = 1280  # inline text value per row (40 md5 strings), kept uncompressed
MARKER_DDL = "CREATE TABLE tap_migrate_cutover_marker (id varchar(64) PRIMARY KEY, written_at timestamptz NOT NULL)"
MAPPINGS = json.dumps(
    {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "all",
                "object-locator": {"schema-name": "public", "table-name": "%"},
                "rule-action": "include",
            }
        ]
    }
)


def build(server: Any, database: str, size_mb: int) -> dict[str, Any]:
    started = time.monotonic()
    server.create_database(database)
    server.execute("CREATE TABLE documents (id bigint PRIMARY KEY, body text, attachment bytea)", database)
    # EXTERNAL: no compression, so the inline values really take ROW_BYTES each and the heap has the size asked for.
    server.execute("ALTER TABLE documents ALTER COLUMN body SET STORAGE EXTERNAL", database)
    server.execute(MARKER_DDL, database)
    rows = size_mb * 1024 * 1024 // (ROW_BYTES + 60)
    batch = 100_000
    for first in range(1, rows + 1, batch):
        last = min(rows, first + batch - 1)
        server.execute(
            "INSERT INTO documents SELECT g, (SELECT string_agg(md5((g * 40 + i)::text), '') FROM generate_series(1, 40) i), "
            "CASE WHEN g %% 500 = 0 THEN decode(repeat(md5(g::text), 4096), 'hex') END "
            "FROM generate_series(%s::bigint, %s::bigint) g",
            database,
            (first, last),
        )
    server.execute("ANALYZE documents", database)
    ((heap, total),) = server.query("SELECT pg_relation_size('documents'), pg_total_relation_size('documents')", database)
    return {
        "rows": rows,
        "heap_bytes": int(heap),
        "total_bytes": int(total),
        "build_seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="heap size of the LOB table (default 1024)")
    parser.add_argument("--limit-seconds", type=float, default=10.0, help="the preflight's budget to meet (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with postgres_server() as server:
        database = "lobbench"
        built = build(server, database, args.size_mb)
        endpoint = parse_url(server.url(database))
        started = time.monotonic()
        checks = run_preflight(endpoint, None, MAPPINGS, PreflightOptions())
        preflight_seconds = time.monotonic() - started
        started = time.monotonic()
        server.query("SELECT max(octet_length(body)), max(octet_length(attachment)) FROM documents", database)
        full_scan_seconds = time.monotonic() - started
    lob = [check.to_dict() for check in checks if check.name == "lob size"]
    result = {
        **built,
        "preflight_source_seconds": round(preflight_seconds, 2),
        "old_full_scan_seconds": round(full_scan_seconds, 2),
        "limit_seconds": args.limit_seconds,
        "within_limit": preflight_seconds <= args.limit_seconds,
        "lob_size_checks": lob,
        "not_ok": [check.to_dict() for check in checks if check.verdict != "ok" and check.name != "lob size"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        heap, total = built["heap_bytes"] / 2**30, built["total_bytes"] / 2**30
        print(f"table: {built['rows']} rows, heap {heap:.2f} GiB, total {total:.2f} GiB (built in {built['build_seconds']} s)")
        print(f"preflight source part: {preflight_seconds:.2f} s (limit {args.limit_seconds} s)")
        print(f"old measure, max(octet_length) over the whole table: {full_scan_seconds:.2f} s")
        for check in lob:
            print(f"  [{check['verdict']}] lob size ({check['subject']}): {check['value']}")
    return 0 if result["within_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
