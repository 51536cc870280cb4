"""`./tap init`: a config of one's own that validates and synthesizes from its own folder."""

from __future__ import annotations

import io
import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from lib.config import PROJECT_ROOT, load_config
from lib.constants import MARKER_TABLE
from tap_operator import init
from tests.unit.conftest import synthesize

FLAGS = ["--host", "pg.corp.example.com", "--database", "appdb", "--source-cidr", "10.1.0.0/16"]


def _rules(folder: Path) -> list[dict[str, object]]:
    return list(json.loads((folder / init.MAPPINGS_NAME).read_text())["rules"])


def test_the_written_config_synthesizes_and_its_mappings_hold_the_marker(tmp_path: Path) -> None:
    folder = tmp_path / "my-migration"
    assert init.main([str(folder), *FLAGS, "--tables", "sales.order%,customers"], stdin=io.StringIO()) == 0
    config = load_config(folder / init.CONFIG_NAME, env={})
    assert config.cutover is not None and config.cutover.enabled
    locators = [rule["object-locator"] for rule in _rules(folder)]
    assert locators == [
        {"schema-name": "sales", "table-name": "order%"},
        {"schema-name": "public", "table-name": "customers"},
        {"schema-name": "public", "table-name": MARKER_TABLE},
    ]
    stack = json.loads(synthesize(config))
    assert stack["resource"]["aws_dms_replication_task"]


def test_the_schema_line_points_at_the_schema_from_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "er"
    init.main([str(folder), *FLAGS], stdin=io.StringIO())
    first = (folder / init.CONFIG_NAME).read_text().splitlines()[0]
    assert first.startswith("#:schema ")
    assert (folder / first.removeprefix("#:schema ")).resolve() == (PROJECT_ROOT / "config" / "tap-migrate.schema.json")


def test_a_mysql_source_gets_aurora_mysql_and_the_marker_in_its_database(tmp_path: Path) -> None:
    init.main([str(tmp_path), "--engine", "mariadb", *FLAGS], stdin=io.StringIO())
    parsed = tomllib.loads((tmp_path / init.CONFIG_NAME).read_text())
    assert parsed["targets"]["aurora"]["kind"] == "aurora_mysql" and parsed["sources"]["source"]["port"] == 3306
    assert [rule["object-locator"] for rule in _rules(tmp_path)][-1] == {"schema-name": "appdb", "table-name": MARKER_TABLE}
    load_config(tmp_path / init.CONFIG_NAME, env={})


def test_without_a_terminal_it_names_the_missing_flags_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init.main([str(tmp_path / "x"), "--host", "h.example.com"], stdin=io.StringIO()) == 1
    assert "give --database, --source-cidr" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_bad_answer_is_refused_with_the_field_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ["--host", "10.1.2.3", "--database", "appdb", "--source-cidr", "not-a-cidr"]
    assert init.main([str(tmp_path / "y"), *bad], stdin=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "sources.source.cidr_blocks" in err
    assert not (tmp_path / "y").exists()


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    assert init.main([str(tmp_path), *FLAGS], stdin=io.StringIO()) == 0
    (tmp_path / init.CONFIG_NAME).write_text("# mine\n")
    assert init.main([str(tmp_path), *FLAGS], stdin=io.StringIO()) == 1
    assert (tmp_path / init.CONFIG_NAME).read_text() == "# mine\n"
    assert init.main([str(tmp_path), *FLAGS, "--force"], stdin=io.StringIO()) == 0


def test_on_a_terminal_it_asks_for_what_is_missing(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = Terminal("postgres\npg.example.com\nappdb\n\n10.9.0.0/16\n")
    out = io.StringIO()
    assert init.main([str(tmp_path)], stdin=answers, out=out) == 0
    assert "source host" in out.getvalue() and "wrote" in out.getvalue()
    assert _rules(tmp_path)[0]["object-locator"] == {"schema-name": "public", "table-name": "%"}


def test_tap_init_runs_from_the_wrapper(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(PROJECT_ROOT / "tap"), "init", str(tmp_path / "w"), *FLAGS],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "w" / init.CONFIG_NAME).is_file()


@pytest.mark.parametrize(("folder", "name"), [("my_migration", "my-migration"), ("w", "tap-migrate"), ("9lives", "tap-migrate")])
def test_the_project_name_comes_from_the_folder_when_it_can(tmp_path: Path, folder: str, name: str) -> None:
    assert init.project_name_from(tmp_path / folder) == name
