"""Build the cutover Lambda zip deterministically (same sources -> same bytes -> no spurious plan diff)."""

from __future__ import annotations

import zipfile
from pathlib import Path

FIXED_TIMESTAMP = (2020, 1, 1, 0, 0, 0)
INCLUDED_SUFFIXES = (".py", ".json", ".txt")


def build_zip(source_dir: Path, output: Path) -> Path:
    """Zip every package file under `source_dir` with fixed timestamps; only caches are skipped.

    The folder is exactly what ships: the operator's CLI and database code live in `tap_operator/`,
    outside it, so nothing is left out by name.
    """
    files = sorted(
        p
        for p in source_dir.rglob("*")
        if p.is_file()
        and p.suffix in INCLUDED_SUFFIXES
        and "__pycache__" not in p.parts
        # Tool caches (.mypy_cache, .pytest_cache, ...) hold .json files that must not ship.
        and not any(part.startswith(".") for part in p.relative_to(source_dir).parts)
    )
    if not any(p.name == "handler.py" for p in files):
        raise FileNotFoundError(f"{source_dir} holds no handler.py: the cutover Lambda sources are missing")
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source_dir).as_posix(), date_time=FIXED_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return output
