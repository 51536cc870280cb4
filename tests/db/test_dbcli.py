"""The CLI functions: exit codes 0/1/2, --json shapes, credentials from URLs or Secrets Manager, no password ever printed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import boto3
from moto import mock_aws

from tap_operator import dbcli
from tools.dbservers import free_port

from .conftest import APP_PASSWORD, PgDatabase, mappings, task_settings, write_config

ALL_PUBLIC = mappings(("public", "%", "include"))


def run(command: Callable[..., int], argv: list[str], **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = command(argv, out, err, env={}, **kwargs)
    return code, out.getvalue(), err.getvalue()


def ready_pair(pg_db: Callable[[], PgDatabase]) -> tuple[PgDatabase, PgDatabase]:
    source, target = pg_db(), pg_db()
    for database in (source, target):
        database.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text)")
        database.create_marker()
    source.execute("INSERT INTO orders (note) SELECT 'n' || g FROM generate_series(1, 10) g")
    return source, target


def assert_no_secret(*texts: str, secrets: tuple[str, ...]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text
        assert "Traceback" not in text


def test_preflight_exit_0_when_nothing_blocks_and_json_shape(tmp_path: Path, pg_db: Callable[[], PgDatabase]) -> None:
    source, target = ready_pair(pg_db)
    config = write_config(tmp_path, engine="postgres", mappings_json=ALL_PUBLIC)
    code, out, err = run(
        dbcli.preflight, ["--source-url", source.url(), "--target-url", target.url(), "--config", str(config), "--json"]
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert list(document) == ["checks"]
    assert document["checks"] and all(
        set(check) == {"name", "subject", "verdict", "value", "fix"} for check in document["checks"]
    )
    assert {check["verdict"] for check in document["checks"]} <= {"ok", "warn"}
    code, human, _ = run(dbcli.preflight, ["--source-url", source.url(), "--target-url", target.url(), "--config", str(config)])
    assert code == 0
    assert "[   OK] wal_level (source): logical" in human
    assert human.rstrip().splitlines()[-1].startswith("preflight: 0 block")
    assert_no_secret(out, human, secrets=(source.server.password,))


def test_preflight_exit_2_when_something_blocks(tmp_path: Path, pg_db: Callable[[], PgDatabase]) -> None:
    source, target = ready_pair(pg_db)
    # The repository's own task settings use batch apply, which the drain proof cannot trust.
    settings = task_settings(TargetMetadata={"BatchApplyEnabled": True})
    config = write_config(tmp_path, engine="postgres", mappings_json=ALL_PUBLIC, settings=settings)
    code, out, err = run(dbcli.preflight, ["--source-url", source.url(), "--target-url", target.url(), "--config", str(config)])
    assert code == 2, err
    assert "[BLOCK] batch apply (task settings): TargetMetadata.BatchApplyEnabled = true  -> fix: set TargetMetadata." in out


def test_usage_and_connection_errors_exit_1_with_one_clear_line(tmp_path: Path, pg_db: Callable[[], PgDatabase]) -> None:
    source, target = ready_pair(pg_db)
    config = str(write_config(tmp_path, engine="postgres", mappings_json=ALL_PUBLIC))
    to_target = ["--target-url", target.url()]
    user = source.create_app_user()
    wrong = source.url(user, "not-" + APP_PASSWORD)
    closed = f"postgresql://{user}:{quote(APP_PASSWORD, safe='')}@127.0.0.1:{free_port()}/{source.name}"
    cases = [
        (["--source-url", wrong, "--config", config], f"error: source: authentication failed for user {user} on 127.0.0.1:"),
        (["--source-url", closed, "--config", config], "error: source: cannot reach 127.0.0.1:"),
        (["--source-url", source.url().replace("postgresql", "db2"), "--config", config], "error: source URL: scheme 'db2'"),
        (["--source-url", source.url(), "--config", str(tmp_path / "none.toml")], "does not exist; set TAP_CONFIG"),
        (["--source-url", source.url(), "--config", config, "--bogus"], "error: unrecognized arguments: --bogus (see --help)"),
    ]
    for argv, message in cases:
        code, out, err = run(dbcli.preflight, [*argv, *to_target])
        assert code == 1, (argv, out, err)
        assert message in err
        assert_no_secret(out, err, secrets=(APP_PASSWORD, source.server.password, "not-" + APP_PASSWORD))
    code, _, err = run(dbcli.preflight, ["--config", config, "--outputs", str(tmp_path / "missing.json")])
    assert code == 1 and "missing.json not found: pass --source-url/--target-url" in err
    explicit = mappings(("public", "orders", "include"), ("public", "invoices", "explicit"))
    config = str(write_config(tmp_path, engine="postgres", mappings_json=explicit))
    code, _, err = run(dbcli.preflight, ["--source-url", source.url(), "--config", config, *to_target])
    assert code == 1 and "explicit table public.invoices does not exist on the source" in err


def test_credentials_from_the_stacks_secrets(tmp_path: Path, pg_db: Callable[[], PgDatabase]) -> None:
    source, target = ready_pair(pg_db)
    config = str(write_config(tmp_path, engine="postgres", mappings_json=ALL_PUBLIC))
    outputs = tmp_path / "flat-outputs.json"

    def secret_for(database: PgDatabase, **fields: object) -> str:
        body = {"username": "tap", "password": database.server.password, "host": "127.0.0.1", "port": database.server.port,
                "dbname": database.name} | fields  # fmt: skip
        return json.dumps({key: value for key, value in body.items() if value is not None})

    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        source_arn = client.create_secret(Name="tap/source", SecretString=secret_for(source))["ARN"]
        target_arn = client.create_secret(Name="tap/target", SecretString=secret_for(target))["ARN"]
        broken_arn = client.create_secret(Name="tap/broken", SecretString=secret_for(source, host=None))["ARN"]
        outputs.write_text(json.dumps({"source_secret_arns": {"onprem": source_arn}, "target_secret_arn": target_arn}))

        def session() -> boto3.session.Session:
            return boto3.session.Session(region_name="us-east-1")

        code, out, err = run(dbcli.preflight, ["--config", config, "--outputs", str(outputs)], session_factory=session)
        assert code == 0, out + err
        assert "(target): PostgreSQL 15" in out
        code, out, err = run(dbcli.sequences, ["--config", config, "--outputs", str(outputs), "--json"], session_factory=session)
        assert code == 2  # the target's orders_id_seq is behind the source's
        assert json.loads(out)["rows"][0]["name"] == '"public"."orders_id_seq"'

        outputs.write_text(json.dumps({"source_secret_arns": {"onprem": broken_arn}, "target_secret_arn": target_arn}))
        code, out, err = run(dbcli.preflight, ["--config", config, "--outputs", str(outputs)], session_factory=session)
        assert code == 1
        assert "error: source secret: field 'host' is missing or empty" in err
        assert_no_secret(out, err, secrets=(source.server.password,))


def test_sequences_check_then_sync(tmp_path: Path, pg_db: Callable[[], PgDatabase]) -> None:
    source, target = ready_pair(pg_db)
    config = str(write_config(tmp_path, engine="postgres", mappings_json=ALL_PUBLIC))
    base = ["--source-url", source.url(), "--target-url", target.url(), "--config", config]
    code, out, _ = run(dbcli.sequences, [*base, "--check"])
    assert code == 2
    assert '[DIFF] "public"."orders_id_seq": source next 11, target next 1' in out
    code, out, _ = run(dbcli.sequences, [*base, "--sync", "--gap", "50", "--json"])
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"ok", "summary", "synced", "gap", "rows"}
    assert report["rows"] == [
        {"name": '"public"."orders_id_seq"', "schema": "public", "object_name": "orders_id_seq", "source": 11,
         "target_before": 1, "target_after": 61, "ok": True, "note": "", "refusal": None, "gap": 50}
    ]  # fmt: skip
    assert run(dbcli.sequences, [*base, "--gap", "50"])[0] == 0
    code, _, err = run(dbcli.sequences, [*base, "--check", "--sync"])
    assert code == 1 and "not allowed with argument" in err
    code, _, err = run(dbcli.sequences, [*base, "--gap", "-1"])
    assert code == 1 and "--gap must be 0 or more" in err
    assert_no_secret(out, err, secrets=(source.server.password,))
