"""Remote state (issue 28 item 1): `[state]` / TAP_STATE_* pick an S3 backend, locked and KMS-encrypted; local by default.

The last test runs real Terraform against the emulator's S3 (a moto server on loopback): the stack's own
backend block initialises, and while an apply holds the state the lock object `<key>.tflock` exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lib.config import AppConfig, ConfigError, load_config
from tests.unit.conftest import BASE_CONFIG, synthesize
from tests.unit.moto_server import serve
from tools.state_bucket import bootstrap
from tools.terraform_cli import terraform_binary

S3_ENV = {"TAP_STATE_BACKEND": "s3", "TAP_STATE_BUCKET": "tap-state-bucket", "TAP_STATE_KMS_KEY_ID": "alias/tap-state"}


def _backend(config: AppConfig) -> dict[str, Any]:
    backend: dict[str, Any] = json.loads(synthesize(config))["terraform"]["backend"]
    return backend


def test_local_state_is_the_default(base_config: AppConfig) -> None:
    assert base_config.state.backend == "local"


def test_s3_state_from_the_environment_is_locked_and_encrypted() -> None:
    backend = _backend(load_config(BASE_CONFIG, env=S3_ENV))
    assert backend == {
        "s3": {
            "bucket": "tap-state-bucket",
            "key": "tap-migrate/tap-migrate-dev.tfstate",
            "region": "us-east-1",
            "encrypt": True,
            "kms_key_id": "alias/tap-state",
            "use_lockfile": True,
        }
    }


def test_s3_state_from_the_config_file(tmp_path: Path) -> None:
    text = BASE_CONFIG.read_text(encoding="utf-8").replace(
        "[deployment]",
        '[state]\nbackend = "s3"\nbucket = "team-state"\nkey = "migrations/appdb.tfstate"\nregion = "eu-west-1"\n'
        'kms_key_id = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"\n\n[deployment]',
    )
    config_file = tmp_path / "tap-migrate.toml"
    config_file.write_text(text, encoding="utf-8")  # its dms/ files resolve from the project root
    s3 = _backend(load_config(config_file, env={}))["s3"]
    assert (s3["bucket"], s3["key"], s3["region"], s3["use_lockfile"]) == (
        "team-state",
        "migrations/appdb.tfstate",
        "eu-west-1",
        True,
    )
    assert s3["kms_key_id"].endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")


@pytest.mark.parametrize(
    ("env", "field", "words"),
    [
        ({"TAP_STATE_BACKEND": "s3"}, "state.bucket", "name the state bucket"),
        ({**S3_ENV, "TAP_STATE_KMS_KEY_ID": ""}, "state.kms_key_id", "pre-shared keys"),
        ({**S3_ENV, "TAP_STATE_KMS_KEY_ID": "my-key"}, "state.kms_key_id", "KMS key ARN or alias"),
        ({**S3_ENV, "TAP_STATE_BUCKET": "Team_State"}, "TAP_STATE_BUCKET", "lowercase"),
        ({**S3_ENV, "TAP_STATE_KEY": "/abs.tfstate"}, "TAP_STATE_KEY", "relative object key"),
        ({**S3_ENV, "TAP_STATE_REGION": "us-moon-1"}, "TAP_STATE_REGION", "not an AWS region"),
        ({"TAP_STATE_BACKEND": "gcs"}, "TAP_STATE_BACKEND", "must be 'local' or 's3'"),
        ({"TAP_STATE_BUCKET": "tap-state-bucket"}, "state.backend", '"local" uses no'),
    ],
)
def test_a_bad_state_setting_names_its_field_and_fix(env: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(BASE_CONFIG, env=env)
    assert any(field in problem and words in problem for problem in raised.value.problems), raised.value.problems


@pytest.fixture
def moto_clients() -> Iterator[Callable[[str], Any]]:
    with mock_aws():
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
        yield lambda service: session.client(service, region_name="eu-west-1")


def test_the_bootstrap_makes_a_versioned_encrypted_private_tls_only_bucket_and_reruns(
    moto_clients: Callable[[str], Any],
) -> None:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    first = bootstrap(session, "team-state", "eu-west-1", "alias/team-state")
    assert first.created == ("KMS key alias/team-state (rotation on)", "bucket team-state")
    s3 = moto_clients("s3")
    assert s3.get_bucket_versioning(Bucket="team-state")["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket="team-state")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": first.kms_key_arn}
    assert all(s3.get_public_access_block(Bucket="team-state")["PublicAccessBlockConfiguration"].values())
    policy = json.loads(s3.get_bucket_policy(Bucket="team-state")["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert moto_clients("kms").get_key_rotation_status(KeyId=first.kms_key_arn)["KeyRotationEnabled"]
    again = bootstrap(session, "team-state", "eu-west-1", "alias/team-state")
    assert again.created == () and again.kms_key_arn == first.kms_key_arn
    assert 'kms_key_id = "alias/team-state"' in again.config_lines()


@pytest.mark.terraform
def test_terraform_locks_the_stacks_s3_state_with_a_lock_object(tmp_path: Path) -> None:
    endpoint = next(serve_iter := serve())
    try:
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        # Plain HTTP on loopback: the TLS-only bucket policy would refuse every request there.
        bootstrap(session, "tap-state-bucket", "us-east-1", "alias/tap-state", endpoint_url=endpoint, require_tls=False)
        config = load_config(BASE_CONFIG, env={**S3_ENV, "TAP_TARGET": "emulator", "TAP_EMULATOR_ENDPOINT": endpoint})
        backend = _backend(config)
        assert backend["s3"]["endpoints"] == {"s3": endpoint} and backend["s3"]["use_lockfile"] is True
        # The stack's own backend block, with one resource that holds the lock for a few seconds while applying.
        document = {
            "terraform": {"backend": backend},
            "resource": {"terraform_data": {"hold": {"provisioner": [{"local-exec": {"command": "sleep 4"}}]}}},
        }
        (tmp_path / "main.tf.json").write_text(json.dumps(document), encoding="utf-8")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "TF_IN_AUTOMATION": "1"}
        terraform = terraform_binary(env)
        run: dict[str, Any] = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True}
        init = subprocess.run([terraform, "init", "-input=false", "-no-color"], check=False, **run)
        assert init.returncode == 0, init.stdout + init.stderr
        s3 = session.client("s3", region_name="us-east-1", endpoint_url=endpoint)
        lock_key = f"{backend['s3']['key']}.tflock"
        seen: list[str] = []

        def watch() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not seen:
                listed = s3.list_objects_v2(Bucket="tap-state-bucket").get("Contents", [])
                seen.extend(item["Key"] for item in listed if item["Key"] == lock_key)
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        apply = subprocess.run([terraform, "apply", "-auto-approve", "-input=false", "-no-color"], check=False, **run)
        watcher.join(timeout=70)
        assert apply.returncode == 0, apply.stdout + apply.stderr
        assert seen == [lock_key], "no lock object appeared while terraform held the state"
        remaining = {item["Key"] for item in s3.list_objects_v2(Bucket="tap-state-bucket").get("Contents", [])}
        assert remaining == {backend["s3"]["key"]}  # the state is there and the lock is released
        head = s3.head_object(Bucket="tap-state-bucket", Key=backend["s3"]["key"])
        assert head["ServerSideEncryption"] == "aws:kms"
    finally:
        next(serve_iter, None)
