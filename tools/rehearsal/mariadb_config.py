"""The configuration the operator CLI reads during a MariaDB rehearsal: a MariaDB source and an Aurora MySQL target.

The CLI takes its database family from the URLs and refuses a MySQL URL against a configuration whose
source is PostgreSQL (the repository's default); its preflight and its table selection also read the
task's mappings, whose schema on MySQL/MariaDB is the database. So the rehearsal writes, into a temporary
folder removed at the end, the repository's configuration with the source engine `mariadb`, the target
`aurora_mysql`, and mappings that select every table of the application database. The deployed stack on
the emulator stays as it is: the cutover engine (the Lambda) judges DNS records, metrics, the DMS task
state and the cutover state, none of which depends on the source engine.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lib.config import PROJECT_ROOT

REPOSITORY_CONFIG = PROJECT_ROOT / "config" / "tap-migrate.toml"
MARIADB_VERSION = "10.11"
# What the rehearsal's config changes in the repository's: (text, replacement), each found exactly once.
_SWAPS: tuple[tuple[str, str], ...] = (
    ('engine = "postgres"', 'engine = "mariadb"'),
    ('engine_version = "15"', f'engine_version = "{MARIADB_VERSION}"'),
    ('kind = "aurora_postgresql"', 'kind = "aurora_mysql"'),
    ('engine_version = "15.10"', 'engine_version = ""'),
    ('table_mappings_file = "dms/table-mappings.json"', "table_mappings_file = {mappings}"),
)


def mappings_json(database: str) -> str:
    """Every table of `database` (on MySQL/MariaDB the mappings' schema is the database)."""
    rule = {
        "rule-type": "selection",
        "rule-id": "1",
        "rule-name": f"include-{database}",
        "object-locator": {"schema-name": database, "table-name": "%"},
        "rule-action": "include",
    }
    return json.dumps({"rules": [rule]}, indent=2)


def config_text(template: str, mappings_path: Path) -> str:
    """The repository's configuration text turned into the MariaDB rehearsal's; raises ValueError if it changed shape."""
    text = template
    for old, new in _SWAPS:
        if text.count(old) != 1:
            raise ValueError(f"{REPOSITORY_CONFIG} no longer has exactly one `{old}`: update tools/rehearsal/mariadb_config.py")
        text = text.replace(old, new.format(mappings=json.dumps(str(mappings_path))))
    return text


@contextlib.contextmanager
def operator_config(database: str) -> Iterator[Path]:
    """A temporary tap-migrate.toml for the MariaDB rehearsal's CLI commands; removed when the block exits."""
    folder = Path(tempfile.mkdtemp(prefix="tap-rehearsal-mariadb-"))
    try:
        mappings = folder / "table-mappings.json"
        mappings.write_text(mappings_json(database) + "\n", encoding="utf-8")
        path = folder / "tap-migrate.toml"
        path.write_text(config_text(REPOSITORY_CONFIG.read_text(encoding="utf-8"), mappings), encoding="utf-8")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
