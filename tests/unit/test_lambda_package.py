"""The cutover Lambda zip: the handler and what it imports, never the operator CLI's database code."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from lib.constructs.cutover import LAMBDA_SOURCE_DIR
from lib.lambda_package import build_zip


def test_zip_ships_the_handler_without_the_database_layer(tmp_path: Path) -> None:
    archive = build_zip(LAMBDA_SOURCE_DIR, tmp_path / "cutover.zip")
    names = zipfile.ZipFile(archive).namelist()
    assert {f"tap_cutover/{module}.py" for module in ("handler", "logic", "ports", "aws", "engine", "log")} <= set(names)
    assert not [
        name
        for name in names
        if "databases/" in name or name.endswith(("dbcli.py", "writer_move.py", "reverse_dms.py", "cli.py"))
    ]
    # What ships is enough for the handler: import it from the unpacked zip alone.
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(archive).extractall(unpacked)
    probe = "import tap_cutover.handler, tap_cutover.aws, tap_cutover.engine; print('ok')"
    done = subprocess.run([sys.executable, "-c", probe], cwd=unpacked, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_zip_is_byte_identical_when_rebuilt(tmp_path: Path) -> None:
    first = build_zip(LAMBDA_SOURCE_DIR, tmp_path / "a.zip").read_bytes()
    second = build_zip(LAMBDA_SOURCE_DIR, tmp_path / "b.zip").read_bytes()
    assert first == second
